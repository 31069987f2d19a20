package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.task.MetricNames;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Inputs large enough to be resampled on several threads give what one {@link SplittableRandom}
 * drawing every resample in order gives, bit for bit, whatever the thread count.
 */
class ParallelBootstrapTest {
  private static final int ROWS = 8_000;
  private static final int RESAMPLES =
      2_600; // ROWS × RESAMPLES above PairedBootstrap.PARALLEL_DRAWS

  @Test
  void everyThreadCountGivesTheDrawsOfOneStreamInOrder() {
    assertThat((long) ROWS * RESAMPLES).isGreaterThanOrEqualTo(PairedBootstrap.PARALLEL_DRAWS);
    Map<String, double[]> baseline = sts(ROWS, 1);
    Map<String, double[]> candidate = sts(ROWS, 2);
    List<String> metrics = List.of(MetricNames.SPEARMAN, MetricNames.MEAN_COSINE);
    double[][] expected = inOrder(baseline, candidate, metrics, 7);
    for (int threads : new int[] {1, 2, 3, 5}) {
      BootstrapResult result =
          new PairedBootstrap(RESAMPLES, 7, threads).resample(baseline, candidate);
      for (int m = 0; m < metrics.size(); m++) {
        assertThat(result.resampledChanges().get(metrics.get(m)))
            .as("%s on %d threads", metrics.get(m), threads)
            .containsExactly(expected[m]);
      }
    }
  }

  @Test
  void resamplingSomeMetricsGivesTheirValuesOfTheFullCall() {
    Map<String, double[]> baseline = sts(500, 3);
    Map<String, double[]> candidate = sts(500, 4);
    BootstrapResult all = new PairedBootstrap(300, 9).resample(baseline, candidate);
    BootstrapResult one =
        new PairedBootstrap(300, 9).resample(baseline, candidate, Set.of(MetricNames.SPEARMAN));
    assertThat(one.resampledChanges().keySet()).containsExactly(MetricNames.SPEARMAN);
    assertThat(one.resampledChanges().get(MetricNames.SPEARMAN))
        .containsExactly(all.resampledChanges().get(MetricNames.SPEARMAN));
    assertThat(one.baseline()).isEqualTo(all.baseline());
  }

  /** The bootstrap as one thread drew it: one SplittableRandom, resample after resample. */
  private static double[][] inOrder(
      Map<String, double[]> baseline,
      Map<String, double[]> candidate,
      List<String> metrics,
      long seed) {
    ResampledMetrics before = new ResampledMetrics(baseline, metrics);
    ResampledMetrics after = new ResampledMetrics(candidate, metrics);
    SplittableRandom random = new SplittableRandom(seed);
    double[][] changes = new double[metrics.size()][RESAMPLES];
    int[] counts = new int[ROWS];
    double[] b = new double[metrics.size()];
    double[] a = new double[metrics.size()];
    for (int r = 0; r < RESAMPLES; r++) {
      Arrays.fill(counts, 0);
      for (int i = 0; i < ROWS; i++) {
        counts[random.nextInt(ROWS)]++;
      }
      before.compute(counts, b);
      after.compute(counts, a);
      for (int m = 0; m < metrics.size(); m++) {
        changes[m][r] = BootstrapResult.relativeChange(b[m], a[m]);
      }
    }
    return changes;
  }

  /** Gold in steps of 0.2, cosines rounded to float (ties), a seed per run. */
  private static Map<String, double[]> sts(int rows, long seed) {
    SplittableRandom gold = new SplittableRandom(0);
    SplittableRandom noise = new SplittableRandom(seed);
    double[] g = new double[rows];
    double[] cosine = new double[rows];
    for (int i = 0; i < rows; i++) {
      g[i] = Math.round(gold.nextDouble(0, 5) * 5) / 5.0;
      cosine[i] = (float) (0.1 + 0.17 * g[i] + noise.nextGaussian() * 0.08);
    }
    Map<String, double[]> columns = new LinkedHashMap<>();
    columns.put(MetricNames.COSINE, cosine);
    columns.put(MetricNames.GOLD, g);
    return columns;
  }
}
