package io.evalfleet.dispatcher.decision;

/**
 * A two-sided percentile bootstrap interval of a relative change.
 *
 * @param low lower bound, (candidate − baseline)/|baseline|
 * @param high upper bound
 * @param confidence its confidence level, already corrected for the number of gating metrics
 */
public record Interval(double low, double high, double confidence) {}
