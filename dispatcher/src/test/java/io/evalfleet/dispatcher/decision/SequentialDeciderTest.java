package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.task.Direction;
import io.evalfleet.common.task.MetricNames;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SequentialDeciderTest {
  private static final Policy POLICY =
      PolicyFile.defaults().withSequential(SequentialSettings.enabled(100, 1000));
  private static final SequentialDecider DECIDER = new SequentialDecider(POLICY);
  private static final Map<String, double[]> TEXT = GoldenRows.text(3, 400);

  @Test
  void candidateWithSixPercentMoreNllOnEveryRowStopsRed() {
    Map<String, double[]> candidate = scaledNll(TEXT, 1.06);
    Look look = DECIDER.look(prefix(TEXT, 200), prefix(candidate, 200), 1, 10_000, 3, Map.of());

    assertThat(look.stop()).isEqualTo(Look.Stop.RED);
    assertThat(look.rows()).isEqualTo(200);
    assertThat(look.verdict().flag()).isEqualTo(Flag.RED);
    MetricValue perplexity = look.verdict().metrics().get(MetricNames.PERPLEXITY);
    // NLL ×1.06 at ~ln 10 nats a token: perplexity ×exp(0.06·ΣNLL/Σtokens), about +14.8%.
    double exact =
        Math.expm1(
            0.06
                * Arrays.stream(prefix(TEXT, 200).get(MetricNames.NLL_SUM)).sum()
                / Arrays.stream(prefix(TEXT, 200).get(MetricNames.TOKENS)).sum());
    assertThat(perplexity.relativeDelta()).isCloseTo(exact, within(1e-12));
    assertThat(perplexity.ciLow()).isGreaterThan(0.02).isLessThan(exact);
    assertThat(perplexity.ciHigh()).isGreaterThan(exact);
    assertThat(perplexity.status()).isEqualTo(Flag.RED);
    // Every row's bits per byte is 6% worse, exactly: the interval is the point.
    MetricValue bitsPerByte = look.verdict().metrics().get(MetricNames.BITS_PER_BYTE);
    assertThat(bitsPerByte.relativeDelta()).isCloseTo(0.06, within(1e-12));
    assertThat(bitsPerByte.ciLow()).isCloseTo(0.06, within(1e-9));
    assertThat(look.reason())
        .startsWith("perplexity clearly beyond its 2.00% margin after 200 of 10,000 rows (look 4)");
    assertThat(perplexity.evidence())
        .startsWith("perplexity RED: ")
        .contains("sequential decision at look 4, on the first 200 of 10,000 rows")
        .contains("the whole interval lies beyond the margin");
    assertThat(look.verdict().reasons())
        .anySatisfy(reason -> assertThat(reason).startsWith("decided sequentially by policy 1"));
  }

  @Test
  void identicalRowsStopGreenOnceMinRowsAreScored() {
    Look early = DECIDER.look(prefix(TEXT, 99), prefix(TEXT, 99), 1, 10_000, 0, Map.of());
    assertThat(early.stop()).isEqualTo(Look.Stop.CONTINUE);
    assertThat(early.verdict()).isNull();
    assertThat(early.reason()).contains("fewer than the 100 a look needs (min_rows)");

    Look look = DECIDER.look(prefix(TEXT, 100), prefix(TEXT, 100), 1, 10_000, 1, Map.of());
    assertThat(look.stop()).isEqualTo(Look.Stop.GREEN);
    assertThat(look.verdict().flag()).isEqualTo(Flag.GREEN);
    MetricValue perplexity = look.verdict().metrics().get(MetricNames.PERPLEXITY);
    assertThat(perplexity.relativeDelta()).isZero();
    assertThat(perplexity.ciLow()).isCloseTo(0, within(1e-12));
    assertThat(perplexity.ciHigh()).isCloseTo(0, within(1e-12));
    assertThat(look.reason())
        .startsWith(
            "every gating metric clearly within its margin or limit after 100 of 10,000 rows");
  }

  @Test
  void gatingSpearmanBlocksGreenButNotRed() {
    Map<String, double[]> baseline = withSts(TEXT);
    Look same = DECIDER.look(prefix(baseline, 300), prefix(baseline, 300), 1, 10_000, 0, Map.of());
    assertThat(same.stop()).isEqualTo(Look.Stop.CONTINUE);
    assertThat(same.reason()).contains("spearman is gating and cannot be judged at a look");

    Look worse =
        DECIDER.look(
            prefix(baseline, 300), prefix(scaledNll(baseline, 1.06), 300), 1, 10_000, 0, Map.of());
    assertThat(worse.stop()).isEqualTo(Look.Stop.RED);
    assertThat(worse.verdict().reasons())
        .anySatisfy(
            reason ->
                assertThat(reason)
                    .startsWith("spearman is gating but cannot be judged at a look")
                    .endsWith("it blocks an early GREEN"));
  }

  @Test
  void aMetricSwitchedOffInThePolicyBlocksGreen() {
    SequentialDecider decider =
        new SequentialDecider(
            POLICY.withSequential(
                new SequentialSettings(true, 100, 1000, Map.of(MetricNames.BITS_PER_BYTE, false))));
    Look look = decider.look(prefix(TEXT, 200), prefix(TEXT, 200), 1, 10_000, 0, Map.of());
    assertThat(look.stop()).isEqualTo(Look.Stop.CONTINUE);
    assertThat(look.reason()).contains("bits_per_byte is gating and cannot be judged at a look");
  }

  @Test
  void notComparableMetricDecidesNothing() {
    Look look =
        DECIDER.look(
            prefix(TEXT, 200),
            prefix(scaledNll(TEXT, 1.06), 200),
            1,
            10_000,
            0,
            Map.of(
                MetricNames.PERPLEXITY, "another tokenizer",
                MetricNames.BITS_PER_BYTE, "another corpus"));
    // No look can stop such a run, so its looks spend none of α (the end keeps all of it).
    assertThat(look.stop()).isEqualTo(Look.Stop.NEVER);
    assertThat(look.stops()).isFalse();
    assertThat(look.verdict()).isNull();
    assertThat(look.reason()).contains("no gating metric of the policy can be compared at a look");
  }

  @Test
  void offPolicyNeverStops() {
    SequentialDecider off = new SequentialDecider(PolicyFile.defaults().withSequential(null));
    Look look = off.look(prefix(TEXT, 400), prefix(scaledNll(TEXT, 1.5), 400), 1, 400, 9, Map.of());
    assertThat(look.stop()).isEqualTo(Look.Stop.CONTINUE);
    assertThat(look.reason()).contains("early stopping is off");
  }

  @Test
  void blocksOfRowsAreSummedIntoUnitsAndATrailingPartialBlockIsLeftOut() {
    // 230 rows in blocks of 2: 115 units over 230 rows; at blocks of 3, 76 units are too few.
    Map<String, double[]> candidate = scaledNll(TEXT, 1.06);
    Look pairs = DECIDER.look(prefix(TEXT, 230), prefix(candidate, 230), 2, 1000, 0, Map.of());
    assertThat(pairs.stop()).isEqualTo(Look.Stop.RED);
    assertThat(pairs.verdict().metrics().get(MetricNames.PERPLEXITY).n()).isEqualTo(230);
    Look triples = DECIDER.look(prefix(TEXT, 230), prefix(candidate, 230), 3, 1000, 0, Map.of());
    assertThat(triples.stop()).isEqualTo(Look.Stop.CONTINUE);
    assertThat(triples.reason()).contains("76 units of 3 rows, fewer than the 100");
  }

  @Test
  void tokenShiftBeyondItsLimitStopsRedWithoutABaseline() {
    Map<String, double[]> candidate = new LinkedHashMap<>(prefix(TEXT, 200));
    double[] tokens = candidate.get(MetricNames.TOKENS);
    // kl_mean = 0.08 nats a token against a limit of 0.05; top1 0.95 and dp_true 0 within theirs.
    candidate.put(MetricNames.KL_SUM, Arrays.stream(tokens).map(t -> 0.08 * t).toArray());
    candidate.put(MetricNames.TOP1_AGREE, Arrays.stream(tokens).map(t -> 0.95 * t).toArray());
    candidate.put(MetricNames.DP_TRUE_SUM, new double[200]);
    Look look = DECIDER.look(Map.of(), candidate, 1, 1000, 0, Map.of());
    assertThat(look.stop()).isEqualTo(Look.Stop.RED);
    MetricValue kl = look.verdict().metrics().get(MetricNames.KL_MEAN);
    assertThat(kl.value()).isCloseTo(0.08, within(1e-12));
    assertThat(kl.limit()).isEqualTo(0.05);
    assertThat(kl.ciLow()).isCloseTo(0.08, within(1e-9));
    assertThat(look.reason()).startsWith("kl_mean clearly beyond its limit of at most 0.05");
    assertThat(look.verdict().metrics().get(MetricNames.TOP1_AGREEMENT).status())
        .isEqualTo(Flag.GREEN);
  }

  @Test
  void aTokenShiftBeyondItsLimitStopsAQuantizationButNotARetrain() {
    Map<String, double[]> candidate = new LinkedHashMap<>(prefix(TEXT, 200));
    double[] tokens = candidate.get(MetricNames.TOKENS);
    candidate.put(MetricNames.KL_SUM, Arrays.stream(tokens).map(t -> 0.08 * t).toArray());
    candidate.put(MetricNames.TOP1_AGREE, Arrays.stream(tokens).map(t -> 0.95 * t).toArray());
    candidate.put(MetricNames.DP_TRUE_SUM, new double[200]);
    Look asQuantization =
        DECIDER
            .forChangeKind(ChangeKind.QUANTIZATION)
            .look(Map.of(), candidate, 1, 1000, 0, Map.of());
    Look asRetrain =
        DECIDER.forChangeKind(ChangeKind.RETRAIN).look(Map.of(), candidate, 1, 1000, 0, Map.of());
    assertThat(asQuantization.stop()).isEqualTo(Look.Stop.RED);
    assertThat(asRetrain.stop())
        .as("without a baseline, nothing gates a retrain at a look: no look can stop it")
        .isEqualTo(Look.Stop.NEVER);
  }

  @Test
  void higherIsBetterMeanStopsRedWhenEveryQueryLosesSixPercent() {
    Policy policy =
        new Policy(
            "retrieval",
            0.95,
            2000,
            7,
            Correction.HOLM,
            3,
            3,
            10,
            Map.of(
                MetricNames.NDCG_AT_10, new MetricPolicy(Direction.HIGHER_IS_BETTER, 0.02, true)),
            SequentialSettings.enabled(100, 1000));
    double[] ndcg = new double[400];
    for (int i = 0; i < ndcg.length; i++) {
      ndcg[i] = i % 4 == 3 ? Double.NaN : 0.3 + 0.6 * ((i * 37) % 101) / 100.0;
    }
    double[] worse = Arrays.stream(ndcg).map(v -> 0.94 * v).toArray();
    Look look =
        new SequentialDecider(policy)
            .look(
                Map.of(MetricNames.NDCG_AT_10, ndcg),
                Map.of(MetricNames.NDCG_AT_10, worse),
                1,
                400,
                0,
                Map.of());
    assertThat(look.stop()).isEqualTo(Look.Stop.RED);
    MetricValue value = look.verdict().metrics().get(MetricNames.NDCG_AT_10);
    assertThat(value.relativeDelta()).isCloseTo(-0.06, within(1e-12));
    assertThat(value.ciHigh()).isCloseTo(-0.06, within(1e-9));
  }

  @Test
  void rowsThatDoNotPairUpAreRefused() {
    assertThatThrownBy(
            () -> DECIDER.look(prefix(TEXT, 100), prefix(TEXT, 120), 1, 1000, 0, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("do not pair up");
    assertThatThrownBy(
            () -> DECIDER.look(prefix(TEXT, 120), prefix(TEXT, 120), 1, 100, 0, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than the run's 100");
  }

  static Map<String, double[]> prefix(Map<String, double[]> columns, int rows) {
    Map<String, double[]> prefix = new LinkedHashMap<>();
    columns.forEach((name, column) -> prefix.put(name, Arrays.copyOf(column, rows)));
    return prefix;
  }

  private static Map<String, double[]> scaledNll(Map<String, double[]> rows, double factor) {
    Map<String, double[]> scaled = new LinkedHashMap<>(rows);
    scaled.put(
        MetricNames.NLL_SUM,
        Arrays.stream(rows.get(MetricNames.NLL_SUM)).map(v -> factor * v).toArray());
    return scaled;
  }

  /** Text rows with an STS pair on every row, so that the run measures Spearman too. */
  private static Map<String, double[]> withSts(Map<String, double[]> text) {
    Map<String, double[]> rows = new LinkedHashMap<>(text);
    int n = text.get(MetricNames.NLL_SUM).length;
    double[] cosine = new double[n];
    double[] gold = new double[n];
    for (int i = 0; i < n; i++) {
      gold[i] = i % 6;
      cosine[i] = 0.2 + 0.1 * gold[i] + 0.01 * ((i * 13) % 7);
    }
    rows.put(MetricNames.COSINE, cosine);
    rows.put(MetricNames.GOLD, gold);
    return rows;
  }
}
