package io.evalfleet.common.archive;

import io.evalfleet.common.contract.Checks;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.ScoringEnvelope;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The A/A noise floor of one model on one hardware profile: the same weights scored on the same
 * golden rows under several envelopes (batch shapes, intra-op threads, deterministic compute), and
 * how far their values spread. Kept in the archive under {@code noise-floor/<artifact
 * sha256>/<profile>.json} by {@code evalfleet noise-floor}; a decision reads it to tell a margin
 * that noise alone can cross.
 *
 * @param model the model's name, as given when it was measured (may be null)
 * @param artifactSha256 the model file's digest: the floor belongs to these weights
 * @param profile the hardware profile ({@link ScoringEnvelope#profile()}) the envelopes share
 * @param task the task it was scored as, e.g. {@code embedding}
 * @param subsetSha256 the golden subset's digest
 * @param rows how many rows each envelope scored
 * @param measuredAt when
 * @param envelopes the envelopes scored, in order; the first is the reference the per-row changes
 *     are taken against
 * @param metrics per run metric, its value under each envelope and their spread
 * @param rowValues per per-row value, how far a row moved from the reference envelope
 */
public record NoiseFloorRecord(
    String model,
    String artifactSha256,
    String profile,
    String task,
    String subsetSha256,
    long rows,
    Instant measuredAt,
    List<ScoringEnvelope> envelopes,
    Map<String, MetricSpread> metrics,
    Map<String, RowSpread> rowValues) {

  public NoiseFloorRecord {
    Checks.sha256(artifactSha256, "artifact_sha256");
    Checks.requiredText(profile, "profile");
    envelopes = envelopes == null ? List.of() : List.copyOf(envelopes);
    if (envelopes.size() < 2) {
      throw new ContractViolation(
          "envelopes", "a noise floor compares at least two envelopes, got " + envelopes.size());
    }
    metrics = metrics == null ? Map.of() : Map.copyOf(new TreeMap<>(metrics));
    rowValues = rowValues == null ? Map.of() : Map.copyOf(new TreeMap<>(rowValues));
  }

  /**
   * A run metric under each envelope.
   *
   * @param values its value under each envelope, in the record's envelope order
   * @param spread max − min of the values
   * @param relativeSpread {@code spread} over |the reference envelope's value|; null when that is
   *     0. Comparable with a policy's relative margin.
   */
  public record MetricSpread(List<Double> values, double spread, Double relativeSpread) {
    public MetricSpread {
      values = List.copyOf(values);
    }

    /** The spread of {@code values} (the first is the reference). */
    public static MetricSpread of(List<Double> values) {
      double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
      double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
      double reference = values.isEmpty() ? 0 : Math.abs(values.get(0));
      return new MetricSpread(values, max - min, reference == 0 ? null : (max - min) / reference);
    }
  }

  /**
   * How far one per-row value moved: over every envelope and row, |value − the reference envelope's
   * value of the same row|.
   *
   * @param maxAbsDelta the largest
   * @param p99AbsDelta the 99th percentile of each envelope's per-row |Δ|, the largest over
   *     envelopes
   */
  public record RowSpread(double maxAbsDelta, double p99AbsDelta) {}

  /** A new {@code NoiseFloorRecord}, set by component name. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this record's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.model = model;
    builder.artifactSha256 = artifactSha256;
    builder.profile = profile;
    builder.task = task;
    builder.subsetSha256 = subsetSha256;
    builder.rows = rows;
    builder.measuredAt = measuredAt;
    builder.envelopes = envelopes;
    builder.metrics = metrics;
    builder.rowValues = rowValues;
    return builder;
  }

  /** Builds a {@link NoiseFloorRecord}; a component left unset is null (0 for the row count). */
  public static final class Builder {
    private String model;
    private String artifactSha256;
    private String profile;
    private String task;
    private String subsetSha256;
    private long rows;
    private Instant measuredAt;
    private List<ScoringEnvelope> envelopes;
    private Map<String, MetricSpread> metrics;
    private Map<String, RowSpread> rowValues;

    private Builder() {}

    public Builder model(String model) {
      this.model = model;
      return this;
    }

    public Builder artifactSha256(String artifactSha256) {
      this.artifactSha256 = artifactSha256;
      return this;
    }

    public Builder profile(String profile) {
      this.profile = profile;
      return this;
    }

    public Builder task(String task) {
      this.task = task;
      return this;
    }

    public Builder subsetSha256(String subsetSha256) {
      this.subsetSha256 = subsetSha256;
      return this;
    }

    public Builder rows(long rows) {
      this.rows = rows;
      return this;
    }

    public Builder measuredAt(Instant measuredAt) {
      this.measuredAt = measuredAt;
      return this;
    }

    public Builder envelopes(List<ScoringEnvelope> envelopes) {
      this.envelopes = envelopes;
      return this;
    }

    public Builder metrics(Map<String, MetricSpread> metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder rowValues(Map<String, RowSpread> rowValues) {
      this.rowValues = rowValues;
      return this;
    }

    /**
     * @throws ContractViolation when the digest is not a SHA-256, the profile is missing or fewer
     *     than two envelopes were scored
     */
    public NoiseFloorRecord build() {
      return new NoiseFloorRecord(
          model,
          artifactSha256,
          profile,
          task,
          subsetSha256,
          rows,
          measuredAt,
          envelopes,
          metrics,
          rowValues);
    }
  }
}
