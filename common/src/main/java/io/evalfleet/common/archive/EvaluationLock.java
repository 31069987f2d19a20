package io.evalfleet.common.archive;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.EmbeddingConventions;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The evaluation lockfile of one evaluated version: everything its scores and its flag depend on,
 * and what they were. Two lockfiles that agree on every input are the same evaluation; {@code
 * evalfleet lock diff} shows what differs between two.
 *
 * @param artifact the model file with its external data files
 * @param tokenizerSha256 the tokenizer's digest (null when the subset is pre-tokenised)
 * @param goldenSubsetColumns the subset's column of each role, where it differs from the role's name
 * @param evaluatorVersion {@link io.evalfleet.common.task.Evaluator#VERSION}
 * @param onnxRuntime the ONNX Runtime versions the workers ran
 * @param executionProviders the execution providers that scored the shards
 * @param hardware the workers' hardware profiles, as they reported them
 * @param modelSignature the model's inputs and outputs as ONNX Runtime saw them
 * @param baseModelSha256 for adapters, the base model they were trained on
 * @param metrics the metric vector with the decision's evidence
 * @param scores where the per-row scores are archived
 * @param embedding an embedding model's conventions (pooling, normalisation, prefixes, output), with
 *     the defaults filled in; null for other tasks
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
    EmbeddingConventions embedding) {

  public static final int CURRENT = 1;

  public EvaluationLock {
    onnxRuntime = onnxRuntime == null ? List.of() : List.copyOf(onnxRuntime);
    executionProviders = executionProviders == null ? List.of() : List.copyOf(executionProviders);
    hardware = hardware == null ? List.of() : List.copyOf(hardware);
    goldenSubsetColumns = goldenSubsetColumns == null ? Map.of() : Map.copyOf(goldenSubsetColumns);
    metrics = metrics == null ? Map.of() : Map.copyOf(new java.util.TreeMap<>(metrics));
  }

  /**
   * One metric as locked: its value, and against the baseline its relative change with the
   * confidence interval and the status it earned, the baseline's value on the same rows, the
   * policy's margin and the production band at the time (those three are absent from lockfiles
   * written before they were kept); for a metric judged on its own value (the token shift), the
   * limit it was judged against, the interval then bounding the value itself.
   */
  public record LockedMetric(double value, Double relativeChange, Double ciLow, Double ciHigh, Double ciConfidence,
      Flag status, Double baseline, Double margin, Double bandLow, Double bandHigh, Double limit) {

    /** A metric locked without baseline value, margin or band. */
    public LockedMetric(double value, Double relativeChange, Double ciLow, Double ciHigh, Double ciConfidence,
        Flag status) {
      this(value, relativeChange, ciLow, ciHigh, ciConfidence, status, null, null, null, null, null);
    }

    public static LockedMetric of(io.evalfleet.common.contract.MetricValue m) {
      return new LockedMetric(m.value(), m.relativeDelta(), m.ciLow(), m.ciHigh(), m.ciConfidence(), m.status(),
          m.baseline(), m.margin(), m.bandLow(), m.bandHigh(), m.limit());
    }
  }
}
