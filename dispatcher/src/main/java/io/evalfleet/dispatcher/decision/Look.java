package io.evalfleet.dispatcher.decision;

/**
 * What one look at a completed prefix of a run's rows came to (see {@link SequentialDecider}).
 *
 * @param stop whether the run may stop now, and with which flag
 * @param rows rows of the prefix looked at
 * @param rowsTotal rows of the whole run
 * @param reason why it stopped, or why it goes on, in one sentence
 * @param verdict non-null exactly when {@code stop} is not {@link Stop#CONTINUE}: the flag, each
 *     metric's value with its confidence-sequence interval, and the evidence, in the shape of a
 *     fixed-sample {@link Verdict}
 * @throws IllegalArgumentException when the verdict's presence does not match the stop, or the
 *     counts are impossible
 */
public record Look(Stop stop, long rows, long rowsTotal, String reason, Verdict verdict) {

  /** Whether to score more rows, or stop with a flag. */
  public enum Stop {
    CONTINUE,
    RED,
    GREEN,
    /**
     * No gating metric of the run can be judged at a look (a gating Spearman or kl_p99 alone): this
     * look, and any later one, cannot stop the run, so it spends none of α and the run is decided
     * at the end with the policy's whole α.
     */
    NEVER
  }

  public Look {
    if (stop == null || reason == null) {
      throw new IllegalArgumentException("a look needs a stop and a reason");
    }
    if ((verdict == null) == stops(stop)) {
      throw new IllegalArgumentException(
          "a look that stops carries a verdict and one that continues none; stop "
              + stop
              + (verdict == null ? " without" : " with")
              + " a verdict");
    }
    if (rows < 0 || rows > rowsTotal) {
      throw new IllegalArgumentException(
          "a look covers 0 to rowsTotal rows, was " + rows + " of " + rowsTotal);
    }
  }

  /** Whether the run may stop scoring. */
  public boolean stops() {
    return stops(stop);
  }

  private static boolean stops(Stop stop) {
    return stop == Stop.RED || stop == Stop.GREEN;
  }
}
