package io.evalfleet.dispatcher.baseline;

import java.time.Instant;
import java.util.Map;

/**
 * The pinned production version of a model and what it scored, kept on the compacted
 * {@code evalfleet.baselines} topic keyed by model name.
 *
 * @param subsetSha256 the golden subset the metrics were computed on: only runs on the same
 *     subset are comparable
 * @param rowValues per-row values (e.g. {@code cosine}) for paired comparison
 */
public record BaselineRecord(
    String model,
    String version,
    String runId,
    String artifactSha256,
    String subsetSha256,
    Map<String, Double> metrics,
    Map<String, double[]> rowValues,
    Instant recordedAt) {}
