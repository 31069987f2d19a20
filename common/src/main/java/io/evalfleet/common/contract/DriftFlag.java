package io.evalfleet.common.contract;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The verdict on one staged event: exactly one per event id. Published on
 * {@code evalfleet.drift-flags}, keyed by model name.
 *
 * @param baselineVersion the version compared with; absent when there was none
 * @param metrics the metric vector, by metric name
 * @param reasons why the flag is what it is, in words a reviewer understands
 * @param coverage how many shards and rows were scored
 * @param executionProviders the execution providers that scored the run's shards
 * @param policyVersion the decision policy that set the flag
 * @param lockfile where the evaluation lockfile of this version was written
 * @param review where the version is reviewed, as its staged event named it (absent when it did not)
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
    String lockfile,
    ReviewRef review) {

  /** A flag decided without a policy or lockfile (events rejected before evaluation). */
  public DriftFlag(Integer schemaVersion, String runId, String eventId, String model, String version,
      String baselineVersion, Flag flag, Map<String, MetricValue> metrics, List<String> reasons, Coverage coverage,
      List<String> executionProviders, Instant stagedAt, Instant decidedAt, Long durationMs) {
    this(schemaVersion, runId, eventId, model, version, baselineVersion, flag, metrics, reasons, coverage,
        executionProviders, stagedAt, decidedAt, durationMs, null, null, null);
  }

  public DriftFlag {
    Checks.schemaVersion(schemaVersion);
    Checks.required(flag, "flag");
    metrics = metrics == null ? Map.of() : Map.copyOf(new TreeMap<>(metrics));
    reasons = reasons == null ? List.of() : List.copyOf(reasons);
    executionProviders = executionProviders == null ? List.of() : List.copyOf(executionProviders);
  }
}
