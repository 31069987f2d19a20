package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import java.io.IOException;
import java.time.Instant;

/**
 * A training pipeline's announcement that new weights are staged and should be judged. Published on
 * {@code evalfleet.weights.staged}, keyed by model name.
 *
 * @param schemaVersion wire-format version, must be {@link SchemaVersion#CURRENT}
 * @param eventId unique id of this event; the fleet publishes exactly one flag per event id
 * @param model the model's name (a lineage of versions)
 * @param version this version's name, e.g. a commit sha or a training step
 * @param task how the artifact is scored
 * @param artifact the ONNX file
 * @param tokenizer the model's {@code tokenizer.json}; optional, defaults to {@code tokenizer.json}
 *     beside the artifact
 * @param goldenSubset the Parquet golden subset to score
 * @param baseline what to compare with: {@code production} (the default) or a version name
 * @param quantizationBits weight precision of the artifact (e.g. 8 or 32); when the event names no
 *     change kind and the policy gives the model none, a precision other than the baseline's makes
 *     the change a quantization
 * @param changeKind what kind of change this version is to its baseline ({@link ChangeKind}):
 *     whether it must preserve the baseline's behaviour; optional (then the policy's default for
 *     the model, else inferred)
 * @param maxSeqLen the longest token sequence the model takes; longer inputs are truncated
 *     (embedding) or windowed (causal LM)
 * @param stride sliding-window stride for causal LMs
 * @throws ContractViolation naming the field, for a bad value or a rule of the task's {@link
 *     io.evalfleet.common.task.TaskSpec} (e.g. causal-lm needs {@code max_seq_len})
 * @param hardwareProfile where the pipeline expects the model to run (informational)
 * @param baseModelSha256 for adapters, the digest of the base model they were trained on
 * @param commit the source commit of the training code (informational)
 * @param createdAt when the pipeline staged the weights
 * @param embedding for task embedding: the model's pooling, normalisation, prompt prefixes and
 *     output (optional; see {@link EmbeddingConventions} for the defaults)
 * @param review where the version is reviewed (a pull request or commit), for the notifier's
 *     comment (optional)
 */
