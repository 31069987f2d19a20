package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.MetricVector;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pairing a prefix with its baseline's rows, and a baseline that stopped early. */
class SequentialLookTest {
  static final String SUBSET = "e".repeat(64);

  /** A baseline column by file row: row r holds r, except the rows it did not score (NaN). */
  static double[] baseline(int rows, int... missing) {
    double[] column = new double[rows];
    Arrays.setAll(column, r -> r);
    for (int row : missing) {
      column[row] = Double.NaN;
    }
    return column;
  }

  @Test
  void theBaselineIsTakenAtTheFileRowsOfThePrefixsPositions() {
    RowOrder order = RowOrder.of(3, SUBSET, 50);
    double[] candidate = new double[20];
    Arrays.fill(candidate, 1.0);

    SequentialLook.Paired paired =
        SequentialLook.pair(
            order,
            Map.of(MetricNames.NLL_SUM, candidate),
            20,
            Map.of(MetricNames.NLL_SUM, baseline(50)));

    assertThat(paired.partial()).isFalse();
    assertThat(paired.baseline().get(MetricNames.NLL_SUM))
        .containsExactly(Arrays.stream(order.rows(0, 20)).asDoubleStream().toArray());
  }

  @Test
  void rowsTheBaselineLacksArePairedWithNothingAndWholeBlocksAreDropped() {
    // 9,000 rows in blocks of 3: a baseline missing one row loses the whole block of the prefix.
    RowOrder order = RowOrder.of(3, SUBSET, 9_000);
    long[] rows = order.rows(0, 30);
    int missing = (int) rows[4]; // in the second block of the prefix
    double[] candidate = new double[30];
    Arrays.setAll(candidate, i -> 1000 + i);

    SequentialLook.Paired paired =
        SequentialLook.pair(
            order,
            Map.of(MetricNames.NLL_SUM, candidate),
            30,
            Map.of(MetricNames.NLL_SUM, baseline(9_000, missing)));

    assertThat(paired.partial()).isTrue();
    assertThat(paired.rows()).isEqualTo(27);
    assertThat(paired.candidate().get(MetricNames.NLL_SUM))
        .startsWith(1000, 1001, 1002, 1006)
        .doesNotContain(1003, 1004, 1005);
    assertThat(Arrays.stream(paired.baseline().get(MetricNames.NLL_SUM)).noneMatch(Double::isNaN))
        .isTrue();
  }

  @Test
  void aWholeRunIsComparedOnTheRowsAnEarlyStoppedBaselineHas() {
    double[] nll = {1, 2, 3, 4, 5};
    double[] tokens = {1, 1, 1, 1, 1};
    MetricVector vector =
        MetricVector.of(
            Task.CAUSAL_LM, Map.of(MetricNames.NLL_SUM, nll, MetricNames.TOKENS, tokens), 5);
    // Stopped early: rows 1 and 3 scored; the file ends at the last row it holds.
    double[] baselineNll = {Double.NaN, 2, Double.NaN, 4};

    SequentialLook.Paired paired =
        SequentialLook.rowsBothHave(
            Task.CAUSAL_LM,
            vector,
            Map.of(MetricNames.NLL_SUM, baselineNll, MetricNames.TOKENS, baselineNll));

    assertThat(paired.rows()).isEqualTo(2);
    assertThat(paired.candidate().get(MetricNames.NLL_SUM)).containsExactly(2, 4);
    assertThat(paired.baseline().get(MetricNames.NLL_SUM)).containsExactly(2, 4);
    assertThat(
            SequentialLook.rowsBothHave(
                Task.CAUSAL_LM,
                vector,
                Map.of(MetricNames.NLL_SUM, nll, MetricNames.TOKENS, tokens)))
        .as("a baseline with every row")
        .isNull();
  }
}
