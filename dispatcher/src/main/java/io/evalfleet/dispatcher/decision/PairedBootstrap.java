package io.evalfleet.dispatcher.decision;

import io.evalfleet.dispatcher.verdict.MetricVector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Paired bootstrap of the relative change of every metric between a baseline and a candidate
 * scored on the same golden rows. Each resample draws row indices with replacement and applies the
 * same indices to both sides, so row difficulty cancels and only the models' difference varies.
 * Each metric is recomputed on the resampled rows with {@link MetricVector#metrics}, so pooled
 * metrics (perplexity over tokens) are pooled inside each resample, never averaged across rows.
 *
 * <p>Draws come from one {@link SplittableRandom} seeded with {@code seed} and are consumed in a
 * fixed order, so the same inputs and seed give the same result bit for bit. Instances are
 * immutable and thread-safe; each call allocates its own buffers, reused across its resamples.
 */
public final class PairedBootstrap {
  private final int resamples;
  private final long seed;

  /** @throws IllegalArgumentException when {@code resamples} is below 1 */
  public PairedBootstrap(int resamples, long seed) {
    if (resamples < 1) {
      throw new IllegalArgumentException("resamples must be at least 1, was " + resamples);
    }
    this.resamples = resamples;
    this.seed = seed;
  }

  /**
   * Resamples the rows of both runs.
   *
   * @param baseline per-row values of the baseline, by {@link io.evalfleet.common.contract.MetricNames} name
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

    Map<String, double[]> baselineDraw = buffers(columns, rows);
    Map<String, double[]> candidateDraw = buffers(columns, rows);
    Map<String, double[]> changes = new LinkedHashMap<>();
    metrics.forEach(metric -> changes.put(metric, new double[resamples]));
    int[] picks = new int[rows];
    SplittableRandom random = new SplittableRandom(seed);
    for (int r = 0; r < resamples; r++) {
      for (int i = 0; i < rows; i++) {
        picks[i] = random.nextInt(rows);
      }
      for (String column : columns) {
        gather(baseline.get(column), picks, baselineDraw.get(column));
        gather(candidate.get(column), picks, candidateDraw.get(column));
      }
      Map<String, Double> before = MetricVector.metrics(baselineDraw);
      Map<String, Double> after = MetricVector.metrics(candidateDraw);
      for (String metric : metrics) {
        changes.get(metric)[r] = BootstrapResult.relativeChange(before.get(metric), after.get(metric));
      }
    }
    return new BootstrapResult(rows, resamples, seed, baselineMetrics, candidateMetrics, changes);
  }

  private static List<String> sharedColumns(Map<String, double[]> baseline, Map<String, double[]> candidate) {
    List<String> columns = new ArrayList<>(baseline.keySet());
    columns.retainAll(candidate.keySet());
    if (columns.isEmpty()) {
      throw new IllegalArgumentException("baseline columns " + baseline.keySet() + " and candidate columns "
          + candidate.keySet() + " share none; nothing to compare");
    }
    return columns;
  }

  private static int rowCount(List<String> columns, Map<String, double[]> baseline, Map<String, double[]> candidate) {
    int rows = baseline.get(columns.get(0)).length;
    for (String column : columns) {
      int before = baseline.get(column).length;
      int after = candidate.get(column).length;
      if (before != rows || after != rows) {
        throw new IllegalArgumentException(String.format(
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

  private static Map<String, double[]> buffers(List<String> columns, int rows) {
    Map<String, double[]> buffers = new LinkedHashMap<>();
    columns.forEach(column -> buffers.put(column, new double[rows]));
    return buffers;
  }

  private static void gather(double[] source, int[] picks, double[] target) {
    for (int i = 0; i < picks.length; i++) {
      target[i] = source[picks[i]];
    }
  }
}
