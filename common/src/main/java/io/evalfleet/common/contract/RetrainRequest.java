package io.evalfleet.common.contract;

import java.time.Instant;
import java.util.Map;

/**
 * A request to retrain a production model, published by the monitor on {@code
 * evalfleet.retrain-requests} (keyed by cause id) exactly once per cause: a drift episode on its
 * traffic, or its retraining cadence expiring.
 *
 * @param causeId {@code <model>:drift:<episode start>} or {@code <model>:cadence:<period>}
 * @param cause {@code drift} or {@code cadence}
 * @param metrics the evidence in numbers (for drift: {@code mmd2}, {@code p_value}, {@code alpha})
 * @param windowStart the window that raised the cause (the first drifted one; the current one for
 *     cadence)
 * @param subset the golden subset to rebuild from fresh traffic before retraining, when configured
 */
public record RetrainRequest(
    Integer schemaVersion,
    String causeId,
    String model,
    String version,
    String cause,
    String evidence,
    Map<String, Double> metrics,
    Instant windowStart,
    Instant windowEnd,
    String subset,
    Instant requestedAt) {

  public RetrainRequest {
    Checks.schemaVersion(schemaVersion);
    Checks.requiredText(causeId, "cause_id");
    Checks.identifier(model, "model");
    metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
  }

  /**
   * A new {@code RetrainRequest}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this RetrainRequest's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.schemaVersion = schemaVersion;
    builder.causeId = causeId;
    builder.model = model;
    builder.version = version;
    builder.cause = cause;
    builder.evidence = evidence;
    builder.metrics = metrics;
    builder.windowStart = windowStart;
    builder.windowEnd = windowEnd;
    builder.subset = subset;
    builder.requestedAt = requestedAt;
    return builder;
  }

  /**
   * Builds a {@link RetrainRequest}; a component left unset is null (0 or false for a primitive),
   * except {@code schemaVersion}, which defaults to {@link SchemaVersion#CURRENT}.
   */
  public static final class Builder {
    private Integer schemaVersion = SchemaVersion.CURRENT;
    private String causeId;
    private String model;
    private String version;
    private String cause;
    private String evidence;
    private Map<String, Double> metrics;
    private Instant windowStart;
    private Instant windowEnd;
    private String subset;
    private Instant requestedAt;

    private Builder() {}

    public Builder schemaVersion(Integer schemaVersion) {
      this.schemaVersion = schemaVersion;
      return this;
    }

    public Builder causeId(String causeId) {
      this.causeId = causeId;
      return this;
    }

    public Builder model(String model) {
      this.model = model;
      return this;
    }

    public Builder version(String version) {
      this.version = version;
      return this;
    }

    public Builder cause(String cause) {
      this.cause = cause;
      return this;
    }

    public Builder evidence(String evidence) {
      this.evidence = evidence;
      return this;
    }

    public Builder metrics(Map<String, Double> metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder windowStart(Instant windowStart) {
      this.windowStart = windowStart;
      return this;
    }

    public Builder windowEnd(Instant windowEnd) {
      this.windowEnd = windowEnd;
      return this;
    }

    public Builder subset(String subset) {
      this.subset = subset;
      return this;
    }

    public Builder requestedAt(Instant requestedAt) {
      this.requestedAt = requestedAt;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public RetrainRequest build() {
      return new RetrainRequest(
          schemaVersion,
          causeId,
          model,
          version,
          cause,
          evidence,
          metrics,
          windowStart,
          windowEnd,
          subset,
          requestedAt);
    }
  }
}
