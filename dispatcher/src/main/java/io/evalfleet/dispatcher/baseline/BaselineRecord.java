package io.evalfleet.dispatcher.baseline;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.task.EmbeddingConventions;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pinned production version of a model and what it scored, kept on the compacted {@code
 * evalfleet.baselines} topic keyed by model name.
 *
 * @param subsetSha256 the golden subset the metrics were computed on: only runs on the same subset
 *     are comparable
 * @param tokenizerSha256 its tokenizer: perplexity is comparable only under the same tokenizer
 * @param baseModelSha256 for an adapter, its base model; otherwise null
 * @param modelSignature its inputs and outputs as ONNX Runtime saw them
 * @param scores where its per-row values (e.g. {@code cosine}) are archived, for paired comparison:
 *     the record points at them instead of carrying them, so it stays small whatever the subset's
 *     size; null when they could not be archived
 * @param commit the source commit of its training code, when its event said
 * @param embedding an embedding model's conventions, defaults filled in; null for other tasks (and
 *     for records written before they were kept)
 * @param artifact the model itself, for jobs that run it beside a candidate (a causal LM's token
 *     shift); null in records written before it was kept
 */
public record BaselineRecord(
    String model,
    String version,
    String runId,
    String artifactSha256,
    String subsetSha256,
    String tokenizerSha256,
    String baseModelSha256,
    String modelSignature,
    Map<String, Double> metrics,
    String scores,
    String commit,
    Instant recordedAt,
    EmbeddingConventions embedding,
    ArtifactRef artifact) {

  /**
   * The baseline record of an evaluated version, from its lockfile (which names its archived
   * scores).
   */
  public static BaselineRecord of(EvaluationLock lock, Instant recordedAt) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    lock.metrics().forEach((name, m) -> metrics.put(name, m.value()));
    return builder()
        .model(lock.model())
        .version(lock.version())
        .runId(lock.runId())
        .artifactSha256(lock.artifact().sha256())
        .subsetSha256(lock.goldenSubsetSha256())
        .tokenizerSha256(lock.tokenizerSha256())
        .baseModelSha256(lock.baseModelSha256())
        .modelSignature(lock.modelSignature())
        .metrics(metrics)
        .scores(lock.scores())
        .commit(lock.commit())
        .recordedAt(recordedAt)
        .embedding(lock.embedding())
        .artifact(lock.artifact())
        .build();
  }

  /**
   * A new {@code BaselineRecord}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this BaselineRecord's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.model = model;
    builder.version = version;
    builder.runId = runId;
    builder.artifactSha256 = artifactSha256;
    builder.subsetSha256 = subsetSha256;
    builder.tokenizerSha256 = tokenizerSha256;
    builder.baseModelSha256 = baseModelSha256;
    builder.modelSignature = modelSignature;
    builder.metrics = metrics;
    builder.scores = scores;
    builder.commit = commit;
    builder.recordedAt = recordedAt;
    builder.embedding = embedding;
    builder.artifact = artifact;
    return builder;
  }

  /**
   * Builds a {@link BaselineRecord}; a component left unset is null (0 or false for a primitive).
   */
  public static final class Builder {
    private String model;
    private String version;
    private String runId;
    private String artifactSha256;
    private String subsetSha256;
    private String tokenizerSha256;
    private String baseModelSha256;
    private String modelSignature;
    private Map<String, Double> metrics;
    private String scores;
    private String commit;
    private Instant recordedAt;
    private EmbeddingConventions embedding;
    private ArtifactRef artifact;

    private Builder() {}

    public Builder model(String model) {
      this.model = model;
      return this;
    }

    public Builder version(String version) {
      this.version = version;
      return this;
    }

    public Builder runId(String runId) {
      this.runId = runId;
      return this;
    }

    public Builder artifactSha256(String artifactSha256) {
      this.artifactSha256 = artifactSha256;
      return this;
    }

    public Builder subsetSha256(String subsetSha256) {
      this.subsetSha256 = subsetSha256;
      return this;
    }

    public Builder tokenizerSha256(String tokenizerSha256) {
      this.tokenizerSha256 = tokenizerSha256;
      return this;
    }

    public Builder baseModelSha256(String baseModelSha256) {
      this.baseModelSha256 = baseModelSha256;
      return this;
    }

    public Builder modelSignature(String modelSignature) {
      this.modelSignature = modelSignature;
      return this;
    }

    public Builder metrics(Map<String, Double> metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder scores(String scores) {
      this.scores = scores;
      return this;
    }

    public Builder commit(String commit) {
      this.commit = commit;
      return this;
    }

    public Builder recordedAt(Instant recordedAt) {
      this.recordedAt = recordedAt;
      return this;
    }

    public Builder embedding(EmbeddingConventions embedding) {
      this.embedding = embedding;
      return this;
    }

    public Builder artifact(ArtifactRef artifact) {
      this.artifact = artifact;
      return this;
    }

    /** The record, through its canonical constructor. */
    public BaselineRecord build() {
      return new BaselineRecord(
          model,
          version,
          runId,
          artifactSha256,
          subsetSha256,
          tokenizerSha256,
          baseModelSha256,
          modelSignature,
          metrics,
          scores,
          commit,
          recordedAt,
          embedding,
          artifact);
    }
  }
}
