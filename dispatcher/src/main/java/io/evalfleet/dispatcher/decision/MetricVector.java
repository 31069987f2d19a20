package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.MetricSpec;
import io.evalfleet.common.task.Task;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

/**
 * A run's per-row values, assembled from its shard results in row order, and the metric vector
 * computed from them: the formulas of the metrics the tasks' specs name. Their resampled forms,
 * for the bootstrap, are in {@link ResampledMetrics}.
 *
 * @param rowValues per-row values by name, over all rows of the subset in order
 * @param metrics the metric vector, by metric name
 */
public record MetricVector(Map<String, double[]> rowValues, Map<String, Double> metrics, long rows) {

  /**
   * Assembles the row values of complete, successful shards (in any order) and computes the metrics
   * the task's spec names.
   */
  public static MetricVector of(Task task, Collection<ShardResult> results) {
    long rows = results.stream().mapToLong(ShardResult::rowCount).sum();
    RowColumns columns = new RowColumns(rows);
    results.forEach(columns::add);
    return of(task, columns.columns(), rows);
  }

  /** The metric vector of a run's per-row values: the metrics the task's spec names that they give. */
  public static MetricVector of(Task task, Map<String, double[]> rowValues, long rows) {
    Map<String, Double> metrics = metrics(rowValues);
    metrics.keySet().retainAll(task.spec().metrics().stream().map(MetricSpec::name).toList());
    return new MetricVector(rowValues, metrics, rows);
  }

  /** The metric vector of the given per-row values; a metric whose inputs are missing is left out. */
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
    }
    return metrics;
  }
}
