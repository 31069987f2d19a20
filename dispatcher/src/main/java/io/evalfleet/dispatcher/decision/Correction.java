package io.evalfleet.dispatcher.decision;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * How the p-values of the gating metrics are corrected so that the chance of any false claim in the
 * family stays at most α. Each gate is a separate hypothesis; without a correction, three gates at
 * α = 0.05 would falsely flag a healthy model about three times as often as promised.
 */
public enum Correction {
  /**
   * Holm's step-down: as strict as Bonferroni for the smallest p-value, then less so; never weaker.
   */
  HOLM,
  /** Every p-value multiplied by the number of gates. */
  BONFERRONI,
  /** Raw p-values: α holds per metric, not for the family. */
  NONE;

  /**
   * Adjusted p-values, in the order given: a hypothesis is rejected at family level α when its
   * adjusted p-value is at most α. Adjusted values never exceed 1.
   */
  public double[] adjust(double[] pValues) {
    int m = pValues.length;
    return switch (this) {
      case NONE -> pValues.clone();
      case BONFERRONI -> Arrays.stream(pValues).map(p -> Math.min(1, m * p)).toArray();
      case HOLM -> holm(pValues);
    };
  }

  /**
   * Confidence level of the two-sided intervals reported next to the tests: {@code 1 − α/m} for
   * Bonferroni and Holm (Holm has no exact simultaneous interval, so it reports Bonferroni's), and
   * {@code 1 − α} without correction.
   */
  public double intervalConfidence(double alpha, int gates) {
    return this == NONE ? 1 - alpha : 1 - alpha / Math.max(1, gates);
  }

  private static double[] holm(double[] pValues) {
    int m = pValues.length;
    Integer[] order =
        IntStream.range(0, m)
            .boxed()
            .sorted(Comparator.comparingDouble(i -> pValues[i]))
            .toArray(Integer[]::new);
    double[] adjusted = new double[m];
    double runningMax = 0;
    for (int rank = 0; rank < m; rank++) {
      // Step-down: once a hypothesis is kept, every larger p-value is kept too, hence the running
      // max.
      runningMax = Math.max(runningMax, Math.min(1, (m - rank) * pValues[order[rank]]));
      adjusted[order[rank]] = runningMax;
    }
    return adjusted;
  }

  public String wireName() {
    return name().toLowerCase();
  }
}
