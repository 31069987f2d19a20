package io.evalfleet.common.task;

/** The version of evalfleet's scoring semantics, recorded with every score and lockfile. */
public final class Evaluator {
  /**
   * Changes whenever the same model on the same rows could score differently: tokenisation,
   * pooling, windowing, or the definition of a metric. Archived scores of another version are never
   * reused.
   */
  public static final String VERSION = "evalfleet-scoring/1";

  private Evaluator() {}
}
