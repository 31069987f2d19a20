package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.task.MetricNames;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PairedBootstrapTest {

  @Test
  void rejectsRunsWhoseRowsDoNotPairUp() {
    Map<String, double[]> baseline = GoldenRows.sts(1);
    Map<String, double[]> shorter =
        Map.of(
            MetricNames.COSINE,
            Arrays.copyOf(baseline.get(MetricNames.COSINE), 239),
            MetricNames.GOLD,
            Arrays.copyOf(baseline.get(MetricNames.GOLD), 239));
    assertThatThrownBy(() -> new PairedBootstrap(200, 1).resample(baseline, shorter))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("240 baseline rows and 239 candidate rows")
        .hasMessageContaining("same golden rows");
  }

  @Test
  void aMetricWithoutAFastFormIsResampledFromItsDefinitionWithTheSameResult() {
    for (Map<String, double[]> baseline : List.of(GoldenRows.sts(3), GoldenRows.text(3))) {
      Map<String, double[]> candidate =
          baseline.containsKey(MetricNames.COSINE)
              ? GoldenRows.cosineNoise(baseline, 0.05, 4)
              : baseline;
      BootstrapResult fast = new PairedBootstrap(300, 9).resample(baseline, candidate);
      BootstrapResult definition =
          new PairedBootstrap(300, 9, java.util.Set.of()).resample(baseline, candidate);
      assertThat(definition.resampledChanges().keySet())
          .isEqualTo(fast.resampledChanges().keySet())
          .isNotEmpty();
      fast.resampledChanges()
          .forEach(
              (metric, changes) -> {
                double[] slow = definition.resampledChanges().get(metric);
                for (int r = 0; r < changes.length; r++) {
                  assertThat(slow[r])
                      .as("%s resample %d", metric, r)
                      .isCloseTo(changes[r], within(1e-12));
                }
              });
    }
  }

  @Test
  void resampledMetricsEqualMetricVectorOnTheExpandedRows() {
    for (Map<String, double[]> rows : List.of(GoldenRows.sts(3), GoldenRows.text(3))) {
      List<String> metrics = List.copyOf(MetricVector.metrics(rows).keySet());
      ResampledMetrics resampled = new ResampledMetrics(rows, metrics);
      SplittableRandom random = new SplittableRandom(11);
      int n = rows.values().iterator().next().length;
      for (int draw = 0; draw < 50; draw++) {
        int[] counts = new int[n];
        int[] picks = random.ints(n, 0, n).toArray();
        Arrays.stream(picks).forEach(i -> counts[i]++);
        double[] fast = new double[metrics.size()];
        resampled.compute(counts, fast);
        Map<String, double[]> expanded = new LinkedHashMap<>();
        rows.forEach(
            (column, values) ->
                expanded.put(column, Arrays.stream(picks).mapToDouble(i -> values[i]).toArray()));
        Map<String, Double> reference = MetricVector.metrics(expanded);
        for (int m = 0; m < metrics.size(); m++) {
          assertThat(fast[m])
              .as(metrics.get(m))
              .isCloseTo(reference.get(metrics.get(m)), within(1e-12));
        }
      }
    }
  }

  /**
   * Two rows, 100 and 300 tokens, perplexity 10 each; the candidate is worse on the long row only
   * (per-token nll + d). Every resample is AA, BB or AB: pooled changes 0, e^d − 1 and e^(0.75·d) −
   * 1. A mean of per-row perplexities would give (e^d − 1)/2 for AB instead.
   */
  @Test
  void perplexityIsPooledOverTokensInsideEachResample() {
    double d = 0.1;
    double[] tokens = {100, 300};
    Map<String, double[]> baseline =
        Map.of(
            MetricNames.NLL_SUM,
            new double[] {100 * Math.log(10), 300 * Math.log(10)},
            MetricNames.TOKENS,
            tokens);
    Map<String, double[]> candidate =
        Map.of(
            MetricNames.NLL_SUM,
            new double[] {100 * Math.log(10), 300 * (Math.log(10) + d)},
            MetricNames.TOKENS,
            tokens);
    double[] changes =
        new PairedBootstrap(500, 3)
            .resample(baseline, candidate)
            .resampledChanges()
            .get(MetricNames.PERPLEXITY);
    double[] pooled = {0, Math.expm1(d), Math.expm1(0.75 * d)};
    for (double change : changes) {
      assertThat(Arrays.stream(pooled).anyMatch(expected -> Math.abs(change - expected) < 1e-12))
          .as("resampled change %s is one of %s", change, Arrays.toString(pooled))
          .isTrue();
    }
    assertThat(
            Arrays.stream(changes).filter(c -> Math.abs(c - Math.expm1(0.75 * d)) < 1e-12).count())
        .isPositive();
  }

  @Test
  void sameSeedReproducesEveryResampleBitForBit() {
    Map<String, double[]> baseline = GoldenRows.sts(1);
    Map<String, double[]> candidate = GoldenRows.cosineNoise(baseline, 0.05, 2);
    BootstrapResult first = new PairedBootstrap(500, 42).resample(baseline, candidate);
    BootstrapResult second = new PairedBootstrap(500, 42).resample(baseline, candidate);
    first
        .resampledChanges()
        .forEach(
            (metric, changes) ->
                assertThat(second.resampledChanges().get(metric))
                    .as(metric)
                    .containsExactly(changes));
  }
}
