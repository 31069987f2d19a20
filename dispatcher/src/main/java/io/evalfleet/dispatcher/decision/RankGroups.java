package io.evalfleet.dispatcher.decision;

import java.util.Arrays;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

/**
 * A column's rows grouped by value for ranking: rows with equal values share a group, groups are
 * numbered in ascending order of value (in {@link Double#compare} order, with 0.0 and −0.0 one
 * group, and every NaN a group of its own after all numbers, in row order). A resample's
 * tie-averaged rank of a row then follows from how many drawn rows fall in each group below it.
 * Built once per column with a primitive sort; immutable.
 */
final class RankGroups {
  /** Each row's group. */
  final int[] groupOf;

  /** The rows in ascending order of value (rows of one group in any order among themselves). */
  final int[] order;

  /**
   * Per group, the position in {@link #order} after its last row; null when every group is one row.
   */
  final int[] ends;

  /** How many groups there are. */
  final int groups;

  private RankGroups(int[] groupOf, int[] order, int[] ends, int groups) {
    this.groupOf = groupOf;
    this.order = order;
    this.ends = ends;
    this.groups = groups;
  }

  /**
   * Spearman's correlation of two columns of all rows, exactly as commons-math's {@link
   * SpearmansCorrelation} gives it (the same tie-averaged ranks, then its Pearson correlation),
   * with the ranks from a primitive sort instead of a sort of boxed pairs: seconds faster at a
   * million rows. Columns holding NaN or −0.0 (which its ranking orders apart from 0.0) go to
   * commons-math itself.
   */
  static double spearman(double[] x, double[] y) {
    if (x.length != y.length || x.length < 2 || !plain(x) || !plain(y)) {
      return new SpearmansCorrelation().correlation(x, y);
    }
    return new PearsonsCorrelation().correlation(of(x).ranks(), of(y).ranks());
  }

  private static boolean plain(double[] values) {
    for (double value : values) {
      if (Double.isNaN(value) || Double.doubleToRawLongBits(value) == Long.MIN_VALUE) {
        return false;
      }
    }
    return true;
  }

  /** Each row's tie-averaged rank (1 for the smallest value) among all rows. */
  double[] ranks() {
    double[] byGroup = new double[groups];
    int below = 0;
    for (int g = 0; g < groups; g++) {
      int end = ends == null ? g + 1 : ends[g];
      byGroup[g] = below + (end - below + 1) / 2.0;
      below = end;
    }
    double[] ranks = new double[groupOf.length];
    for (int i = 0; i < ranks.length; i++) {
      ranks[i] = byGroup[groupOf[i]];
    }
    return ranks;
  }

  static RankGroups of(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int numbers = sorted.length;
    while (numbers > 0 && Double.isNaN(sorted[numbers - 1])) {
      numbers--;
    }
    // The group of each sorted position; equal values (== as ranking compares them) share one.
    int[] groupAt = new int[numbers];
    int group = -1;
    for (int k = 0; k < numbers; k++) {
      if (k == 0 || sorted[k] != sorted[k - 1]) {
        group++;
      }
      groupAt[k] = group;
    }
    int[] groupOf = new int[values.length];
    int next = group + 1;
    for (int i = 0; i < values.length; i++) {
      double value = values[i];
      groupOf[i] =
          Double.isNaN(value) ? next++ : groupAt[Arrays.binarySearch(sorted, 0, numbers, value)];
    }
    int groups = next;
    // Counting sort of the rows by group.
    int[] ends = new int[groups];
    for (int g : groupOf) {
      ends[g]++;
    }
    for (int g = 1; g < groups; g++) {
      ends[g] += ends[g - 1];
    }
    int[] order = new int[values.length];
    int[] at = new int[groups];
    for (int g = 1; g < groups; g++) {
      at[g] = ends[g - 1];
    }
    for (int i = 0; i < values.length; i++) {
      order[at[groupOf[i]]++] = i;
    }
    return new RankGroups(groupOf, order, groups == values.length ? null : ends, groups);
  }
}
