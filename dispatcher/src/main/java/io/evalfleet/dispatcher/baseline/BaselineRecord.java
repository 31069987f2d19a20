package io.evalfleet.dispatcher.baseline;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.task.EmbeddingConventions;
import java.time.Instant;
import io.evalfleet.common.archive.EvaluationLock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pinned production version of a model and what it scored, kept on the compacted
 * {@code evalfleet.baselines} topic keyed by model name.
 *
 * @param subsetSha256 the golden subset the metrics were computed on: only runs on the same
 *     subset are comparable
 * @param tokenizerSha256 its tokenizer: perplexity is comparable only under the same tokenizer
 * @param baseModelSha256 for an adapter, its base model; otherwise null
 * @param modelSignature its inputs and outputs as ONNX Runtime saw them
 * @param scores where its per-row values (e.g. {@code cosine}) are archived, for paired
 *     comparison: the record points at them instead of carrying them, so it stays small whatever
 *     the subset's size; null when they could not be archived
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

  /** The baseline record of an evaluated version, from its lockfile (which names its archived scores). */
  public static BaselineRecord of(EvaluationLock lock, Instant recordedAt) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    lock.metrics().forEach((name, m) -> metrics.put(name, m.value()));
    return new BaselineRecord(lock.model(), lock.version(), lock.runId(), lock.artifact().sha256(),
        lock.goldenSubsetSha256(), lock.tokenizerSha256(), lock.baseModelSha256(), lock.modelSignature(), metrics,
        lock.scores(), lock.commit(), recordedAt, lock.embedding(), lock.artifact());
  }
}
