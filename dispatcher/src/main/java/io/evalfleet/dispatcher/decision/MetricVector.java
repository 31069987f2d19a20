package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.MetricSpec;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TokenSketch;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A run's per-row values, assembled from its shard results in row order, and the metric vector
 * computed from them: the formulas of the metrics the tasks' specs name. Their resampled forms, for
 * the bootstrap, are in {@link ResampledMetrics}. Percentiles over tokens come from the run's token
 * sketches.
 *
 * @param rowValues per-row values by name, over all rows of the subset in order
 * @param sketches per-token distributions by name (the token shift's {@code kl}), merged over the
 *     run
 * @param metrics the metric vector, by metric name
 */
public record MetricVector(
    Map<String, double[]> rowValues,
    Map<String, TokenSketch> sketches,
    Map<String, Double> metrics,
    long rows) {

  /**
   * Assembles the row values of complete, successful shards (in any order) and computes the metrics
   * the task's spec names.
   */
  public static MetricVector of(Task task, Collection<ShardResult> results) {
    long rows = results.stream().mapToLong(ShardResult::rowCount).sum();
    RowColumns columns = new RowColumns(rows);
    results.forEach(columns::add);
    return of(task, columns.columns(), columns.sketches(), rows);
  }

  /**
   * The metric vector of a run's per-row values: the metrics the task's spec names that they give.
   */
  public static MetricVector of(Task task, Map<String, double[]> rowValues, long rows) {
    return of(task, rowValues, Map.of(), rows);
  }

  /**
   * The metric vector of a run's per-row values and token sketches: the metrics the task's spec
   * names that they give.
   */
  public static MetricVector of(
      Task task, Map<String, double[]> rowValues, Map<String, TokenSketch> sketches, long rows) {
    Map<String, Double> metrics = metrics(rowValues);
    TokenSketch kl = sketches.get(MetricNames.KL_TOKENS);
    if (kl != null && !kl.isEmpty() && metrics.containsKey(MetricNames.KL_MEAN)) {
      metrics.put(MetricNames.KL_P99, kl.quantile(0.99));
    }
    metrics.keySet().retainAll(task.spec().metrics().stream().map(MetricSpec::name).toList());
    return new MetricVector(rowValues, Map.copyOf(sketches), metrics, rows);
  }

  /**
   * The metric vector of the given per-row values; a metric whose inputs are missing is left out.
   * (Percentiles over tokens need the run's sketches: see {@link #of(Task, Map, Map, long)}.)
   */
  public static Map<String, Double> metrics(Map<String, double[]> values) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    double[] cosine = values.get(MetricNames.COSINE);
    if (cosine != null && cosine.length > 0) {
      double[] gold = values.get(MetricNames.GOLD);
      if (gold != null && cosine.length >= 3) {
        metrics.put(MetricNames.SPEARMAN, RankGroups.spearman(cosine, gold));
      }
      metrics.put(MetricNames.MEAN_COSINE, Arrays.stream(cosine).average().orElseThrow());
    }
    double[] nll = values.get(MetricNames.NLL_SUM);
    double[] tokens = values.get(MetricNames.TOKENS);
    if (nll != null && tokens != null) {
      // Pooled over tokens: never the mean of per-row perplexities.
      double totalNll = Arrays.stream(nll).sum();
      metrics.put(MetricNames.PERPLEXITY, Math.exp(totalNll / Arrays.stream(tokens).sum()));
      double[] bytes = values.get(MetricNames.BYTES);
      if (bytes != null) {
        metrics.put(
            MetricNames.BITS_PER_BYTE, totalNll / (Arrays.stream(bytes).sum() * Math.log(2)));
      }
      double[] kl = values.get(MetricNames.KL_SUM);
      double[] agree = values.get(MetricNames.TOP1_AGREE);
      double[] dpTrue = values.get(MetricNames.DP_TRUE_SUM);
      if (kl != null && agree != null && dpTrue != null) {
        // Token-shift means, pooled over tokens like perplexity.
        double totalTokens = Arrays.stream(tokens).sum();
        metrics.put(MetricNames.KL_MEAN, Arrays.stream(kl).sum() / totalTokens);
        metrics.put(MetricNames.TOP1_AGREEMENT, Arrays.stream(agree).sum() / totalTokens);
        metrics.put(MetricNames.DP_TRUE_MEAN, Arrays.stream(dpTrue).sum() / totalTokens);
      }
    }
    retrievalMetrics(values, metrics);
    return metrics;
  }

  /**
   * Retrieval: means over the queries (the rows where a query's value is not NaN), the text cosine
   * over every text.
   */
  private static void retrievalMetrics(Map<String, double[]> values, Map<String, Double> metrics) {
    double[] ndcg = values.get(MetricNames.NDCG_AT_10);
    if (ndcg == null) {
      return;
    }
    for (int k : RetrievalTask.RECALL_CUTOFFS) {
      putMean(metrics, RetrievalTask.recall(k), values.get(RetrievalTask.recall(k)));
    }
    putMean(metrics, MetricNames.MRR_AT_10, values.get(MetricNames.RR_AT_10));
    putMean(metrics, MetricNames.NDCG_AT_10, ndcg);
    double[] index = values.get(MetricNames.INDEX_NDCG_AT_10);
    if (index != null) {
      putMean(metrics, MetricNames.INDEX_NDCG_AT_10, index);
      double rebuilt = 0;
      double kept = 0;
      for (int i = 0; i < ndcg.length; i++) {
        if (!Double.isNaN(ndcg[i]) && !Double.isNaN(index[i])) {
          rebuilt += ndcg[i];
          kept += index[i];
        }
      }
      if (rebuilt > 0) {
        metrics.put(MetricNames.INDEX_LOSS, 1 - kept / rebuilt);
      }
    }
    putMean(metrics, MetricNames.OVERLAP_AT_10, values.get(MetricNames.OVERLAP_AT_10));
    putMean(metrics, MetricNames.TEXT_COSINE, values.get(MetricNames.COSINE_TO_BASELINE));
  }

  /**
   * The mean of a column's values that are not NaN; nothing when the column is missing or all NaN.
   */
  private static void putMean(Map<String, Double> metrics, String name, double[] column) {
    if (column == null) {
      return;
    }
    double sum = 0;
    long n = 0;
    for (double value : column) {
      if (!Double.isNaN(value)) {
        sum += value;
        n++;
      }
    }
    if (n > 0) {
      metrics.put(name, sum / n);
    }
  }

  /**
   * The rows a run is judged on: those where every per-row value its task always returns is a
   * number (every row, but for a retrieval run only its queries).
   */
  public static long units(Task task, Map<String, double[]> values) {
    List<double[]> columns =
        task.spec().rowValues().stream().map(values::get).filter(Objects::nonNull).toList();
    if (columns.isEmpty()) {
      return values.values().stream().findFirst().map(c -> (long) c.length).orElse(0L);
    }
    long units = 0;
    for (int i = 0; i < columns.get(0).length; i++) {
      boolean scored = true;
      for (double[] column : columns) {
        scored &= !Double.isNaN(column[i]);
      }
      units += scored ? 1 : 0;
    }
    return units;
  }
}
