package io.evalfleet.common.contract;

import java.time.Instant;
import java.util.Map;

/**
 * A request to retrain a production model, published by the monitor on {@code
 * evalfleet.retrain-requests} (keyed by cause id) exactly once per cause: a drift episode on its
 * traffic, or its retraining cadence expiring.
 *
 * @param causeId {@code <model>:drift:<episode start>} or {@code <model>:cadence:<period>}
 * @param cause {@code drift} or {@code cadence}
 * @param metrics the evidence in numbers (for drift: {@code mmd2}, {@code p_value}, {@code alpha})
 * @param windowStart the window that raised the cause (the first drifted one; the current one for cadence)
 * @param subset the golden subset to rebuild from fresh traffic before retraining, when configured
 */
public record RetrainRequest(
    Integer schemaVersion,
    String causeId,
    String model,
    String version,
    String cause,
    String evidence,
    Map<String, Double> metrics,
    Instant windowStart,
    Instant windowEnd,
    String subset,
    Instant requestedAt) {

  public RetrainRequest {
    Checks.schemaVersion(schemaVersion);
    Checks.requiredText(causeId, "cause_id");
    Checks.identifier(model, "model");
    metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
  }
}
