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
 * @param executionProvider the ONNX Runtime execution provider that scored the rows, e.g. {@code
 *     cpu}
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

  public ShardResult {
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(jobId, "job_id");
    Checks.identifier(runId, "run_id");
    Checks.nonNegative(shardIndex, "shard_index");
    values = values == null ? Map.of() : Map.copyOf(new TreeMap<>(values));
    sketches = sketches == null ? Map.of() : Map.copyOf(sketches);
    if (error == null) {
      values.forEach(
          (name, column) -> {
            if (column == null || column.length != rowCount) {
              throw new ContractViolation(
                  "values." + name,
                  "must hold one value per row ("
                      + rowCount
                      + "), got "
                      + (column == null ? "null" : column.length));
            }
          });
    }
  }

  public boolean failed() {
    return error != null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShardResult r
        && jobId.equals(r.jobId)
        && attempt == r.attempt
        && error == null == (r.error == null)
        && sameValues(values, r.values);
  }

  @Override
  public int hashCode() {
    return jobId.hashCode() * 31 + attempt;
  }

  private static boolean sameValues(Map<String, double[]> a, Map<String, double[]> b) {
    return a.keySet().equals(b.keySet())
        && a.keySet().stream().allMatch(k -> Arrays.equals(a.get(k), b.get(k)));
  }

  @Override
  public String toString() {
    return "ShardResult["
        + jobId
        + ", rows "
        + rowStart
        + "+"
        + rowCount
        + (error == null ? "" : ", " + error)
        + "]";
  }

  /**
   * A new {@code ShardResult}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  /** A builder of the answer to {@code job}: its job, run, shard and row range already set. */
  public static Builder answering(ScoringJob job) {
    return builder()
        .jobId(job.jobId())
        .runId(job.runId())
        .shardIndex(job.shardIndex())
        .rowStart(job.rowStart())
        .rowCount(job.rowCount());
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this ShardResult's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.schemaVersion = schemaVersion;
    builder.jobId = jobId;
    builder.runId = runId;
    builder.shardIndex = shardIndex;
    builder.rowStart = rowStart;
    builder.rowCount = rowCount;
    builder.values = values;
    builder.workerId = workerId;
    builder.executionProvider = executionProvider;
    builder.batching = batching;
    builder.paddingRatio = paddingRatio;
    builder.durationMs = durationMs;
    builder.attempt = attempt;
    builder.error = error;
    builder.environment = environment;
    builder.sketches = sketches;
    return builder;
  }

  /**
   * Builds a {@link ShardResult}; a component left unset is null (0 or false for a primitive),
   * except {@code schemaVersion}, which defaults to {@link SchemaVersion#CURRENT}.
   */
  public static final class Builder {
    private Integer schemaVersion = SchemaVersion.CURRENT;
    private String jobId;
    private String runId;
    private int shardIndex;
    private long rowStart;
    private int rowCount;
    private Map<String, double[]> values;
    private String workerId;
    private String executionProvider;
    private String batching;
    private Double paddingRatio;
    private long durationMs;
    private int attempt;
    private ShardError error;
    private ScoringEnvironment environment;
    private Map<String, String> sketches;

    private Builder() {}

    public Builder schemaVersion(Integer schemaVersion) {
      this.schemaVersion = schemaVersion;
      return this;
    }

    public Builder jobId(String jobId) {
      this.jobId = jobId;
      return this;
    }

    public Builder runId(String runId) {
      this.runId = runId;
      return this;
    }

    public Builder shardIndex(int shardIndex) {
      this.shardIndex = shardIndex;
      return this;
    }

    public Builder rowStart(long rowStart) {
      this.rowStart = rowStart;
      return this;
    }

    public Builder rowCount(int rowCount) {
      this.rowCount = rowCount;
      return this;
    }

    public Builder values(Map<String, double[]> values) {
      this.values = values;
      return this;
    }

    public Builder workerId(String workerId) {
      this.workerId = workerId;
      return this;
    }

    public Builder executionProvider(String executionProvider) {
      this.executionProvider = executionProvider;
      return this;
    }

    public Builder batching(String batching) {
      this.batching = batching;
      return this;
    }

    public Builder paddingRatio(Double paddingRatio) {
      this.paddingRatio = paddingRatio;
      return this;
    }

    public Builder durationMs(long durationMs) {
      this.durationMs = durationMs;
      return this;
    }

    public Builder attempt(int attempt) {
      this.attempt = attempt;
      return this;
    }

    public Builder error(ShardError error) {
      this.error = error;
      return this;
    }

    public Builder environment(ScoringEnvironment environment) {
      this.environment = environment;
      return this;
    }

    public Builder sketches(Map<String, String> sketches) {
      this.sketches = sketches;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public ShardResult build() {
      return new ShardResult(
          schemaVersion,
          jobId,
          runId,
          shardIndex,
          rowStart,
          rowCount,
          values,
          workerId,
          executionProvider,
          batching,
          paddingRatio,
          durationMs,
          attempt,
          error,
          environment,
          sketches);
    }
  }
}
