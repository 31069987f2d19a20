package io.evalfleet.dispatcher.decision;

import java.util.Arrays;

/**
 * Spearman's correlation of a resample given as row multiplicities: the Pearson correlation of the
 * resample's tie-averaged ranks (copies of one row, and rows with equal values, share the average
 * of their ranks), without sorting or building the resample.
 *
 * <p>Each column is grouped by value once ({@link RankGroups}). Per resample, one pass over the
 * rows counts the drawn rows in each group of the column with fewer groups (y, the gold scores with
 * their ties) and gives each group its rank; one pass over the other column's rows in ascending
 * order (x, the cosines) gives each group's rank as it goes and sums the products. Ranks are
 * half-integers, so twice a rank minus (n + 1) is an integer, and every sum is kept exactly in a
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

  /** The column walked in order of value. */
  private final RankGroups x;

  /** The column whose groups are counted per resample. */
  private final RankGroups y;

  /** y's group of each row in x's order. */
  private final int[] yGroupInXOrder;

  private final int[] yCopies;
  private final long[] yCentred;

  ResampledSpearman(double[] first, double[] second) {
    RankGroups a = RankGroups.of(first);
    RankGroups b = RankGroups.of(second);
    // The correlation is symmetric; the column with fewer groups is the cheap one to count.
    this.x = a.groups >= b.groups ? a : b;
    this.y = a.groups >= b.groups ? b : a;
    this.yGroupInXOrder = new int[x.order.length];
    for (int k = 0; k < x.order.length; k++) {
      yGroupInXOrder[k] = y.groupOf[x.order[k]];
    }
    this.yCopies = new int[y.groups];
    this.yCentred = new long[y.groups];
  }

  private ResampledSpearman(ResampledSpearman shared) {
    this.x = shared.x;
    this.y = shared.y;
    this.yGroupInXOrder = shared.yGroupInXOrder;
    this.yCopies = new int[y.groups];
    this.yCentred = new long[y.groups];
  }

  /** The same columns with scratch of its own, for another thread. */
  ResampledSpearman forAnotherThread() {
    return new ResampledSpearman(this);
  }

  /**
   * @param counts how often each row was drawn
   * @param n their sum
   */
  double correlation(int[] counts, int n) {
    int[] gy = y.groupOf;
    Arrays.fill(yCopies, 0);
    for (int i = 0; i < counts.length; i++) {
      yCopies[gy[i]] += counts[i];
    }
    long syy = 0;
    long below = 0;
    for (int g = 0; g < yCopies.length; g++) {
      int c = yCopies[g];
      long centred = 2 * below + c - n;
      yCentred[g] = centred;
      syy += c * centred * centred;
      below += c;
    }
    if (n > EXACT_UNITS) {
      return inDoubles(counts, n);
    }
    int[] order = x.order;
    long sxx = 0;
    long sxy = 0;
    below = 0;
    if (x.ends == null) {
      // Every value distinct: a row is its own group.
      for (int k = 0; k < order.length; k++) {
        long c = counts[order[k]];
        long centred = 2 * below + c - n;
        sxx += c * centred * centred;
        sxy += c * centred * yCentred[yGroupInXOrder[k]];
        below += c;
      }
    } else {
      int start = 0;
      for (int end : x.ends) {
        long copies = 0;
        long products = 0;
        for (int k = start; k < end; k++) {
          int c = counts[order[k]];
          copies += c;
          products += c * yCentred[yGroupInXOrder[k]];
        }
        long centred = 2 * below + copies - n;
        sxx += copies * centred * centred;
        sxy += centred * products;
        below += copies;
        start = end;
      }
    }
    // The centred ranks are half of these integers: each sum is a quarter of the integer one.
    double dxy = sxy / 4.0;
    double dxx = sxx / 4.0;
    double dyy = syy / 4.0;
    return dxy / Math.sqrt(dxx * dyy);
  }

  /** The same terms, summed in doubles: past {@link #EXACT_UNITS} rows a long could overflow. */
  private double inDoubles(int[] counts, int n) {
    double syy = 0;
    for (int g = 0; g < yCopies.length; g++) {
      double centred = yCentred[g];
      syy += yCopies[g] * centred * centred;
    }
    int[] order = x.order;
    int[] ends = x.ends;
    double sxx = 0;
    double sxy = 0;
    long below = 0;
    int start = 0;
    for (int g = 0; g < x.groups; g++) {
      int end = ends == null ? g + 1 : ends[g];
      long copies = 0;
      double products = 0;
      for (int k = start; k < end; k++) {
        int c = counts[order[k]];
        copies += c;
        products += c * (double) yCentred[yGroupInXOrder[k]];
      }
      double centred = 2 * below + copies - n;
      sxx += copies * centred * centred;
      sxy += centred * products;
      below += copies;
      start = end;
    }
    return sxy / 4.0 / Math.sqrt(sxx / 4.0 * (syy / 4.0));
  }
}
