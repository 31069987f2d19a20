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
 * @param ciLow lower bound of the paired bootstrap confidence interval of {@code relativeDelta};
 *     for a metric judged against a {@code limit}, of the value itself
 * @param ciHigh upper bound
 * @param ciConfidence the interval's confidence level, corrected for the number of gating metrics
 * @param margin the non-inferiority margin: the relative change in the bad direction the policy
 *     tolerates
 * @param gating whether this metric's status counts towards the flag
 * @param pValue the multiple-comparison-adjusted p-value of the test that decided the status
 *     (degradation beyond the margin for RED, non-inferiority otherwise)
 * @param bandLow lower end of the production band (mean − k·σ of recent production snapshots)
 * @param bandHigh upper end
 * @param status GREEN, WARN or RED for this metric alone; absent without a baseline
 * @param evidence the decision in one sentence a promotion reviewer understands
 * @param limit for a metric judged on its own value (the token shift), the bound it must not pass
 *     in its bad direction; then {@code baseline}, {@code delta} and {@code margin} are absent
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

  /** A value with nothing to compare it with. */
  public static MetricValue alone(double value, long n, String direction) {
    return builder().value(value).n(n).direction(direction).build();
  }

  /**
   * A new {@code MetricValue}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this MetricValue's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.value = value;
    builder.n = n;
    builder.direction = direction;
    builder.baseline = baseline;
    builder.delta = delta;
    builder.relativeDelta = relativeDelta;
    builder.ciLow = ciLow;
    builder.ciHigh = ciHigh;
    builder.ciConfidence = ciConfidence;
    builder.margin = margin;
    builder.gating = gating;
    builder.pValue = pValue;
    builder.bandLow = bandLow;
    builder.bandHigh = bandHigh;
    builder.status = status;
    builder.evidence = evidence;
    builder.limit = limit;
    return builder;
  }

  /** Builds a {@link MetricValue}; a component left unset is null (0 or false for a primitive). */
  public static final class Builder {
    private double value;
    private long n;
    private String direction;
    private Double baseline;
    private Double delta;
    private Double relativeDelta;
    private Double ciLow;
    private Double ciHigh;
    private Double ciConfidence;
    private Double margin;
    private Boolean gating;
    private Double pValue;
    private Double bandLow;
    private Double bandHigh;
    private Flag status;
    private String evidence;
    private Double limit;

    private Builder() {}

    public Builder value(double value) {
      this.value = value;
      return this;
    }

    public Builder n(long n) {
      this.n = n;
      return this;
    }

    public Builder direction(String direction) {
      this.direction = direction;
      return this;
    }

    public Builder baseline(Double baseline) {
      this.baseline = baseline;
      return this;
    }

    public Builder delta(Double delta) {
      this.delta = delta;
      return this;
    }

    public Builder relativeDelta(Double relativeDelta) {
      this.relativeDelta = relativeDelta;
      return this;
    }

    public Builder ciLow(Double ciLow) {
      this.ciLow = ciLow;
      return this;
    }

    public Builder ciHigh(Double ciHigh) {
      this.ciHigh = ciHigh;
      return this;
    }

    public Builder ciConfidence(Double ciConfidence) {
      this.ciConfidence = ciConfidence;
      return this;
    }

    public Builder margin(Double margin) {
      this.margin = margin;
      return this;
    }

    public Builder gating(Boolean gating) {
      this.gating = gating;
      return this;
    }

    public Builder pValue(Double pValue) {
      this.pValue = pValue;
      return this;
    }

    public Builder bandLow(Double bandLow) {
      this.bandLow = bandLow;
      return this;
    }

    public Builder bandHigh(Double bandHigh) {
      this.bandHigh = bandHigh;
      return this;
    }

    public Builder status(Flag status) {
      this.status = status;
      return this;
    }

    public Builder evidence(String evidence) {
      this.evidence = evidence;
      return this;
    }

    public Builder limit(Double limit) {
      this.limit = limit;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public MetricValue build() {
      return new MetricValue(
          value,
          n,
          direction,
          baseline,
          delta,
          relativeDelta,
          ciLow,
          ciHigh,
          ciConfidence,
          margin,
          gating,
          pValue,
          bandLow,
          bandHigh,
          status,
          evidence,
          limit);
    }
  }
}
