package io.evalfleet.dispatcher.decision;

import java.util.Arrays;

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

  /** How many groups there are. */
  final int groups;

  private RankGroups(int[] groupOf, int groups) {
    this.groupOf = groupOf;
    this.groups = groups;
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
    return new RankGroups(groupOf, next);
  }
}
