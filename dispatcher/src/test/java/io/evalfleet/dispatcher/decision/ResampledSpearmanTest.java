package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;
import org.junit.jupiter.api.Test;

class ResampledSpearmanTest {

  /**
   * Small random columns with many ties (values from a few levels, equal values across rows, 0.0
   * next to −0.0) and random multiplicities: the correlation is bit for bit that of ranking the
   * resample by sorting its rows and summing the centred ranks in doubles, and it equals
   * commons-math's Spearman of the expanded resample.
   */
  @Test
  void equalsRankingEveryResampleBySortingBitForBit() {
    SplittableRandom random = new SplittableRandom(3);
    for (int trial = 0; trial < 2000; trial++) {
      int n = 2 + random.nextInt(trial < 1500 ? 12 : 300);
      double[] x = column(random, n);
      double[] y = column(random, n);
      int[] counts = new int[n];
      for (int i = 0; i < n; i++) {
        counts[random.nextInt(n)]++;
      }
      double fast = new ResampledSpearman(x, y).correlation(counts, n);
      double sorted = sortingEachResample(x, y, counts);
      assertThat(Double.doubleToRawLongBits(fast))
          .as("trial %d, n %d: %s against %s", trial, n, fast, sorted)
          .isEqualTo(Double.doubleToRawLongBits(sorted));
      double[] ex = expand(x, counts);
      double[] ey = expand(y, counts);
      if (!Double.isNaN(fast) && !hasNegativeZero(ex) && !hasNegativeZero(ey)) {
        assertThat(fast)
            .as("trial %d", trial)
            .isCloseTo(new SpearmansCorrelation().correlation(ex, ey), within(1e-12));
      }
    }
  }

  /** Either column may be the one walked in order: the result does not depend on which. */
  @Test
  void isSymmetricInItsColumns() {
    SplittableRandom random = new SplittableRandom(4);
    for (int trial = 0; trial < 200; trial++) {
      int n = 3 + random.nextInt(200);
      double[] x = column(random, n);
      double[] y = column(random, n);
      int[] counts = random.ints(n, 0, 3).toArray();
      int drawn = Arrays.stream(counts).sum();
      assertThat(new ResampledSpearman(x, y).correlation(counts, drawn))
          .isEqualTo(new ResampledSpearman(y, x).correlation(counts, drawn));
    }
  }

  /**
   * Past {@link ResampledSpearman#EXACT_UNITS} drawn rows the sums are taken in doubles; a few rows
   * drawn millions of times each give the same correlation as the exact sums of the same ranks.
   */
  @Test
  void sumsInDoublesPastTheExactRangeAgreeWithExactSums() {
    SplittableRandom random = new SplittableRandom(5);
    for (int trial = 0; trial < 20; trial++) {
      int n = 40;
      double[] x = column(random, n);
      double[] y = column(random, n);
      int[] counts = random.ints(n, 0, 200_000).toArray();
      int drawn = Arrays.stream(counts).sum();
      assertThat(drawn).isGreaterThan(ResampledSpearman.EXACT_UNITS);
      assertThat(new ResampledSpearman(x, y).correlation(counts, drawn))
          .isCloseTo(exact(x, y, counts), within(1e-12));
    }
  }

  /** Spearman of all rows equals commons-math's bit for bit, −0.0 next to 0.0 included. */
  @Test
  void spearmanOfAllRowsIsCommonsMathsBitForBit() {
    SplittableRandom random = new SplittableRandom(6);
    for (int trial = 0; trial < 500; trial++) {
      int n = 2 + random.nextInt(trial < 450 ? 30 : 20_000);
      double[] x = column(random, n);
      double[] y = column(random, n);
      double expected = new SpearmansCorrelation().correlation(x, y);
      assertThat(Double.doubleToRawLongBits(RankGroups.spearman(x, y)))
          .as("trial %d, n %d", trial, n)
          .isEqualTo(Double.doubleToRawLongBits(expected));
    }
  }

  private static double[] column(SplittableRandom random, int n) {
    int levels = 1 + random.nextInt(8);
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] =
          switch (random.nextInt(4)) {
            case 0 -> random.nextInt(levels);
            case 1 -> random.nextGaussian();
            case 2 -> random.nextBoolean() ? 0.0 : -0.0;
            default -> random.nextInt(levels) / 3.0;
          };
    }
    return values;
  }

  /**
   * How the bootstrap ranked a resample before its ranks were kept in integers: rows sorted by
   * value once, the resample's tie-averaged ranks in one pass over that order, and the Pearson
   * correlation of the ranks weighted by multiplicity, summed in doubles in row order.
   */
  private static double sortingEachResample(double[] x, double[] y, int[] counts) {
    double n = Arrays.stream(counts).sum();
    double[] rx = ranks(x, counts);
    double[] ry = ranks(y, counts);
    double meanX = weightedSum(rx, counts) / n;
    double meanY = weightedSum(ry, counts) / n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        double dx = rx[i] - meanX;
        double dy = ry[i] - meanY;
        sxy += counts[i] * dx * dy;
        sxx += counts[i] * dx * dx;
        syy += counts[i] * dy * dy;
      }
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  private static double[] ranks(double[] values, int[] counts) {
    int[] order =
        IntStream.range(0, values.length)
            .boxed()
            .sorted(Comparator.comparingDouble(i -> values[i]))
            .mapToInt(Integer::intValue)
            .toArray();
    double[] ranks = new double[values.length];
    int below = 0;
    int at = 0;
    while (at < order.length) {
      int end = at;
      int copies = 0;
      while (end < order.length && values[order[end]] == values[order[at]]) {
        copies += counts[order[end]];
        end++;
      }
      double average = below + (copies + 1) / 2.0;
      for (int k = at; k < end; k++) {
        ranks[order[k]] = average;
      }
      below += copies;
      at = end;
    }
    return ranks;
  }

  private static double weightedSum(double[] values, int[] counts) {
    double sum = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        sum += counts[i] * values[i];
      }
    }
    return sum;
  }

  /** The same correlation from exact sums of the doubled, centred ranks. */
  private static double exact(double[] x, double[] y, int[] counts) {
    long n = Arrays.stream(counts).sum();
    double[] rx = ranks(x, counts);
    double[] ry = ranks(y, counts);
    java.math.BigInteger sxy = java.math.BigInteger.ZERO;
    java.math.BigInteger sxx = java.math.BigInteger.ZERO;
    java.math.BigInteger syy = java.math.BigInteger.ZERO;
    for (int i = 0; i < counts.length; i++) {
      var c = java.math.BigInteger.valueOf(counts[i]);
      var dx = java.math.BigInteger.valueOf((long) (2 * rx[i]) - n - 1);
      var dy = java.math.BigInteger.valueOf((long) (2 * ry[i]) - n - 1);
      sxy = sxy.add(c.multiply(dx).multiply(dy));
      sxx = sxx.add(c.multiply(dx).multiply(dx));
      syy = syy.add(c.multiply(dy).multiply(dy));
    }
    return sxy.doubleValue() / Math.sqrt(sxx.doubleValue() * syy.doubleValue());
  }

  private static double[] expand(double[] values, int[] counts) {
    double[] expanded = new double[Arrays.stream(counts).sum()];
    int at = 0;
    for (int i = 0; i < values.length; i++) {
      for (int c = 0; c < counts[i]; c++) {
        expanded[at++] = values[i];
      }
    }
    return expanded;
  }

  private static boolean hasNegativeZero(double[] values) {
    return Arrays.stream(values).anyMatch(v -> Double.doubleToRawLongBits(v) == Long.MIN_VALUE);
  }
}
