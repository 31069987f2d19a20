package io.evalfleet.dispatcher.decision;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Paired bootstrap of the relative change of every metric between a baseline and a candidate scored
 * on the same golden rows. Each resample draws row indices with replacement and applies the same
 * indices to both sides, so row difficulty cancels and only the models' difference varies. Each
 * metric is recomputed on the resampled rows with the definitions of {@link MetricVector#metrics}
 * (through {@link ResampledMetrics}, which gives the same values without copying or sorting per
 * resample), so pooled metrics (perplexity over tokens) are pooled inside each resample, never
 * averaged across rows. The observed values are {@code MetricVector.metrics} itself.
 *
 * <p>Draws come from one {@link SplittableRandom} seeded with {@code seed} and are consumed in a
 * fixed order, so the same inputs and seed give the same result bit for bit. Instances are
 * immutable and thread-safe; each call allocates its own buffers, reused across its resamples. 2000
 * resamples of 240 pairs take a few milliseconds.
 */
public final class PairedBootstrap {
  private final int resamples;
  private final long seed;

  /**
   * Metrics computed by {@link ResampledMetrics}; any other is computed on the expanded resample.
   */
  private final Set<String> fastMetrics;

  /**
   * @throws IllegalArgumentException when {@code resamples} is below 1
   */
  public PairedBootstrap(int resamples, long seed) {
    this(resamples, seed, Set.copyOf(ResampledMetrics.SUPPORTED));
  }

  PairedBootstrap(int resamples, long seed, Set<String> fastMetrics) {
    if (resamples < 1) {
      throw new IllegalArgumentException("resamples must be at least 1, was " + resamples);
    }
    this.resamples = resamples;
    this.seed = seed;
    this.fastMetrics = Set.copyOf(fastMetrics);
  }

  /**
   * Resamples the rows of both runs.
   *
   * @param baseline per-row values of the baseline, by {@link io.evalfleet.common.task.MetricNames}
   *     name
   * @param candidate per-row values of the candidate on the same rows in the same order
   * @throws IllegalArgumentException when a column's length differs from the others (on either
   *     side), when the runs share no column, or when there are no rows
   */
  public BootstrapResult resample(Map<String, double[]> baseline, Map<String, double[]> candidate) {
    List<String> columns = sharedColumns(baseline, candidate);
    int rows = rowCount(columns, baseline, candidate);
    Map<String, Double> baselineMetrics = MetricVector.metrics(baseline);
    Map<String, Double> candidateMetrics = MetricVector.metrics(candidate);
    List<String> metrics = new ArrayList<>(baselineMetrics.keySet());
    metrics.retainAll(candidateMetrics.keySet());

    // A metric with a fast resampled form uses it; any other (a new task's, say) is recomputed with
    // MetricVector.metrics on each resample's expanded rows: slower, and just as exact.
    List<String> fast = metrics.stream().filter(fastMetrics::contains).toList();
    List<String> slow = metrics.stream().filter(m -> !fastMetrics.contains(m)).toList();
    metrics = new ArrayList<>(fast);
    metrics.addAll(slow);
    ResampledMetrics before = new ResampledMetrics(baseline, fast);
    ResampledMetrics after = new ResampledMetrics(candidate, fast);
    // Metrics of the candidate alone (a token shift compares it with the baseline already) are
    // resampled with the same draws: a one-sample bootstrap of their values.
    List<String> alone =
        candidateMetrics.keySet().stream()
            .filter(m -> !baselineMetrics.containsKey(m) && fastMetrics.contains(m))
            .toList();
    ResampledMetrics candidateAlone = new ResampledMetrics(candidate, alone);
    double[] aloneValues = new double[alone.size()];
    double[][] values = new double[alone.size()][resamples];
    double[] beforeValues = new double[fast.size()];
    double[] afterValues = new double[fast.size()];
    double[][] changes = new double[metrics.size()][resamples];
    int[] units = units(columns, baseline, candidate, rows);
    int[] counts = new int[rows];
    SplittableRandom random = new SplittableRandom(seed);
    for (int r = 0; r < resamples; r++) {
      Arrays.fill(counts, 0);
      for (int i = 0; i < units.length; i++) {
        counts[units[random.nextInt(units.length)]]++;
      }
      before.compute(counts, beforeValues);
      after.compute(counts, afterValues);
      candidateAlone.compute(counts, aloneValues);
      for (int m = 0; m < alone.size(); m++) {
        values[m][r] = aloneValues[m];
      }
      for (int m = 0; m < fast.size(); m++) {
        changes[m][r] = BootstrapResult.relativeChange(beforeValues[m], afterValues[m]);
      }
      if (!slow.isEmpty()) {
        Map<String, Double> beforeSlow =
            MetricVector.metrics(expand(baseline, columns, counts, units.length));
        Map<String, Double> afterSlow =
            MetricVector.metrics(expand(candidate, columns, counts, units.length));
        for (int m = 0; m < slow.size(); m++) {
          changes[fast.size() + m][r] =
              BootstrapResult.relativeChange(
                  beforeSlow.get(slow.get(m)), afterSlow.get(slow.get(m)));
        }
      }
    }
    Map<String, double[]> byMetric = new LinkedHashMap<>();
    for (int m = 0; m < metrics.size(); m++) {
      byMetric.put(metrics.get(m), changes[m]);
    }
    Map<String, double[]> aloneByMetric = new LinkedHashMap<>();
    for (int m = 0; m < alone.size(); m++) {
      aloneByMetric.put(alone.get(m), values[m]);
    }
    return new BootstrapResult(
        units.length, resamples, seed, baselineMetrics, candidateMetrics, byMetric, aloneByMetric);
  }

  /**
   * The rows both runs scored, the units that are drawn: every row, except rows whose shared values
   * are NaN on either side (a retrieval run's docs and judgements, which only its queries are
   * judged on).
   */
  private static int[] units(
      List<String> columns,
      Map<String, double[]> baseline,
      Map<String, double[]> candidate,
      int rows) {
    int[] units =
        IntStream.range(0, rows)
            .filter(
                i ->
                    columns.stream()
                        .noneMatch(
                            c ->
                                Double.isNaN(baseline.get(c)[i])
                                    || Double.isNaN(candidate.get(c)[i])))
            .toArray();
    if (units.length == 0) {
      throw new IllegalArgumentException("no row was scored by both runs; nothing to compare");
    }
    return units;
  }

  /** The resample's rows: {@code counts[i]} copies of row i of each column, in row order. */
  private static Map<String, double[]> expand(
      Map<String, double[]> run, List<String> columns, int[] counts, int drawn) {
    Map<String, double[]> expanded = new LinkedHashMap<>();
    for (String column : columns) {
      double[] values = run.get(column);
      double[] out = new double[drawn];
      int at = 0;
      for (int i = 0; i < counts.length; i++) {
        for (int c = 0; c < counts[i]; c++) {
          out[at++] = values[i];
        }
      }
      expanded.put(column, out);
    }
    return expanded;
  }

  private static List<String> sharedColumns(
      Map<String, double[]> baseline, Map<String, double[]> candidate) {
    List<String> columns = new ArrayList<>(baseline.keySet());
    columns.retainAll(candidate.keySet());
    if (columns.isEmpty()) {
      throw new IllegalArgumentException(
          "baseline columns "
              + baseline.keySet()
              + " and candidate columns "
              + candidate.keySet()
              + " share none; nothing to compare");
    }
    return columns;
  }

  private static int rowCount(
      List<String> columns, Map<String, double[]> baseline, Map<String, double[]> candidate) {
    int rows = baseline.get(columns.get(0)).length;
    for (String column : columns) {
      int before = baseline.get(column).length;
      int after = candidate.get(column).length;
      if (before != rows || after != rows) {
        throw new IllegalArgumentException(
            String.format(
                "'%s' has %d baseline rows and %d candidate rows, but '%s' has %d: a paired bootstrap needs the"
                    + " same golden rows, in the same order, in every column of both runs",
                column, before, after, columns.get(0), rows));
      }
    }
    if (rows == 0) {
      throw new IllegalArgumentException("the runs have no rows; nothing to compare");
    }
    return rows;
  }
}
