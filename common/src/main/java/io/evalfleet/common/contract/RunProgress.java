package io.evalfleet.common.contract;

import java.time.Instant;

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
  public java.util.OptionalLong etaSeconds() {
    if (rowsPerSecond <= 0 || rowsScored >= rowsTotal) {
      return rowsScored >= rowsTotal ? java.util.OptionalLong.of(0) : java.util.OptionalLong.empty();
    }
    return java.util.OptionalLong.of((long) Math.ceil((rowsTotal - rowsScored) / rowsPerSecond));
  }
}
