package io.evalfleet.laptop.bench;

import java.util.Arrays;

/** Summaries of timed benchmark rounds. */
final class Rounds {
  private Rounds() {}

  /**
   * The median of the rounds' seconds: robust to one round disturbed by the rest of a shared
   * machine.
   */
  static double median(double[] seconds) {
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
