package io.evalfleet.dispatcher.decision;

/**
 * One one-sided bootstrap test of a metric.
 *
 * @param pValue the raw bootstrap p-value, (1 + #resamples supporting H0)/(1 + resamples), never 0
 * @param adjustedPValue after the policy's multiple-comparison correction (equal to {@code pValue}
 *     for a non-gating metric, which is tested alone)
 * @param significant whether {@code adjustedPValue} ≤ α
 */
public record SignificanceTest(double pValue, double adjustedPValue, boolean significant) {}
