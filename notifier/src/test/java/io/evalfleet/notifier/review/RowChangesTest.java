package io.evalfleet.notifier.review;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.task.Task;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RowChangesTest {
  private static Map<String, double[]> cosines(double... values) {
    return Map.of("cosine", values);
  }

  @Test
  void changesAreCandidateMinusBaselinePerRow() {
    RowChanges changes =
        RowChanges.of(
            Task.EMBEDDING.spec().rowScore(), cosines(0.5, 0.9, 0.1), cosines(0.4, 0.9, 0.3));
    assertThat(changes.values()).containsExactly(new double[] {0.1, 0.0, -0.2}, within(1e-12));
    assertThat(changes.mean()).isCloseTo(-0.1 / 3, within(1e-12));
    assertThat(changes.quantile(0.5)).isCloseTo(0.0, within(1e-12));
    assertThat(changes.quantile(1.0)).isCloseTo(0.1, within(1e-12));
  }

  @Test
  void aRunThatStoppedEarlyIsComparedOnTheRowsBothScored() {
    // The candidate stopped after scoring rows 0 and 2 of 4 (row 1 unscored, row 3 never read
    // back).
    RowChanges changes =
        RowChanges.of(
            Task.EMBEDDING.spec().rowScore(),
            cosines(0.5, Double.NaN, 0.1),
            cosines(0.4, 0.9, 0.3, 0.7));
    assertThat(changes.values()).containsExactly(new double[] {0.1, -0.2}, within(1e-12));
    assertThat(changes.pairs()).extracting(RowChanges.MovedRow::row).containsExactly(0, 2);
  }

  @Test
  void twoSidedScoresRankRowsByTheSizeOfTheirChange() {
    RowChanges changes =
        RowChanges.of(
            Task.EMBEDDING.spec().rowScore(), cosines(0.5, 0.9, 0.1), cosines(0.4, 0.9, 0.3));
    assertThat(changes.mostMoved(2)).extracting(RowChanges.MovedRow::row).containsExactly(2, 0);
  }

  @Test
  void perplexityRowsRankWorseNllFirstAndSkipRowsWithoutTokens() {
    // per-token NLL: candidate 2.0, 1.0, (no tokens), 3.0; baseline 1.0, 1.5, 1.0, 1.0
    Map<String, double[]> candidate =
        Map.of("nll_sum", new double[] {20, 10, 0, 30}, "tokens", new double[] {10, 10, 0, 10});
    Map<String, double[]> baseline =
        Map.of("nll_sum", new double[] {10, 15, 5, 10}, "tokens", new double[] {10, 10, 5, 10});
    RowChanges changes = RowChanges.of(Task.CAUSAL_LM.spec().rowScore(), candidate, baseline);
    assertThat(changes.values()).hasSize(3);
    assertThat(changes.mostMoved(3)).extracting(RowChanges.MovedRow::row).containsExactly(3, 0, 1);
    // lower NLL is better: a rise is bad, a fall is not
    assertThat(changes.badness(1.0)).isEqualTo(1.0);
    assertThat(changes.badness(-0.5)).isEqualTo(-0.5);
  }

  @Test
  void binsCountEveryRowOnceAndCoverTheRange() {
    double[] values = new double[1000];
    Arrays.setAll(values, i -> i / 1000.0);
    RowChanges changes = RowChanges.of(Task.EMBEDDING.spec().rowScore(), cosines(values), null);
    RowChanges.Bins bins = changes.bins(10);
    assertThat(Arrays.stream(bins.counts()).sum()).isEqualTo(1000);
    assertThat(bins.counts()).containsOnly(100);
    assertThat(bins.edges()[0]).isEqualTo(0.0);
    assertThat(bins.edges()[10]).isCloseTo(0.999, within(1e-12));
  }
}
