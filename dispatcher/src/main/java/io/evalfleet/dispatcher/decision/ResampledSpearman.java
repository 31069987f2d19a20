package io.evalfleet.dispatcher.decision;

import java.util.Arrays;

/**
 * Spearman's correlation of a resample given as row multiplicities: the Pearson correlation of the
 * resample's tie-averaged ranks (copies of one row, and rows with equal values, share the average
 * of their ranks), without sorting or building the resample.
 *
 * <p>Two passes over the rows and one over each column's {@link RankGroups}: the drawn rows per
 * group give each group's rank, and the sums of products are taken over the rows. Ranks are
 * half-integers, so twice a rank minus (n + 1) is an integer and every sum is kept exactly in a
 * {@code long} (up to {@link #EXACT_UNITS} drawn rows): the result is the exact correlation rounded
 * once, the same in any summation order, and bit for bit what summing the centred ranks in doubles
 * gives whenever that summing is exact (below about 300,000 rows). Above {@link #EXACT_UNITS} rows
 * the same integer terms are summed in doubles.
 *
 * <p>The groups are shared; the scratch arrays are not: not thread-safe, see {@link
 * #forAnotherThread()}.
 */
final class ResampledSpearman {
  /** Most drawn rows whose sums cannot overflow a {@code long} (n³/3 below 2⁶³). */
  static final int EXACT_UNITS = 1 << 21;

  private final RankGroups x;
  private final RankGroups y;
  private final int[] xCopies;
  private final int[] yCopies;
  private final int[] xCentred;
  private final int[] yCentred;

  ResampledSpearman(double[] x, double[] y) {
    this(RankGroups.of(x), RankGroups.of(y));
  }

  private ResampledSpearman(RankGroups x, RankGroups y) {
    this.x = x;
    this.y = y;
    this.xCopies = new int[x.groups];
    this.yCopies = new int[y.groups];
    this.xCentred = new int[x.groups];
    this.yCentred = new int[y.groups];
  }

  /** The same columns with scratch of its own, for another thread. */
  ResampledSpearman forAnotherThread() {
    return new ResampledSpearman(x, y);
  }

  /**
   * @param counts how often each row was drawn
   * @param n their sum
   */
  double correlation(int[] counts, int n) {
    int[] gx = x.groupOf;
    int[] gy = y.groupOf;
    Arrays.fill(xCopies, 0);
    Arrays.fill(yCopies, 0);
    for (int i = 0; i < counts.length; i++) {
      int c = counts[i];
      if (c != 0) {
        xCopies[gx[i]] += c;
        yCopies[gy[i]] += c;
      }
    }
    if (n > EXACT_UNITS) {
      return correlationInDoubles(counts, n);
    }
    long sxx = centre(xCopies, xCentred, n);
    long syy = centre(yCopies, yCentred, n);
    long sxy = 0;
    for (int i = 0; i < counts.length; i++) {
      int c = counts[i];
      if (c != 0) {
        sxy += (long) c * xCentred[gx[i]] * yCentred[gy[i]];
      }
    }
    // The centred ranks are half of these integers: every sum is a quarter of the integer one.
    double dxy = sxy / 4.0;
    double dxx = sxx / 4.0;
    double dyy = syy / 4.0;
    return dxy / Math.sqrt(dxx * dyy);
  }

  /**
   * Writes each group's 2·rank − (n + 1) for the resample (its rank: the drawn rows below it plus
   * the average of its own copies' positions) and returns Σ copies · that².
   */
  private static long centre(int[] copies, int[] centred, int n) {
    long below = 0;
    long sum = 0;
    for (int g = 0; g < copies.length; g++) {
      int c = copies[g];
      long value = 2 * below + c - n;
      centred[g] = (int) value;
      sum += c * value * value;
      below += c;
    }
    return sum;
  }

  private double correlationInDoubles(int[] counts, int n) {
    double sxx = centreInDoubles(xCopies, xCentred, n);
    double syy = centreInDoubles(yCopies, yCentred, n);
    double sxy = 0;
    for (int i = 0; i < counts.length; i++) {
      int c = counts[i];
      if (c != 0) {
        sxy += (double) c * xCentred[x.groupOf[i]] * yCentred[y.groupOf[i]];
      }
    }
    return sxy / 4.0 / Math.sqrt(sxx / 4.0 * (syy / 4.0));
  }

  private static double centreInDoubles(int[] copies, int[] centred, int n) {
    long below = 0;
    double sum = 0;
    for (int g = 0; g < copies.length; g++) {
      int c = copies[g];
      long value = 2 * below + c - n;
      centred[g] = (int) value;
      sum += (double) c * value * value;
      below += c;
    }
    return sum;
  }
}
