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
    RetrievalStep retrieval) {

  /** A job without a token-shift reference or a retrieval step. */
  public ScoringJob(Integer schemaVersion, String jobId, String runId, String eventId, String model, String version,
      Task task, ArtifactRef artifact, ArtifactRef tokenizer, SubsetRef goldenSubset, Integer maxSeqLen, Integer stride,
      int shardIndex, int shardCount, long rowStart, int rowCount, List<String> metrics, int attempt, Instant deadline,
      EmbeddingConventions embedding) {
    this(schemaVersion, jobId, runId, eventId, model, version, task, artifact, tokenizer, goldenSubset, maxSeqLen, stride,
        shardIndex, shardCount, rowStart, rowCount, metrics, attempt, deadline, embedding, null, null);
  }

  /** A job without embedding conventions (the defaults, or a task that has none). */
  public ScoringJob(Integer schemaVersion, String jobId, String runId, String eventId, String model, String version,
      Task task, ArtifactRef artifact, ArtifactRef tokenizer, SubsetRef goldenSubset, Integer maxSeqLen, Integer stride,
      int shardIndex, int shardCount, long rowStart, int rowCount, List<String> metrics, int attempt, Instant deadline) {
    this(schemaVersion, jobId, runId, eventId, model, version, task, artifact, tokenizer, goldenSubset, maxSeqLen, stride,
        shardIndex, shardCount, rowStart, rowCount, metrics, attempt, deadline, null);
  }

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
      throw new ContractViolation("reference", "a token-shift reference applies to task causal-lm only, not to " + task.wireName());
    }
    if ((retrieval != null) != (task == Task.RETRIEVAL)) {
      throw new ContractViolation("retrieval", task == Task.RETRIEVAL ? "is required for task retrieval"
          : "applies to task retrieval only, not to " + task.wireName());
    }
  }

  /** This job's shard with the candidate compared, token by token, with {@code baseline}. */
  public ScoringJob withReference(ArtifactRef baseline) {
    return new ScoringJob(schemaVersion, jobId, runId, eventId, model, version, task, artifact, tokenizer, goldenSubset,
        maxSeqLen, stride, shardIndex, shardCount, rowStart, rowCount, metrics, attempt, deadline, embedding, baseline,
        retrieval);
  }

  /** The deterministic id of shard {@code shardIndex} of run {@code runId}. */
  public static String jobId(String runId, int shardIndex) {
    String index = Integer.toString(shardIndex);
    return index.length() >= 5 ? runId + "/" + index : runId + "/" + "00000".substring(index.length()) + index;
  }
}
