package io.evalfleet.common.contract;

import java.time.Instant;
import java.util.OptionalLong;

/**
 * How far a run has come, published by the dispatcher on {@code evalfleet.run-progress} (keyed by
 * model name) when its run is planned and at most about once a second while results arrive. Several
 * records may describe one state; the last one per run id is the newest.
 *
 * @param shardsDone shards scored (or failed for good) of {@code shardsTotal}
 * @param rowsScored golden rows in those shards, of {@code rowsTotal}
 * @param rowsPerSecond rows scored per second since this dispatcher began following the run
 * @param at when the dispatcher measured it
 */
public record RunProgress(
    Integer schemaVersion,
    String runId,
    String eventId,
    String model,
    String version,
    int shardsDone,
    int shardsTotal,
    long rowsScored,
    long rowsTotal,
    double rowsPerSecond,
    Instant stagedAt,
    Instant at) {

  public RunProgress {
    Checks.schemaVersion(schemaVersion);
    Checks.requiredText(runId, "run_id");
  }

  public boolean complete() {
    return shardsTotal > 0 && shardsDone >= shardsTotal;
  }

  /** Seconds until every row is scored at the current rate; empty when it cannot be told. */
  public OptionalLong etaSeconds() {
    if (rowsPerSecond <= 0 || rowsScored >= rowsTotal) {
      return rowsScored >= rowsTotal ? OptionalLong.of(0) : OptionalLong.empty();
    }
    return OptionalLong.of((long) Math.ceil((rowsTotal - rowsScored) / rowsPerSecond));
  }

  /**
   * A new {@code RunProgress}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this RunProgress's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.schemaVersion = schemaVersion;
    builder.runId = runId;
    builder.eventId = eventId;
    builder.model = model;
    builder.version = version;
    builder.shardsDone = shardsDone;
    builder.shardsTotal = shardsTotal;
    builder.rowsScored = rowsScored;
    builder.rowsTotal = rowsTotal;
    builder.rowsPerSecond = rowsPerSecond;
    builder.stagedAt = stagedAt;
    builder.at = at;
    return builder;
  }

  /**
   * Builds a {@link RunProgress}; a component left unset is null (0 for a number), except {@code
   * schemaVersion}, which defaults to {@link SchemaVersion#CURRENT}.
   */
  public static final class Builder {
    private Integer schemaVersion = SchemaVersion.CURRENT;
    private String runId;
    private String eventId;
    private String model;
    private String version;
    private int shardsDone;
    private int shardsTotal;
    private long rowsScored;
    private long rowsTotal;
    private double rowsPerSecond;
    private Instant stagedAt;
    private Instant at;

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

    public Builder shardsDone(int shardsDone) {
      this.shardsDone = shardsDone;
      return this;
    }

    public Builder shardsTotal(int shardsTotal) {
      this.shardsTotal = shardsTotal;
      return this;
    }

    public Builder rowsScored(long rowsScored) {
      this.rowsScored = rowsScored;
      return this;
    }

    public Builder rowsTotal(long rowsTotal) {
      this.rowsTotal = rowsTotal;
      return this;
    }

    public Builder rowsPerSecond(double rowsPerSecond) {
      this.rowsPerSecond = rowsPerSecond;
      return this;
    }

    public Builder stagedAt(Instant stagedAt) {
      this.stagedAt = stagedAt;
      return this;
    }

    public Builder at(Instant at) {
      this.at = at;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public RunProgress build() {
      return new RunProgress(
          schemaVersion,
          runId,
          eventId,
          model,
          version,
          shardsDone,
          shardsTotal,
          rowsScored,
          rowsTotal,
          rowsPerSecond,
          stagedAt,
          at);
    }
  }
}
