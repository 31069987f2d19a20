package io.evalfleet.common.contract;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The verdict on one staged event: exactly one per event id. Published on {@code
 * evalfleet.drift-flags}, keyed by model name.
 *
 * @param baselineVersion the version compared with; absent when there was none
 * @param metrics the metric vector, by metric name
 * @param reasons why the flag is what it is, in words a reviewer understands
 * @param coverage how many shards and rows were scored
 * @param executionProviders the execution providers that scored the run's shards
 * @param policyVersion the decision policy that set the flag
 * @param changeKind what kind of change the version was judged as (the reasons say where that came
 *     from); absent for flags not decided against a baseline's scores
 * @param lockfile where the evaluation lockfile of this version was written
 * @param review where the version is reviewed, as its staged event named it (absent when it did
 *     not)
 * @param sequential under a sequential policy: where in the run's seeded row order it stopped, and
 *     why; absent under a fixed-sample policy
 * @param signingKeyId the id of the key the dispatcher signed this flag with (the same as the
 *     record's {@code evalfleet.signing-key} header, inside the signed bytes); absent when unsigned
 */
public record DriftFlag(
    Integer schemaVersion,
    String runId,
    String eventId,
    String model,
    String version,
    String baselineVersion,
    Flag flag,
    Map<String, MetricValue> metrics,
    List<String> reasons,
    Coverage coverage,
    List<String> executionProviders,
    Instant stagedAt,
    Instant decidedAt,
    Long durationMs,
    String policyVersion,
    ChangeKind changeKind,
    String lockfile,
    ReviewRef review,
    SequentialDecision sequential,
    String signingKeyId) {

  public DriftFlag {
    Checks.schemaVersion(schemaVersion);
    Checks.required(flag, "flag");
    metrics = metrics == null ? Map.of() : Map.copyOf(new TreeMap<>(metrics));
    reasons = reasons == null ? List.of() : List.copyOf(reasons);
    executionProviders = executionProviders == null ? List.of() : List.copyOf(executionProviders);
  }

  /**
   * A new {@code DriftFlag}, set by component name; {@link Builder#build()} runs the constructor's
   * checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this DriftFlag's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.schemaVersion = schemaVersion;
    builder.runId = runId;
    builder.eventId = eventId;
    builder.model = model;
    builder.version = version;
    builder.baselineVersion = baselineVersion;
    builder.flag = flag;
    builder.metrics = metrics;
    builder.reasons = reasons;
    builder.coverage = coverage;
    builder.executionProviders = executionProviders;
    builder.stagedAt = stagedAt;
    builder.decidedAt = decidedAt;
    builder.durationMs = durationMs;
    builder.policyVersion = policyVersion;
    builder.changeKind = changeKind;
    builder.lockfile = lockfile;
    builder.review = review;
    builder.sequential = sequential;
    builder.signingKeyId = signingKeyId;
    return builder;
  }

  /**
   * Builds a {@link DriftFlag}; a component left unset is null (0 or false for a primitive), except
   * {@code schemaVersion}, which defaults to {@link SchemaVersion#CURRENT}.
   */
  public static final class Builder {
    private Integer schemaVersion = SchemaVersion.CURRENT;
    private String runId;
    private String eventId;
    private String model;
    private String version;
    private String baselineVersion;
    private Flag flag;
    private Map<String, MetricValue> metrics;
    private List<String> reasons;
    private Coverage coverage;
    private List<String> executionProviders;
    private Instant stagedAt;
    private Instant decidedAt;
    private Long durationMs;
    private String policyVersion;
    private ChangeKind changeKind;
    private String lockfile;
    private ReviewRef review;
    private SequentialDecision sequential;
    private String signingKeyId;

    private Builder() {}

    public Builder schemaVersion(Integer schemaVersion) {
      this.schemaVersion = schemaVersion;
      return this;
    }

    public Builder runId(String runId) {
      this.runId = runId;
      return this;
    }

    public Builder eventId(String eventId) {
      this.eventId = eventId;
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

    public Builder baselineVersion(String baselineVersion) {
      this.baselineVersion = baselineVersion;
      return this;
    }

    public Builder flag(Flag flag) {
      this.flag = flag;
      return this;
    }

    public Builder metrics(Map<String, MetricValue> metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder reasons(List<String> reasons) {
      this.reasons = reasons;
      return this;
    }

    public Builder coverage(Coverage coverage) {
      this.coverage = coverage;
      return this;
    }

    public Builder executionProviders(List<String> executionProviders) {
      this.executionProviders = executionProviders;
      return this;
    }

    public Builder stagedAt(Instant stagedAt) {
      this.stagedAt = stagedAt;
      return this;
    }

    public Builder decidedAt(Instant decidedAt) {
      this.decidedAt = decidedAt;
      return this;
    }

    public Builder durationMs(Long durationMs) {
      this.durationMs = durationMs;
      return this;
    }

    public Builder policyVersion(String policyVersion) {
      this.policyVersion = policyVersion;
      return this;
    }

    public Builder changeKind(ChangeKind changeKind) {
      this.changeKind = changeKind;
      return this;
    }

    public Builder lockfile(String lockfile) {
      this.lockfile = lockfile;
      return this;
    }

    public Builder review(ReviewRef review) {
      this.review = review;
      return this;
    }

    public Builder sequential(SequentialDecision sequential) {
      this.sequential = sequential;
      return this;
    }

    public Builder signingKeyId(String signingKeyId) {
      this.signingKeyId = signingKeyId;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public DriftFlag build() {
      return new DriftFlag(
          schemaVersion,
          runId,
          eventId,
          model,
          version,
          baselineVersion,
          flag,
          metrics,
          reasons,
          coverage,
          executionProviders,
          stagedAt,
          decidedAt,
          durationMs,
          policyVersion,
          changeKind,
          lockfile,
          review,
          sequential,
          signingKeyId);
    }
  }
}
