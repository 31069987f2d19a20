package io.evalfleet.common.contract;

import java.time.Instant;

/**
 * One scheduled check of a production model on its traffic, published by the monitor on {@code
 * evalfleet.monitor} (keyed by model name) and kept in the archive's history: a sample of the
 * current window's texts, embedded by the production model, tested against the reference window's
 * with the MMD² permutation test.
 *
 * @param texts texts sampled from the current window; 0 with {@code evidence} saying why nothing
 *     was tested (too little traffic)
 * @param pValue the permutation p-value of "the current window is distributed as the reference"
 * @param drifted {@code pValue <= alpha}: at most {@code alpha} of undrifted windows alarm
 * @param episodeStart for a drifted window, the end of the first window of its run of drifted
 *     windows: one drift episode, one retraining cause
 */
public record MonitorResult(
    Integer schemaVersion,
    String model,
    String version,
    Instant windowStart,
    Instant windowEnd,
    Instant referenceStart,
    Instant referenceEnd,
    int texts,
    int referenceTexts,
    Double mmd2,
    Double pValue,
    double alpha,
    boolean drifted,
    Instant episodeStart,
    String evidence,
    Instant evaluatedAt) {

  public MonitorResult {
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(model, "model");
    Checks.required(windowEnd, "window_end");
  }
}
