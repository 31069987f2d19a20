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
 * @param perplexity causal LM: the window sample's perplexity (pooled over tokens); {@code
 *     referencePerplexity} the reference sample's. For a causal LM the p-value is a permutation test
 *     of rows on the difference of NLL per token, and {@code mmd2} is absent
 * @param shadow with a shadow candidate: its token shift from the production model on the window's
 *     texts ({@code kl_mean}, {@code kl_p99}, {@code top1_agreement})
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
    Instant evaluatedAt,
    Double perplexity,
    Double referencePerplexity,
    java.util.Map<String, Double> shadow) {

  /** A check of an embedding model (no perplexity, no shadow). */
  public MonitorResult(Integer schemaVersion, String model, String version, Instant windowStart, Instant windowEnd,
      Instant referenceStart, Instant referenceEnd, int texts, int referenceTexts, Double mmd2, Double pValue,
      double alpha, boolean drifted, Instant episodeStart, String evidence, Instant evaluatedAt) {
    this(schemaVersion, model, version, windowStart, windowEnd, referenceStart, referenceEnd, texts, referenceTexts, mmd2,
        pValue, alpha, drifted, episodeStart, evidence, evaluatedAt, null, null, java.util.Map.of());
  }

  public MonitorResult {
    shadow = shadow == null ? java.util.Map.of() : java.util.Map.copyOf(shadow);
    Checks.schemaVersion(schemaVersion);
    Checks.identifier(model, "model");
    Checks.required(windowEnd, "window_end");
  }
}
