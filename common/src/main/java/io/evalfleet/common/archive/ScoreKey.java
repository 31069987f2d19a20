package io.evalfleet.common.archive;

import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Evaluator;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.TreeMap;

/**
 * Everything a run's per-row scores depend on. Two runs with equal keys score every row the same,
 * so the later one may reuse the earlier one's archived scores instead of scoring again.
 *
 * @param artifactSha256 the model file (its external data files' digests are folded into {@code
 *     externalDataSha256})
 * @param evaluatorVersion {@link io.evalfleet.common.task.Evaluator#VERSION}
 * @param stride the stride the run uses: the event's, or its task's default (so leaving it out and
 *     naming the default are the same evaluation)
 * @param embedding an embedding model's conventions (pooling, prefixes, output), defaults filled in
 * @param referenceSha256 the baseline model a causal LM's token shift was measured against, or null
 */
public record ScoreKey(
    String artifactSha256,
    String externalDataSha256,
    String tokenizerSha256,
    String subsetSha256,
    String subsetColumns,
    String task,
    String evaluatorVersion,
    Integer maxSeqLen,
    Integer stride,
    String embedding,
    String referenceSha256) {

  /** The key of a run without a token-shift reference. */
  public static ScoreKey of(StagedWeightEvent event) {
    return of(event, null);
  }

  /**
   * The key of a run whose token shift is measured against the model {@code referenceSha256} (null:
   * none).
   */
  public static ScoreKey of(StagedWeightEvent event, String referenceSha256) {
    StringBuilder external = new StringBuilder();
    event
        .artifact()
        .externalData()
        .forEach(d -> external.append(d.fileName()).append('=').append(d.sha256()).append(';'));
    return new ScoreKey(
        event.artifact().sha256(),
        external.toString(),
        event.tokenizer() == null ? null : event.tokenizer().sha256(),
        event.goldenSubset().sha256(),
        new TreeMap<>(event.goldenSubset().columns()).toString(),
        event.task().wireName(),
        Evaluator.VERSION,
        event.maxSeqLen(),
        event.task().spec().stride(event.maxSeqLen(), event.stride()),
        event.task().usesEmbeddingConventions()
            ? EmbeddingConventions.orDefaults(event.embedding()).toString()
            : null,
        referenceSha256);
  }

  /** A digest of every field, naming the archived score file. */
  public String digest() {
    // A key without a reference keeps the digest it had before references existed, so its archived
    // scores stay reusable.
    String fields =
        referenceSha256 == null ? toString().replace(", referenceSha256=null]", "]") : toString();
    byte[] text = fields.getBytes(StandardCharsets.UTF_8);
    return HexFormat.of().formatHex(Storage.newDigest().digest(text));
  }

  /**
   * A new {@code ScoreKey}, set by component name; {@link Builder#build()} runs the constructor's
   * checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this ScoreKey's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.artifactSha256 = artifactSha256;
    builder.externalDataSha256 = externalDataSha256;
    builder.tokenizerSha256 = tokenizerSha256;
    builder.subsetSha256 = subsetSha256;
    builder.subsetColumns = subsetColumns;
    builder.task = task;
    builder.evaluatorVersion = evaluatorVersion;
    builder.maxSeqLen = maxSeqLen;
    builder.stride = stride;
    builder.embedding = embedding;
    builder.referenceSha256 = referenceSha256;
    return builder;
  }

  /** Builds a {@link ScoreKey}; a component left unset is null (0 or false for a primitive). */
  public static final class Builder {
    private String artifactSha256;
    private String externalDataSha256;
    private String tokenizerSha256;
    private String subsetSha256;
    private String subsetColumns;
    private String task;
    private String evaluatorVersion;
    private Integer maxSeqLen;
    private Integer stride;
    private String embedding;
    private String referenceSha256;

    private Builder() {}

    public Builder artifactSha256(String artifactSha256) {
      this.artifactSha256 = artifactSha256;
      return this;
    }

    public Builder externalDataSha256(String externalDataSha256) {
      this.externalDataSha256 = externalDataSha256;
      return this;
    }

    public Builder tokenizerSha256(String tokenizerSha256) {
      this.tokenizerSha256 = tokenizerSha256;
      return this;
    }

    public Builder subsetSha256(String subsetSha256) {
      this.subsetSha256 = subsetSha256;
      return this;
    }

    public Builder subsetColumns(String subsetColumns) {
      this.subsetColumns = subsetColumns;
      return this;
    }

    public Builder task(String task) {
      this.task = task;
      return this;
    }

    public Builder evaluatorVersion(String evaluatorVersion) {
      this.evaluatorVersion = evaluatorVersion;
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

    public Builder embedding(String embedding) {
      this.embedding = embedding;
      return this;
    }

    public Builder referenceSha256(String referenceSha256) {
      this.referenceSha256 = referenceSha256;
      return this;
    }

    /** The record, through its canonical constructor. */
    public ScoreKey build() {
      return new ScoreKey(
          artifactSha256,
          externalDataSha256,
          tokenizerSha256,
          subsetSha256,
          subsetColumns,
          task,
          evaluatorVersion,
          maxSeqLen,
          stride,
          embedding,
          referenceSha256);
    }
  }
}
