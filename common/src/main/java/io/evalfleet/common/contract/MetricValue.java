package io.evalfleet.common.contract;

/**
 * One entry of a run's metric vector, compared with the baseline.
 *
 * @param value the candidate's value
 * @param n how many rows it is computed over
 * @param direction {@code higher_is_better}, {@code lower_is_better} or {@code two_sided}
 * @param baseline the baseline's value, when there is a baseline
 * @param delta {@code value - baseline}
 * @param relativeDelta {@code delta / |baseline|}
 * @param warnAt the relative change in the bad direction from which the metric warns
 * @param redAt the relative change in the bad direction from which the metric is red
 * @param status GREEN, WARN or RED for this metric alone; absent without a baseline
 */
public record MetricValue(
    double value,
    long n,
    String direction,
    Double baseline,
    Double delta,
    Double relativeDelta,
    Double warnAt,
    Double redAt,
    Flag status) {}
