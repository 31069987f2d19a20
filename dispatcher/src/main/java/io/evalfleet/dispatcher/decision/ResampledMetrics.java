package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The metrics of {@link MetricVector#metrics} for a resample given as row multiplicities, without
 * building the resampled columns and without sorting.
 *
 * <p>Why not call {@code MetricVector.metrics} per resample: its Spearman ranks with commons-math,
 * which boxes and sorts every element, about 1.3 s for 2000 resamples of 240 pairs on both sides.
 * Here each column is grouped by value once ({@link RankGroups}); a resample's tie-averaged ranks
 * and Spearman's correlation follow from its multiplicities in two passes ({@link
 * ResampledSpearman}). Perplexity and bits per byte, and the token shift's means, stay pooled over
 * tokens and bytes inside each resample; each column's weighted sum is taken once per resample,
 * however many metrics use it, in row order. The results agree with {@code MetricVector.metrics} on
 * the expanded resample to rounding (tested to 1e-12).
 *
 * <p>Not thread-safe: holds scratch buffers reused across resamples. {@link #forAnotherThread()}
 * gives an instance that shares the columns and their groups and has scratch of its own.
 */
final class ResampledMetrics {
  private final List<String> metrics;

  /** The columns whose weighted sums the metrics need, each once. */
  private final double[][] columns;

  /** Per metric: the formula, and the indexes into {@link #columns} it reads. */
  private final Formula[] formulas;

  private final int[] numerators;
  private final int[] denominators;

  /** Null unless Spearman is asked for. */
  private final ResampledSpearman spearman;

  private final double[] sums;

  /** Whether every value of every summed column is finite, so rows need no test: see below. */
  private final boolean finite;

  private enum Formula {
    SPEARMAN,
    MEAN,
    EXP_RATIO,
    BITS_RATIO,
    RATIO,
    ONE_MINUS_RATIO
  }

  /**
   * @param rows one run's columns; @param metrics the metrics to compute, a subset of what its
   *     columns give
   */
  ResampledMetrics(Map<String, double[]> rows, List<String> metrics) {
    this.metrics = List.copyOf(metrics);
    this.formulas = new Formula[metrics.size()];
    this.numerators = new int[metrics.size()];
    this.denominators = new int[metrics.size()];
    List<String> names = new ArrayList<>();
    ResampledSpearman ranks = null;
    for (int m = 0; m < metrics.size(); m++) {
      String metric = metrics.get(m);
      switch (metric) {
        case MetricNames.SPEARMAN -> {
          formulas[m] = Formula.SPEARMAN;
          ranks =
              new ResampledSpearman(
                  column(rows, MetricNames.COSINE, metric), column(rows, MetricNames.GOLD, metric));
        }
        case MetricNames.MEAN_COSINE -> mean(m, names, MetricNames.COSINE);
        case MetricNames.PERPLEXITY ->
            ratio(m, Formula.EXP_RATIO, names, MetricNames.NLL_SUM, MetricNames.TOKENS);
        case MetricNames.BITS_PER_BYTE ->
            ratio(m, Formula.BITS_RATIO, names, MetricNames.NLL_SUM, MetricNames.BYTES);
        case MetricNames.KL_MEAN ->
            ratio(m, Formula.RATIO, names, MetricNames.KL_SUM, MetricNames.TOKENS);
        case MetricNames.TOP1_AGREEMENT ->
            ratio(m, Formula.RATIO, names, MetricNames.TOP1_AGREE, MetricNames.TOKENS);
        case MetricNames.DP_TRUE_MEAN ->
            ratio(m, Formula.RATIO, names, MetricNames.DP_TRUE_SUM, MetricNames.TOKENS);
        // Retrieval: only queries are drawn, and every query has each of these values.
        case MetricNames.MRR_AT_10 -> mean(m, names, MetricNames.RR_AT_10);
        case MetricNames.INDEX_LOSS ->
            ratio(
                m,
                Formula.ONE_MINUS_RATIO,
                names,
                MetricNames.INDEX_NDCG_AT_10,
                MetricNames.NDCG_AT_10);
        case MetricNames.NDCG_AT_10, MetricNames.OVERLAP_AT_10 -> mean(m, names, metric);
        default -> {
          if (!metric.startsWith("recall@")) {
            throw new IllegalStateException("no resampled form of metric '" + metric + "'");
          }
          mean(m, names, metric);
        }
      }
    }
    this.columns = names.stream().map(name -> column(rows, name, name)).toArray(double[][]::new);
    this.spearman = ranks;
    this.sums = new double[columns.length];
    this.finite = Arrays.stream(columns).flatMapToDouble(Arrays::stream).allMatch(Double::isFinite);
  }

  private ResampledMetrics(ResampledMetrics shared) {
    this.metrics = shared.metrics;
    this.columns = shared.columns;
    this.formulas = shared.formulas;
    this.numerators = shared.numerators;
    this.denominators = shared.denominators;
    this.spearman = shared.spearman == null ? null : shared.spearman.forAnotherThread();
    this.sums = new double[columns.length];
    this.finite = shared.finite;
  }

  /** The same metrics of the same columns, with scratch of its own, for another thread. */
  ResampledMetrics forAnotherThread() {
    return new ResampledMetrics(this);
  }

  private void mean(int m, List<String> names, String column) {
    formulas[m] = Formula.MEAN;
    numerators[m] = index(names, column);
  }

  private void ratio(int m, Formula formula, List<String> names, String top, String bottom) {
    formulas[m] = formula;
    numerators[m] = index(names, top);
    denominators[m] = index(names, bottom);
  }

  private static int index(List<String> names, String column) {
    int at = names.indexOf(column);
    if (at < 0) {
      names.add(column);
      at = names.size() - 1;
    }
    return at;
  }

  private static double[] column(Map<String, double[]> rows, String name, String metric) {
    double[] column = rows.get(name);
    if (column == null) {
      throw new IllegalArgumentException(
          "metric '" + metric + "' needs per-row values '" + name + "', which the run lacks");
    }
    return column;
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
    compute(counts, total(counts), into);
  }

  /** As {@link #compute(int[], double[])}, with the sum of {@code counts} already known. */
  void compute(int[] counts, int drawn, double[] into) {
    double n = drawn; // every mean divides by it
    weightedSums(counts);
    for (int m = 0; m < formulas.length; m++) {
      into[m] =
          switch (formulas[m]) {
            case SPEARMAN -> spearman.correlation(counts, drawn);
            case MEAN -> sums[numerators[m]] / n;
            case EXP_RATIO -> Math.exp(sums[numerators[m]] / sums[denominators[m]]);
            case BITS_RATIO -> sums[numerators[m]] / (sums[denominators[m]] * Math.log(2));
            case RATIO -> sums[numerators[m]] / sums[denominators[m]];
            case ONE_MINUS_RATIO -> 1 - sums[numerators[m]] / sums[denominators[m]];
          };
    }
  }

  /**
   * Σ counts[i]·values[i] over the drawn rows of each column, in row order, up to four columns per
   * pass over the counts.
   */
  private void weightedSums(int[] counts) {
    for (int c = 0; c < columns.length; c += 4) {
      int left = columns.length - c;
      if (!finite) {
        for (int k = c; k < c + Math.min(4, left); k++) {
          sums[k] = drawnSum(columns[k], counts);
        }
      } else if (left == 1) {
        sums[c] = weightedSum(columns[c], counts);
      } else if (left == 2) {
        weightedSums(columns[c], columns[c + 1], counts, c);
      } else {
        weightedSums(
            columns[c],
            columns[c + 1],
            columns[c + 2],
            left > 3 ? columns[c + 3] : null,
            counts,
            c);
      }
    }
  }

  // Without a test per row: a row not drawn adds 0·value, which is ±0 and leaves every sum as it
  // was (a sum starts at +0 and never becomes −0), so the result is the same bit for bit as
  // skipping the row, provided the value is finite (0·NaN and 0·∞ are NaN): hence `finite`.

  private static double weightedSum(double[] values, int[] counts) {
    double sum = 0;
    for (int i = 0; i < counts.length; i++) {
      sum += counts[i] * values[i];
    }
    return sum;
  }

  private void weightedSums(double[] a, double[] b, int[] counts, int at) {
    double sa = 0;
    double sb = 0;
    for (int i = 0; i < counts.length; i++) {
      double c = counts[i];
      sa += c * a[i];
      sb += c * b[i];
    }
    sums[at] = sa;
    sums[at + 1] = sb;
  }

  private void weightedSums(double[] a, double[] b, double[] c3, double[] d, int[] counts, int at) {
    double sa = 0;
    double sb = 0;
    double sc = 0;
    double sd = 0;
    if (d == null) {
      for (int i = 0; i < counts.length; i++) {
        double c = counts[i];
        sa += c * a[i];
        sb += c * b[i];
        sc += c * c3[i];
      }
    } else {
      for (int i = 0; i < counts.length; i++) {
        double c = counts[i];
        sa += c * a[i];
        sb += c * b[i];
        sc += c * c3[i];
        sd += c * d[i];
      }
      sums[at + 3] = sd;
    }
    sums[at] = sa;
    sums[at + 1] = sb;
    sums[at + 2] = sc;
  }

  /** Σ counts[i]·values[i] over the drawn rows only, for columns that hold NaN or ∞. */
  private static double drawnSum(double[] values, int[] counts) {
    double sum = 0;
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != 0) {
        sum += counts[i] * values[i];
      }
    }
    return sum;
  }

  private static int total(int[] counts) {
    int total = 0;
    for (int count : counts) {
      total += count;
    }
    return total;
  }
}
