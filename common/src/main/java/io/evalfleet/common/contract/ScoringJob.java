package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import java.time.Instant;
import java.util.List;

/**
 * One bounded unit of scoring work: a contiguous row range of a golden subset, scored with one
 * model. Published on {@code evalfleet.jobs}, keyed by job id.
 *
 * @param jobId deterministic: {@code <run_id>/<shard index>}, so a re-sent job is recognised
 * @param runId the run this job belongs to
 * @param shardIndex position of this shard in the run, from 0
 * @param shardCount how many shards the run has
 * @param rowStart first row of the shard, counted from 0 over the whole file
 * @param rowCount number of rows in the shard
 * @param maxSeqLen the model's context in tokens (causal LM: longer rows are windowed)
 * @param stride the sliding-window stride for rows longer than {@code maxSeqLen}
 * @param metrics the per-row values wanted, e.g. {@code cosine}
 * @param attempt 1 for the first dispatch, higher when a job is dispatched again
 * @param deadline when the dispatcher stops waiting for this job's result
 * @param embedding the event's embedding conventions (null: the defaults)
 * @param reference causal LM: the baseline model whose next-token distributions the job compares
 *     with the candidate's on the same windows (the token shift); null for no comparison
 * @param retrieval retrieval: the job's step and the run's embeddings folders; null for other tasks
 * @param order the run's seeded row order, when its rows are scored in that order (a sequential
 *     policy): {@code row_start} and {@code row_count} are then positions in the order, and the
 *     job's values follow them; null: {@code row_start} and {@code row_count} are file rows
 */
