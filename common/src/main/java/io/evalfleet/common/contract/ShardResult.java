package io.evalfleet.common.contract;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A worker's answer to one {@link ScoringJob}. Published on {@code evalfleet.results}, keyed by run
 * id. Results are idempotent by job id: the dispatcher keeps the first and ignores duplicates.
 *
 * @param values per-row values, aligned with rows {@code row_start .. row_start + row_count - 1};
 *     e.g. {@code cosine} (the pair's cosine similarity) and {@code gold} (the subset's gold score)
 * @param executionProvider the ONNX Runtime execution provider that scored the rows, e.g. {@code cpu}
 * @param paddingRatio share of the token slots fed to the model that were padding (causal LM)
 * @param error set when the shard could not be scored; then {@code values} is empty
 * @param environment the runtime, hardware and model signature the shard was scored with
 * @param sketches distributions over the shard's tokens, by name, each a {@link
 *     io.evalfleet.common.task.TokenSketch} encoded: {@code kl} for a token shift
 */
public record ShardResult(
    Integer schemaVersion,
    String jobId,
    String runId,
    int shardIndex,
    long rowStart,
    int rowCount,
    Map<String, double[]> values,
    String workerId,
    String executionProvider,
    String batching,
    Double paddingRatio,
    long durationMs,
    int attempt,
    ShardError error,
    ScoringEnvironment environment,
    Map<String, String> sketches) {

  public ShardResult(Integer schemaVersion, String jobId, String runId, int shardIndex, long rowStart, int rowCount,
      Map<String, double[]> values, String workerId, String executionProvider, String batching, Double paddingRatio,
      long durationMs, int attempt, ShardError error, ScoringEnvironment environment) {
    this(schemaVersion, jobId, runId, shardIndex, rowStart, rowCount, values, workerId, executionProvider, batching,
        paddingRatio, durationMs, attempt, error, environment, null);
  }

  /** A result without a {@link ScoringEnvironment} (failures, and shards scored before it was reported). */
  public ShardResult(Integer schemaVersion, String jobId, String runId, int shardIndex, long rowStart, int rowCount,
      Map<String, double[]> values, String workerId, String executionProvider, String batching, Double paddingRatio,
      long durationMs, int attempt, ShardError error) {
    this(schemaVersion, jobId, runId, shardIndex, rowStart, rowCount, values, workerId, executionProvider, batching,
        paddingRatio, durationMs, attempt, error, null);
  }

  public ShardResult {
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(jobId, "job_id");
    Checks.identifier(runId, "run_id");
    Checks.nonNegative(shardIndex, "shard_index");
    values = values == null ? Map.of() : Map.copyOf(new TreeMap<>(values));
    sketches = sketches == null ? Map.of() : Map.copyOf(sketches);
    if (error == null) {
      values.forEach((name, column) -> {
        if (column == null || column.length != rowCount) {
          throw new ContractViolation("values." + name, "must hold one value per row (" + rowCount
              + "), got " + (column == null ? "null" : column.length));
        }
      });
    }
  }

  public boolean failed() {
    return error != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShardResult r && jobId.equals(r.jobId) && attempt == r.attempt
        && error == null == (r.error == null) && sameValues(values, r.values);
  }

  @Override
  public int hashCode() {
    return jobId.hashCode() * 31 + attempt;
  }

  private static boolean sameValues(Map<String, double[]> a, Map<String, double[]> b) {
    return a.keySet().equals(b.keySet()) && a.keySet().stream().allMatch(k -> Arrays.equals(a.get(k), b.get(k)));
  }

  @Override
  public String toString() {
    return "ShardResult[" + jobId + ", rows " + rowStart + "+" + rowCount + (error == null ? "" : ", " + error) + "]";
  }
}
