package io.evalfleet.common.archive;

import java.time.Instant;
import java.util.Map;

/**
 * One entry of a model's baseline history: a version that became its production baseline, when,
 * why, and what it scored. The history is what the variance band is computed from.
 *
 * @param commit the source commit of the version's training code, from its staged event
 * @param reason {@code first} (the model's first evaluated version), {@code pinned} or {@code
 *     promoted}
 */
public record BaselineSnapshot(
    String model,
    String version,
    String commit,
    String runId,
    String artifactSha256,
    String subsetSha256,
    Map<String, Double> metrics,
    String reason,
    Instant recordedAt) {}
