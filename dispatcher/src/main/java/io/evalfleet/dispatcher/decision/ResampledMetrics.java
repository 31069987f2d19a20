package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The metrics of {@link MetricVector#metrics} for a resample given as row multiplicities, without
 * building the resampled columns and without sorting.
 *
 * <p>Why not call {@code MetricVector.metrics} per resample: its Spearman ranks with commons-math,
 * which boxes and sorts every element, about 1.3 s for 2000 resamples of 240 pairs on both sides.
 * Here each column is sorted once; a resample's tie-averaged ranks follow in one pass over that
 * order (rows with equal values, and copies of one row, share the average of their ranks), and
 * Spearman is the Pearson correlation of those ranks weighted by multiplicity. Perplexity and bits
 * per byte, and the token shift's means, stay pooled over tokens and bytes inside each resample.
 * The results agree with {@code MetricVector.metrics} on the expanded resample to rounding (tested
 * to 1e-12).
 *
 * <p>Not thread-safe: holds scratch buffers reused across resamples.
 */
final class ResampledMetrics {
  private final List<String> metrics;
  private final double[] cosine;
  private final double[] gold;
  private final int[] cosineOrder;
  private final int[] goldOrder;
  private final double[] nll;
  private final double[] tokens;
  private final double[] bytes;
  private final double[] klSum;
  private final double[] agreements;
  private final double[] dpTrue;
  private final Map<String, double[]> rows;
  private final double[] cosineRanks;
  private final double[] goldRanks;

  /**
   * @param rows one run's columns; @param metrics the metrics to compute, a subset of what its
   *     columns give
   */
  ResampledMetrics(Map<String, double[]> rows, List<String> metrics) {
    this.metrics = List.copyOf(metrics);
    this.cosine = rows.get(MetricNames.COSINE);
    this.gold = rows.get(MetricNames.GOLD);
    this.nll = rows.get(MetricNames.NLL_SUM);
    this.tokens = rows.get(MetricNames.TOKENS);
    this.bytes = rows.get(MetricNames.BYTES);
    this.klSum = rows.get(MetricNames.KL_SUM);
    this.agreements = rows.get(MetricNames.TOP1_AGREE);
    this.dpTrue = rows.get(MetricNames.DP_TRUE_SUM);
    this.rows = rows;
    this.cosineOrder = cosine == null ? null : order(cosine);
    this.goldOrder = gold == null ? null : order(gold);
    this.cosineRanks = cosine == null ? null : new double[cosine.length];
    this.goldRanks = gold == null ? null : new double[gold.length];
  }

  /**
   * Names of the metrics this class can compute; any other metric needs {@code
   * MetricVector.metrics}.
   */
  static final List<String> SUPPORTED =
      Stream.concat(
              Stream.of(
                  MetricNames.SPEARMAN,
                  MetricNames.MEAN_COSINE,
                  MetricNames.PERPLEXITY,
                  MetricNames.BITS_PER_BYTE,
                  MetricNames.KL_MEAN,
                  MetricNames.TOP1_AGREEMENT,
                  MetricNames.DP_TRUE_MEAN,
                  MetricNames.MRR_AT_10,
                  MetricNames.NDCG_AT_10,
                  MetricNames.INDEX_LOSS,
                  MetricNames.OVERLAP_AT_10),
              RetrievalTask.RECALL_CUTOFFS.stream().map(RetrievalTask::recall))
          .toList();

  /**
   * Writes each metric's value for the resample with {@code counts[i]} copies of row i into {@code
   * into}, in metric order.
   */
  void compute(int[] counts, double[] into) {
    double n = total(counts); // once per resample: every metric divides by it
    for (int m = 0; m < metrics.size(); m++) {
      into[m] =
          switch (metrics.get(m)) {
            case MetricNames.SPEARMAN -> spearman(counts, n);
            case MetricNames.MEAN_COSINE -> weightedSum(cosine, counts) / n;
            case MetricNames.PERPLEXITY ->
                Math.exp(weightedSum(nll, counts) / weightedSum(tokens, counts));
            case MetricNames.BITS_PER_BYTE ->
                weightedSum(nll, counts) / (weightedSum(bytes, counts) * Math.log(2));
            case MetricNames.KL_MEAN -> weightedSum(klSum, counts) / weightedSum(tokens, counts);
            case MetricNames.TOP1_AGREEMENT ->
                weightedSum(agreements, counts) / weightedSum(tokens, counts);
            case MetricNames.DP_TRUE_MEAN ->
                weightedSum(dpTrue, counts) / weightedSum(tokens, counts);
            // Retrieval: only queries are drawn, and every query has each of these values.
            case MetricNames.MRR_AT_10 -> weightedSum(rows.get(MetricNames.RR_AT_10), counts) / n;
            case MetricNames.INDEX_LOSS ->
                1
                    - weightedSum(rows.get(MetricNames.INDEX_NDCG_AT_10), counts)
                        / weightedSum(rows.get(MetricNames.NDCG_AT_10), counts);
            case MetricNames.NDCG_AT_10, MetricNames.OVERLAP_AT_10 ->
                weightedSum(rows.get(metrics.get(m)), counts) / n;
            default -> {
              if (!metrics.get(m).startsWith("recall@")) {
                throw new IllegalStateException(
                    "no resampled form of metric '" + metrics.get(m) + "'");
              }
              yield weightedSum(rows.get(metrics.get(m)), counts) / n;
            }
          };
    }
  }

  private double spearman(int[] counts, double n) {
    ranks(cosine, cosineOrder, counts, cosineRanks);
    ranks(gold, goldOrder, counts, goldRanks);
    double meanX = weightedSum(cosineRanks, counts) / n;
    double meanY = weightedSum(goldRanks, counts) / n;
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        double dx = cosineRanks[i] - meanX;
        double dy = goldRanks[i] - meanY;
        sxy += counts[i] * dx * dy;
        sxx += counts[i] * dx * dx;
        syy += counts[i] * dy * dy;
      }
    }
    return sxy / Math.sqrt(sxx * syy);
  }

  /** Tie-averaged rank of each row in the resample, from the rows' sorted order. */
  private static void ranks(double[] values, int[] order, int[] counts, double[] ranks) {
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
  }

  private static int[] order(double[] values) {
    return IntStream.range(0, values.length)
        .boxed()
        .sorted(Comparator.comparingDouble(i -> values[i]))
        .mapToInt(Integer::intValue)
        .toArray();
  }

  /**
   * Σ counts[i]·values[i] over the drawn rows (a row never drawn may hold NaN: a retrieval run's
   * docs).
   */
  private static double weightedSum(double[] values, int[] counts) {
    double sum = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        sum += counts[i] * values[i];
      }
    }
    return sum;
  }

  private static double total(int[] counts) {
    return Arrays.stream(counts).sum();
  }
}
