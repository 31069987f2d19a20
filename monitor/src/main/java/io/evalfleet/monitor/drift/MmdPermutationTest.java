package io.evalfleet.monitor.drift;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A two-sample test of "the current window's embeddings come from the reference window's
 * distribution": the unbiased squared maximum mean discrepancy (MMD²) with a Gaussian kernel, its
 * bandwidth the median distance between all pooled points (the median heuristic), and its p-value
 * from label permutations, {@code (1 + #{permuted MMD² ≥ observed}) / (1 + permutations)}. Under no
 * drift the p-value is uniform up to the permutations' resolution, so alarming at {@code p ≤ α}
 * gives a false-alarm rate of at most α per window, whatever the distribution.
 *
 * <p>The kernel matrix of the pooled sample is computed once; each permutation re-labels it. With
 * windows of a few hundred texts that is a few milliseconds per hundred permutations. The same
 * inputs and seed give the same result. Immutable and thread-safe.
 */
public final class MmdPermutationTest {
  private final int permutations;
  private final long seed;

  public MmdPermutationTest(int permutations, long seed) {
    if (permutations < 1) {
      throw new IllegalArgumentException("at least one permutation, got " + permutations);
    }
    this.permutations = permutations;
    this.seed = seed;
  }

  /**
   * @param mmd2 the unbiased MMD² of the two windows
   * @param pValue the permutation p-value of "no drift"
   * @param bandwidth the kernel's bandwidth (median pooled distance)
   */
  public record Result(
      double mmd2, double pValue, double bandwidth, int reference, int current, int permutations) {
    /**
     * Whether the p-value is at most {@code alpha}: drift, at a false-alarm rate of at most alpha
     * per window.
     */
    public boolean drifted(double alpha) {
      return pValue <= alpha;
    }
  }

  /**
   * @param reference the reference window's embeddings, each of the same dimension
   * @param current the current window's embeddings
   * @throws IllegalArgumentException when a window has fewer than 2 points or dimensions differ
   */
  public Result test(double[][] reference, double[][] current) {
    int n = reference.length;
    int m = current.length;
    if (n < 2 || m < 2) {
      throw new IllegalArgumentException(
          "each window needs at least 2 embeddings, got " + n + " and " + m);
    }
    double[][] pooled = new double[n + m][];
    System.arraycopy(reference, 0, pooled, 0, n);
    System.arraycopy(current, 0, pooled, n, m);
    int dimensions = pooled[0].length;
    for (double[] point : pooled) {
      if (point.length != dimensions) {
        throw new IllegalArgumentException(
            "embeddings of " + dimensions + " and " + point.length + " dimensions");
      }
    }
    int total = n + m;
    double[][] squared = new double[total][total];
    double[] distances = new double[total * (total - 1) / 2];
    int at = 0;
    for (int i = 0; i < total; i++) {
      for (int j = i + 1; j < total; j++) {
        double d2 = 0;
        for (int k = 0; k < dimensions; k++) {
          double diff = pooled[i][k] - pooled[j][k];
          d2 += diff * diff;
        }
        squared[i][j] = d2;
        squared[j][i] = d2;
        distances[at++] = Math.sqrt(d2);
      }
    }
    Arrays.sort(distances);
    double median = distances[distances.length / 2];
    double bandwidth = median > 0 ? median : 1;
    double[][] kernel = new double[total][total];
    for (int i = 0; i < total; i++) {
      for (int j = 0; j < total; j++) {
        kernel[i][j] = i == j ? 1 : Math.exp(-squared[i][j] / (2 * bandwidth * bandwidth));
      }
    }
    int[] labels = new int[total];
    for (int i = 0; i < total; i++) {
      labels[i] = i;
    }
    double observed = mmd2(kernel, labels, n);
    SplittableRandom random = new SplittableRandom(seed);
    int atLeast = 0;
    for (int p = 0; p < permutations; p++) {
      for (int i = total - 1; i > 0; i--) { // Fisher–Yates
        int j = random.nextInt(i + 1);
        int swap = labels[i];
        labels[i] = labels[j];
        labels[j] = swap;
      }
      if (mmd2(kernel, labels, n) >= observed) {
        atLeast++;
      }
    }
    return new Result(
        observed, (1.0 + atLeast) / (1.0 + permutations), bandwidth, n, m, permutations);
  }

  /**
   * The unbiased MMD² of the points {@code order[0..n)} against {@code order[n..)}: the mean kernel
   * within each sample (without the diagonal) minus twice the mean across them.
   */
  static double mmd2(double[][] kernel, int[] order, int n) {
    int total = order.length;
    int m = total - n;
    double xx = 0;
    double yy = 0;
    double xy = 0;
    for (int a = 0; a < total; a++) {
      double[] row = kernel[order[a]];
      for (int b = a + 1; b < total; b++) {
        double k = row[order[b]];
        if (a < n && b < n) {
          xx += k;
        } else if (a >= n) {
          yy += k;
        } else {
          xy += k;
        }
      }
    }
    return 2 * xx / ((double) n * (n - 1))
        + 2 * yy / ((double) m * (m - 1))
        - 2 * xy / ((double) n * m);
  }
}
