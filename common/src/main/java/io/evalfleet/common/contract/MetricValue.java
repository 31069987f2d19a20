package io.evalfleet.common.contract;

/**
 * One entry of a run's metric vector and, against a baseline, the decision on it with its evidence.
 *
 * @param value the candidate's value
 * @param n how many golden rows it is computed over
 * @param direction {@code higher_is_better}, {@code lower_is_better} or {@code two_sided}
 * @param baseline the baseline's value on the same rows, when there is a baseline
 * @param delta {@code value - baseline}
 * @param relativeDelta {@code delta / |baseline|}
 * @param ciLow lower bound of the paired bootstrap confidence interval of {@code relativeDelta}; for a
 *     metric judged against a {@code limit}, of the value itself
 * @param ciHigh upper bound
 * @param ciConfidence the interval's confidence level, corrected for the number of gating metrics
 * @param margin the non-inferiority margin: the relative change in the bad direction the policy tolerates
 * @param gating whether this metric's status counts towards the flag
 * @param pValue the multiple-comparison-adjusted p-value of the test that decided the status
 *     (degradation beyond the margin for RED, non-inferiority otherwise)
 * @param bandLow lower end of the production band (mean − k·σ of recent production snapshots)
 * @param bandHigh upper end
 * @param status GREEN, WARN or RED for this metric alone; absent without a baseline
 * @param evidence the decision in one sentence a promotion reviewer understands
 * @param limit for a metric judged on its own value (the token shift), the bound it must not pass in
 *     its bad direction; then {@code baseline}, {@code delta} and {@code margin} are absent
 */
public record MetricValue(
    double value,
    long n,
    String direction,
    Double baseline,
    Double delta,
    Double relativeDelta,
    Double ciLow,
    Double ciHigh,
    Double ciConfidence,
    Double margin,
    Boolean gating,
    Double pValue,
    Double bandLow,
    Double bandHigh,
    Flag status,
    String evidence,
    Double limit) {

  /** A metric compared with its baseline (or with nothing). */
  public MetricValue(double value, long n, String direction, Double baseline, Double delta, Double relativeDelta,
      Double ciLow, Double ciHigh, Double ciConfidence, Double margin, Boolean gating, Double pValue, Double bandLow,
      Double bandHigh, Flag status, String evidence) {
    this(value, n, direction, baseline, delta, relativeDelta, ciLow, ciHigh, ciConfidence, margin, gating, pValue,
        bandLow, bandHigh, status, evidence, null);
  }

  /** A value with nothing to compare it with. */
  public static MetricValue alone(double value, long n, String direction) {
    return new MetricValue(value, n, direction, null, null, null, null, null, null, null, null, null, null, null, null,
        null);
  }
}
