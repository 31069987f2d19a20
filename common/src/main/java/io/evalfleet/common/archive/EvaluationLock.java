package io.evalfleet.common.archive;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.task.EmbeddingConventions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The evaluation lockfile of one evaluated version: everything its scores and its flag depend on,
 * and what they were. Two lockfiles that agree on every input are the same evaluation; {@code
 * evalfleet lock diff} shows what differs between two.
 *
 * @param artifact the model file with its external data files
 * @param tokenizerSha256 the tokenizer's digest (null when the subset is pre-tokenised)
 * @param goldenSubsetColumns the subset's column of each role, where it differs from the role's
 *     name
 * @param evaluatorVersion {@link io.evalfleet.common.task.Evaluator#VERSION}
 * @param onnxRuntime the ONNX Runtime versions the workers ran
 * @param executionProviders the execution providers that scored the shards
 * @param hardware the workers' hardware profiles, as they reported them
 * @param modelSignature the model's inputs and outputs as ONNX Runtime saw them
 * @param baseModelSha256 for adapters, the base model they were trained on
 * @param metrics the metric vector with the decision's evidence
 * @param scores where the per-row scores are archived
 * @param embedding an embedding model's conventions (pooling, normalisation, prefixes, output),
 *     with the defaults filled in; null for other tasks
 * @param envelopes the distinct scoring envelopes the shards were scored under (provider, ONNX
 *     Runtime, batch shape, threads, deterministic compute, machine), each with its hardware
 *     profile; empty in lockfiles written before they were kept, and when the scores were reused
 */
public record EvaluationLock(
    int lockVersion,
    String model,
    String version,
    String eventId,
    String runId,
    String commit,
    String task,
    ArtifactRef artifact,
    String tokenizerSha256,
    String goldenSubsetUri,
    String goldenSubsetSha256,
    Map<String, String> goldenSubsetColumns,
    String evaluatorVersion,
    List<String> onnxRuntime,
    List<String> executionProviders,
    List<String> hardware,
    String requestedHardwareProfile,
    Integer quantizationBits,
    Integer maxSeqLen,
    Integer stride,
    String baseModelSha256,
    String modelSignature,
    String policyVersion,
    String baselineVersion,
    Flag flag,
    Map<String, LockedMetric> metrics,
    String scores,
    boolean scoresReused,
    Instant decidedAt,
    EmbeddingConventions embedding,
    List<ScoringEnvelope> envelopes) {

  public static final int CURRENT = 1;

  public EvaluationLock {
    onnxRuntime = onnxRuntime == null ? List.of() : List.copyOf(onnxRuntime);
    executionProviders = executionProviders == null ? List.of() : List.copyOf(executionProviders);
    hardware = hardware == null ? List.of() : List.copyOf(hardware);
    envelopes = envelopes == null ? List.of() : List.copyOf(envelopes);
    goldenSubsetColumns = goldenSubsetColumns == null ? Map.of() : Map.copyOf(goldenSubsetColumns);
    metrics = metrics == null ? Map.of() : Map.copyOf(new TreeMap<>(metrics));
  }

  /**
   * One metric as locked: its value, and against the baseline its relative change with the
   * confidence interval and the status it earned, the baseline's value on the same rows, the
   * policy's margin and the production band at the time (those three are absent from lockfiles
   * written before they were kept); for a metric judged on its own value (the token shift), the
   * limit it was judged against, the interval then bounding the value itself.
   */
  public record LockedMetric(
      double value,
      Double relativeChange,
      Double ciLow,
      Double ciHigh,
      Double ciConfidence,
      Flag status,
      Double baseline,
      Double margin,
      Double bandLow,
      Double bandHigh,
      Double limit) {

    public static LockedMetric of(MetricValue m) {
      return new LockedMetric(
          m.value(),
          m.relativeDelta(),
          m.ciLow(),
          m.ciHigh(),
          m.ciConfidence(),
          m.status(),
          m.baseline(),
          m.margin(),
          m.bandLow(),
          m.bandHigh(),
          m.limit());
    }

    /** A new {@code LockedMetric}, set by component name. */
    public static Builder builder() {
      return new Builder();
    }

    /** A builder that starts from this metric's components, to build a changed copy. */
    public Builder toBuilder() {
      Builder builder = new Builder();
      builder.value = value;
      builder.relativeChange = relativeChange;
      builder.ciLow = ciLow;
      builder.ciHigh = ciHigh;
      builder.ciConfidence = ciConfidence;
      builder.status = status;
      builder.baseline = baseline;
      builder.margin = margin;
      builder.bandLow = bandLow;
      builder.bandHigh = bandHigh;
      builder.limit = limit;
      return builder;
    }

    /** Builds a {@link LockedMetric}; a component left unset is null (0 for the value). */
    public static final class Builder {
      private double value;
      private Double relativeChange;
      private Double ciLow;
      private Double ciHigh;
      private Double ciConfidence;
      private Flag status;
      private Double baseline;
      private Double margin;
      private Double bandLow;
      private Double bandHigh;
      private Double limit;

      private Builder() {}

      public Builder value(double value) {
        this.value = value;
        return this;
      }

      public Builder relativeChange(Double relativeChange) {
        this.relativeChange = relativeChange;
        return this;
      }

      public Builder ciLow(Double ciLow) {
        this.ciLow = ciLow;
        return this;
      }

      public Builder ciHigh(Double ciHigh) {
        this.ciHigh = ciHigh;
        return this;
      }

      public Builder ciConfidence(Double ciConfidence) {
        this.ciConfidence = ciConfidence;
        return this;
      }

      public Builder status(Flag status) {
        this.status = status;
        return this;
      }

      public Builder baseline(Double baseline) {
        this.baseline = baseline;
        return this;
      }

      public Builder margin(Double margin) {
        this.margin = margin;
        return this;
      }

      public Builder bandLow(Double bandLow) {
        this.bandLow = bandLow;
        return this;
      }

      public Builder bandHigh(Double bandHigh) {
        this.bandHigh = bandHigh;
        return this;
      }

      public Builder limit(Double limit) {
        this.limit = limit;
        return this;
      }

      /** The record, through its canonical constructor. */
      public LockedMetric build() {
        return new LockedMetric(
            value,
            relativeChange,
            ciLow,
            ciHigh,
            ciConfidence,
            status,
            baseline,
            margin,
            bandLow,
            bandHigh,
            limit);
      }
    }
  }

  /**
   * A new {@code EvaluationLock}, set by component name; {@link Builder#build()} runs the
   * constructor's checks.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this EvaluationLock's components, to build a changed copy. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.lockVersion = lockVersion;
    builder.model = model;
    builder.version = version;
    builder.eventId = eventId;
    builder.runId = runId;
    builder.commit = commit;
    builder.task = task;
    builder.artifact = artifact;
    builder.tokenizerSha256 = tokenizerSha256;
    builder.goldenSubsetUri = goldenSubsetUri;
    builder.goldenSubsetSha256 = goldenSubsetSha256;
    builder.goldenSubsetColumns = goldenSubsetColumns;
    builder.evaluatorVersion = evaluatorVersion;
    builder.onnxRuntime = onnxRuntime;
    builder.executionProviders = executionProviders;
    builder.hardware = hardware;
    builder.requestedHardwareProfile = requestedHardwareProfile;
    builder.quantizationBits = quantizationBits;
    builder.maxSeqLen = maxSeqLen;
    builder.stride = stride;
    builder.baseModelSha256 = baseModelSha256;
    builder.modelSignature = modelSignature;
    builder.policyVersion = policyVersion;
    builder.baselineVersion = baselineVersion;
    builder.flag = flag;
    builder.metrics = metrics;
    builder.scores = scores;
    builder.scoresReused = scoresReused;
    builder.decidedAt = decidedAt;
    builder.embedding = embedding;
    builder.envelopes = envelopes;
    return builder;
  }

  /**
   * Builds a {@link EvaluationLock}; a component left unset is null (0 or false for a primitive),
   * except {@code lockVersion}, which defaults to {@link #CURRENT}.
   */
  public static final class Builder {
    private int lockVersion = CURRENT;
    private String model;
    private String version;
    private String eventId;
    private String runId;
    private String commit;
    private String task;
    private ArtifactRef artifact;
    private String tokenizerSha256;
    private String goldenSubsetUri;
    private String goldenSubsetSha256;
    private Map<String, String> goldenSubsetColumns;
    private String evaluatorVersion;
    private List<String> onnxRuntime;
    private List<String> executionProviders;
    private List<String> hardware;
    private String requestedHardwareProfile;
    private Integer quantizationBits;
    private Integer maxSeqLen;
    private Integer stride;
    private String baseModelSha256;
    private String modelSignature;
    private String policyVersion;
    private String baselineVersion;
    private Flag flag;
    private Map<String, LockedMetric> metrics;
    private String scores;
    private boolean scoresReused;
    private Instant decidedAt;
    private EmbeddingConventions embedding;
    private List<ScoringEnvelope> envelopes;

    private Builder() {}

    public Builder lockVersion(int lockVersion) {
      this.lockVersion = lockVersion;
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

    public Builder eventId(String eventId) {
      this.eventId = eventId;
      return this;
    }

    public Builder runId(String runId) {
      this.runId = runId;
      return this;
    }

    public Builder commit(String commit) {
      this.commit = commit;
      return this;
    }

    public Builder task(String task) {
      this.task = task;
      return this;
    }

    public Builder artifact(ArtifactRef artifact) {
      this.artifact = artifact;
      return this;
    }

    public Builder tokenizerSha256(String tokenizerSha256) {
      this.tokenizerSha256 = tokenizerSha256;
      return this;
    }

    public Builder goldenSubsetUri(String goldenSubsetUri) {
      this.goldenSubsetUri = goldenSubsetUri;
      return this;
    }

    public Builder goldenSubsetSha256(String goldenSubsetSha256) {
      this.goldenSubsetSha256 = goldenSubsetSha256;
      return this;
    }

    public Builder goldenSubsetColumns(Map<String, String> goldenSubsetColumns) {
      this.goldenSubsetColumns = goldenSubsetColumns;
      return this;
    }

    public Builder evaluatorVersion(String evaluatorVersion) {
      this.evaluatorVersion = evaluatorVersion;
      return this;
    }

    public Builder onnxRuntime(List<String> onnxRuntime) {
      this.onnxRuntime = onnxRuntime;
      return this;
    }

    public Builder executionProviders(List<String> executionProviders) {
      this.executionProviders = executionProviders;
      return this;
    }

    public Builder hardware(List<String> hardware) {
      this.hardware = hardware;
      return this;
    }

    public Builder requestedHardwareProfile(String requestedHardwareProfile) {
      this.requestedHardwareProfile = requestedHardwareProfile;
      return this;
    }

    public Builder quantizationBits(Integer quantizationBits) {
      this.quantizationBits = quantizationBits;
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

    public Builder baseModelSha256(String baseModelSha256) {
      this.baseModelSha256 = baseModelSha256;
      return this;
    }

    public Builder modelSignature(String modelSignature) {
      this.modelSignature = modelSignature;
      return this;
    }

    public Builder policyVersion(String policyVersion) {
      this.policyVersion = policyVersion;
      return this;
    }

    public Builder baselineVersion(String baselineVersion) {
      this.baselineVersion = baselineVersion;
      return this;
    }

    public Builder flag(Flag flag) {
      this.flag = flag;
      return this;
    }

    public Builder metrics(Map<String, LockedMetric> metrics) {
      this.metrics = metrics;
      return this;
    }

    public Builder scores(String scores) {
      this.scores = scores;
      return this;
    }

    public Builder scoresReused(boolean scoresReused) {
      this.scoresReused = scoresReused;
      return this;
    }

    public Builder decidedAt(Instant decidedAt) {
      this.decidedAt = decidedAt;
      return this;
    }

    public Builder embedding(EmbeddingConventions embedding) {
      this.embedding = embedding;
      return this;
    }

    public Builder envelopes(List<ScoringEnvelope> envelopes) {
      this.envelopes = envelopes;
      return this;
    }

    /** The record, through its canonical constructor. */
    public EvaluationLock build() {
      return new EvaluationLock(
          lockVersion,
          model,
          version,
          eventId,
          runId,
          commit,
          task,
          artifact,
          tokenizerSha256,
          goldenSubsetUri,
          goldenSubsetSha256,
          goldenSubsetColumns,
          evaluatorVersion,
          onnxRuntime,
          executionProviders,
          hardware,
          requestedHardwareProfile,
          quantizationBits,
          maxSeqLen,
          stride,
          baseModelSha256,
          modelSignature,
          policyVersion,
          baselineVersion,
          flag,
          metrics,
          scores,
          scoresReused,
          decidedAt,
          embedding,
          envelopes);
    }
  }
}
