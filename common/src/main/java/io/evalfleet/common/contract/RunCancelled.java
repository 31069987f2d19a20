package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.time.Instant;

/**
 * A run whose remaining jobs need not be scored: it was decided before its end (a sequential run
 * stopped early). Published on {@code evalfleet.runs.cancelled} (compacted), keyed by run id;
 * workers skip the run's jobs they receive from then on, without loading its model.
 *
 * @param runId the run
 * @param model the run's model
 * @param reason why, in words, e.g. {@code stopped RED after 1200 of 10000 rows}
 * @param at when it was cancelled
 */
public record RunCancelled(
    Integer schemaVersion, String runId, String model, String reason, Instant at) {
  @JsonCreator
  public RunCancelled {
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(runId, "run_id");
  }

  public RunCancelled(String runId, String model, String reason, Instant at) {
    this(SchemaVersion.CURRENT, runId, model, reason, at);
  }
}
