package io.evalfleet.dispatcher.decision;

/**
 * How much data a metric rests on.
 *
 * @param rows golden rows, resampled as units
 * @param tokens scored tokens, for perplexity (pooled over tokens); null otherwise
 * @param bytes text bytes, for bits per byte; null otherwise
 */
public record SampleSize(long rows, Long tokens, Long bytes) {}
