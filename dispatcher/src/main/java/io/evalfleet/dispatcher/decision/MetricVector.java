package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.MetricSpec;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TokenSketch;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

/**
 * A run's per-row values, assembled from its shard results in row order, and the metric vector
 * computed from them: the formulas of the metrics the tasks' specs name. Their resampled forms,
 * for the bootstrap, are in {@link ResampledMetrics}. Percentiles over tokens come from the run's
 * token sketches.
 *
 * @param rowValues per-row values by name, over all rows of the subset in order
 * @param sketches per-token distributions by name (the token shift's {@code kl}), merged over the run
 * @param metrics the metric vector, by metric name
 */
public record MetricVector(Map<String, double[]> rowValues, Map<String, TokenSketch> sketches,
    Map<String, Double> metrics, long rows) {

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

  /** The metric vector of a run's per-row values: the metrics the task's spec names that they give. */
  public static MetricVector of(Task task, Map<String, double[]> rowValues, long rows) {
    return of(task, rowValues, Map.of(), rows);
  }

  /** The metric vector of a run's per-row values and token sketches: the metrics the task's spec names that they give. */
  public static MetricVector of(Task task, Map<String, double[]> rowValues, Map<String, TokenSketch> sketches,
      long rows) {
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
        metrics.put(MetricNames.SPEARMAN, new SpearmansCorrelation().correlation(cosine, gold));
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
        metrics.put(MetricNames.BITS_PER_BYTE, totalNll / (Arrays.stream(bytes).sum() * Math.log(2)));
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
    return metrics;
  }
}