public record StagedWeightEvent(
    Integer schemaVersion,
    String eventId,
    String model,
    String version,
    Task task,
    ArtifactRef artifact,
    ArtifactRef tokenizer,
    SubsetRef goldenSubset,
    String baseline,
    Integer quantizationBits,
    ChangeKind changeKind,
    Integer maxSeqLen,
    Integer stride,
    String hardwareProfile,
    String baseModelSha256,
    String commit,
    Instant createdAt,
    EmbeddingConventions embedding,
    ReviewRef review) {

  /** The {@code baseline} value that means the model's pinned production version. */
  public static final String PRODUCTION = "production";

  /**
   * A staged event is a small description of where things are; a larger record is refused unread.
   */
  public static final int MAX_BYTES = 64 * 1024;

  /**
   * The event id a staged record is flagged under, whether or not it is a valid event: its {@code
   * event_id} when the record is JSON (at most {@link #MAX_BYTES}) with a textual one, else {@code
   * unparsed:<topic>/<partition>/<offset>}, so that even garbage gets exactly one flag.
   */
  public static String eventIdOf(byte[] record, String topic, int partition, long offset) {
    if (record != null && record.length <= MAX_BYTES) {
      try {
        var tree = Json.mapper().readTree(record);
        if (tree != null && tree.path("event_id").isTextual()) {
          return tree.get("event_id").asText();
        }
      } catch (IOException | RuntimeException e) {
        // not JSON: the record's coordinates identify it
      }
    }
    return "unparsed:" + topic + "/" + partition + "/" + offset;
  }

  @JsonCreator
  public StagedWeightEvent {
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(eventId, "event_id");
    Checks.identifier(model, "model");
    Checks.identifier(version, "version");
    Checks.required(task, "task");
    Checks.required(artifact, "artifact");
    Checks.required(goldenSubset, "golden_subset");
    baseline = baseline == null ? PRODUCTION : Checks.identifier(baseline, "baseline");
    if (quantizationBits != null && (quantizationBits < 1 || quantizationBits > 64)) {
      throw new ContractViolation(
          "quantization_bits", "must be between 1 and 64, got " + quantizationBits);
    }
    Checks.optionalPositive(maxSeqLen, "max_seq_len");
    Checks.optionalPositive(stride, "stride");
    Checks.taskParameters(task, maxSeqLen, stride, tokenizer != null, embedding != null);
    if (baseModelSha256 != null) {
      baseModelSha256 = Checks.sha256(baseModelSha256, "base_model_sha256");
    }
  }

  /**
   * A new {@code StagedWeightEvent}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this StagedWeightEvent's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.schemaVersion = schemaVersion;
    builder.eventId = eventId;
    builder.model = model;
    builder.version = version;
    builder.task = task;
    builder.artifact = artifact;
    builder.tokenizer = tokenizer;
    builder.goldenSubset = goldenSubset;
    builder.baseline = baseline;
    builder.quantizationBits = quantizationBits;
    builder.changeKind = changeKind;
    builder.maxSeqLen = maxSeqLen;
    builder.stride = stride;
    builder.hardwareProfile = hardwareProfile;
    builder.baseModelSha256 = baseModelSha256;
    builder.commit = commit;
    builder.createdAt = createdAt;
    builder.embedding = embedding;
    builder.review = review;
    return builder;
  }

  /**
   * Builds a {@link StagedWeightEvent}; a component left unset is null (0 or false for a
   * primitive), except {@code schemaVersion}, which defaults to {@link SchemaVersion#CURRENT}.
   */
  public static final class Builder {
    private Integer schemaVersion = SchemaVersion.CURRENT;
    private String eventId;
    private String model;
    private String version;
    private Task task;
    private ArtifactRef artifact;
    private ArtifactRef tokenizer;
    private SubsetRef goldenSubset;
    private String baseline;
    private Integer quantizationBits;
    private ChangeKind changeKind;
    private Integer maxSeqLen;
    private Integer stride;
    private String hardwareProfile;
    private String baseModelSha256;
    private String commit;
    private Instant createdAt;
    private EmbeddingConventions embedding;
    private ReviewRef review;

    private Builder() {}

    public Builder schemaVersion(Integer schemaVersion) {
      this.schemaVersion = schemaVersion;
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

    public Builder baseline(String baseline) {
      this.baseline = baseline;
      return this;
    }

    public Builder quantizationBits(Integer quantizationBits) {
      this.quantizationBits = quantizationBits;
      return this;
    }

    public Builder changeKind(ChangeKind changeKind) {
      this.changeKind = changeKind;
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

    public Builder hardwareProfile(String hardwareProfile) {
      this.hardwareProfile = hardwareProfile;
      return this;
    }

    public Builder baseModelSha256(String baseModelSha256) {
      this.baseModelSha256 = baseModelSha256;
      return this;
    }

    public Builder commit(String commit) {
      this.commit = commit;
      return this;
    }

    public Builder createdAt(Instant createdAt) {
      this.createdAt = createdAt;
      return this;
    }

    public Builder embedding(EmbeddingConventions embedding) {
      this.embedding = embedding;
      return this;
    }

    public Builder review(ReviewRef review) {
      this.review = review;
      return this;
    }

    /**
     * @throws ContractViolation where the record's checks refuse a component
     */
    public StagedWeightEvent build() {
      return new StagedWeightEvent(
          schemaVersion,
          eventId,
          model,
          version,
          task,
          artifact,
          tokenizer,
          goldenSubset,
          baseline,
          quantizationBits,
          changeKind,
          maxSeqLen,
          stride,
          hardwareProfile,
          baseModelSha256,
          commit,
          createdAt,
          embedding,
          review);
    }
  }
}