public record ScoringJob(
    Integer schemaVersion,
    String jobId,
    String runId,
    String eventId,
    String model,
    String version,
    Task task,
    ArtifactRef artifact,
    ArtifactRef tokenizer,
    SubsetRef goldenSubset,
    Integer maxSeqLen,
    Integer stride,
    int shardIndex,
    int shardCount,
    long rowStart,
    int rowCount,
    List<String> metrics,
    int attempt,
    Instant deadline,
    EmbeddingConventions embedding,
    ArtifactRef reference,
    RetrievalStep retrieval,
    RowOrder order) {

  @JsonCreator
  public ScoringJob {
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(jobId, "job_id");
    Checks.identifier(runId, "run_id");
    Checks.identifier(model, "model");
    Checks.required(task, "task");
    Checks.required(artifact, "artifact");
    Checks.required(goldenSubset, "golden_subset");
    Checks.optionalPositive(maxSeqLen, "max_seq_len");
    Checks.optionalPositive(stride, "stride");
    Checks.taskParameters(task, maxSeqLen, stride, tokenizer != null, embedding != null);
    Checks.nonNegative(shardIndex, "shard_index");
    Checks.positive(shardCount, "shard_count");
    Checks.nonNegative(rowStart, "row_start");
    Checks.positive(rowCount, "row_count");
    metrics = metrics == null ? List.of() : List.copyOf(metrics);
    Checks.positive(attempt, "attempt");
    if (reference != null && task != Task.CAUSAL_LM) {
      throw new ContractViolation(
          "reference",
          "a token-shift reference applies to task causal-lm only, not to " + task.wireName());
    }
    if ((retrieval != null) != (task == Task.RETRIEVAL)) {
      throw new ContractViolation(
          "retrieval",
          task == Task.RETRIEVAL
              ? "is required for task retrieval"
              : "applies to task retrieval only, not to " + task.wireName());
    }
    if (order != null && rowStart + rowCount > order.rowsTotal()) {
      throw new ContractViolation(
          "row_count",
          "positions "
              + rowStart
              + "+"
              + rowCount
              + " run past the order's "
              + order.rowsTotal()
              + " rows");
    }
  }

  /** The file rows this job scores, in the order its values follow. */
  public long[] fileRows() {
    if (order != null) {
      return order.rows(rowStart, rowCount);
    }
    long[] rows = new long[rowCount];
    for (int i = 0; i < rowCount; i++) {
      rows[i] = rowStart + i;
    }
    return rows;
  }

  /** This job's shard with the candidate compared, token by token, with {@code baseline}. */
  public ScoringJob withReference(ArtifactRef baseline) {
    return toBuilder().reference(baseline).build();
  }

  /** The deterministic id of shard {@code shardIndex} of run {@code runId}. */
  public static String jobId(String runId, int shardIndex) {
    String index = Integer.toString(shardIndex);
    return index.length() >= 5
        ? runId + "/" + index
        : runId + "/" + "00000".substring(index.length()) + index;
  }

  /**
   * A new {@code ScoringJob}, set by component name; {@link Builder#build()} runs the constructor's
   * checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this ScoringJob's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.schemaVersion = schemaVersion;
    builder.jobId = jobId;
    builder.runId = runId;
    builder.eventId = eventId;
    builder.model = model;
    builder.version = version;
    builder.task = task;
    builder.artifact = artifact;
    builder.tokenizer = tokenizer;
    builder.goldenSubset = goldenSubset;
    builder.maxSeqLen = maxSeqLen;
    builder.stride = stride;
    builder.shardIndex = shardIndex;
    builder.shardCount = shardCount;
    builder.rowStart = rowStart;
    builder.rowCount = rowCount;
    builder.metrics = metrics;
    builder.attempt = attempt;
    builder.deadline = deadline;
    builder.embedding = embedding;
    builder.reference = reference;
    builder.retrieval = retrieval;
    builder.order = order;
    return builder;
  }

  /**
   * Builds a {@link ScoringJob}; a component left unset is null (0 or false for a primitive),
   * except {@code schemaVersion}, which defaults to {@link SchemaVersion#CURRENT}.
   */
  public static final class Builder {
    private Integer schemaVersion = SchemaVersion.CURRENT;
    private String jobId;
    private String runId;
    private String eventId;
    private String model;
    private String version;
    private Task task;
    private ArtifactRef artifact;
    private ArtifactRef tokenizer;
    private SubsetRef goldenSubset;
    private Integer maxSeqLen;
    private Integer stride;
    private int shardIndex;
    private int shardCount;
    private long rowStart;
    private int rowCount;
    private List<String> metrics;
    private int attempt;
    private Instant deadline;
    private EmbeddingConventions embedding;
    private ArtifactRef reference;
    private RetrievalStep retrieval;
    private RowOrder order;

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

    public Builder task(Task task) {
      this.task = task;
      return this;
    }

    public Builder artifact(ArtifactRef artifact) {
      this.artifact = artifact;
      return this;
    }

    public Builder tokenizer(ArtifactRef tokenizer) {
      this.tokenizer = tokenizer;
      return this;
    }

    public Builder goldenSubset(SubsetRef goldenSubset) {
      this.goldenSubset = goldenSubset;
      return this;
    }

    public Builder maxSeqLen(Integer maxSeqLen) {
      this.maxSeqLen = maxSeqLen;
      return this;
    }

    public Builder stride(Integer stride) {
      this.stride = stride;
      return this;
    }

    public Builder shardIndex(int shardIndex) {
      this.shardIndex = shardIndex;
      return this;
    }

    public Builder shardCount(int shardCount) {
      this.shardCount = shardCount;
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

    public Builder metrics(List<String> metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder attempt(int attempt) {
      this.attempt = attempt;
      return this;
    }

    public Builder deadline(Instant deadline) {
      this.deadline = deadline;
      return this;
    }

    public Builder embedding(EmbeddingConventions embedding) {
      this.embedding = embedding;
      return this;
    }

    public Builder reference(ArtifactRef reference) {
      this.reference = reference;
      return this;
    }

    public Builder retrieval(RetrievalStep retrieval) {
      this.retrieval = retrieval;
      return this;
    }

    public Builder order(RowOrder order) {
      this.order = order;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public ScoringJob build() {
      return new ScoringJob(
          schemaVersion,
          jobId,
          runId,
          eventId,
          model,
          version,
          task,
          artifact,
          tokenizer,
          goldenSubset,
          maxSeqLen,
          stride,
          shardIndex,
          shardCount,
          rowStart,
          rowCount,
          metrics,
          attempt,
          deadline,
          embedding,
          reference,
          retrieval,
          order);
    }
  }
}
