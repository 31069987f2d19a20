package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TokenSketch;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The token shift judged against the default policy's limits (mean KL 0.05, p99 KL 0.5, top-1
 * agreement 0.9).
 */
class TokenShiftDecisionTest {
  private static final int ROWS = 200;
  private static final int TOKENS_PER_ROW = 50;
  private final Decider decider = Decider.withDefaultPolicy();

  /**
   * Rows of a candidate whose per-token KL is drawn around {@code klScale} and whose top-1 token
   * agrees with p.
   */
  private static ShardResult shifted(double klScale, double agreement, long seed) {
    return shifted(klScale, agreement, 2.0, seed);
  }

  /** As {@link #shifted(double, double, long)}, with {@code nllPerToken} nats per token. */
  private static ShardResult shifted(
      double klScale, double agreement, double nllPerToken, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] nll = new double[ROWS];
    double[] tokens = new double[ROWS];
    double[] kl = new double[ROWS];
    double[] agree = new double[ROWS];
    double[] dp = new double[ROWS];
    TokenSketch sketch = TokenSketch.empty();
    for (int r = 0; r < ROWS; r++) {
      tokens[r] = TOKENS_PER_ROW;
      nll[r] = nllPerToken * TOKENS_PER_ROW;
      for (int t = 0; t < TOKENS_PER_ROW; t++) {
        double value = klScale * -Math.log(1 - random.nextDouble()); // exponential, mean klScale
        kl[r] += value;
        sketch.add(value);
        agree[r] += random.nextDouble() < agreement ? 1 : 0;
        dp[r] += -0.1 * value;
      }
    }
    return ShardResult.builder()
        .jobId("run/0")
        .runId("run")
        .shardIndex(0)
        .rowStart(0)
        .rowCount(ROWS)
        .values(
            Map.of(
                MetricNames.NLL_SUM,
                nll,
                MetricNames.TOKENS,
                tokens,
                MetricNames.KL_SUM,
                kl,
                MetricNames.TOP1_AGREE,
                agree,
                MetricNames.DP_TRUE_SUM,
                dp))
        .workerId("w")
        .executionProvider("cpu")
        .paddingRatio(0.0)
        .durationMs(1)
        .attempt(1)
        .sketches(Map.of(MetricNames.KL_TOKENS, sketch.encode()))
        .build();
  }

  private static Map<String, double[]> baselineRows() {
    double[] nll = new double[ROWS];
    double[] tokens = new double[ROWS];
    java.util.Arrays.fill(nll, 2.0 * TOKENS_PER_ROW);
    java.util.Arrays.fill(tokens, TOKENS_PER_ROW);
    return Map.of(MetricNames.NLL_SUM, nll, MetricNames.TOKENS, tokens);
  }

  private Verdict decide(ShardResult candidate) {
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(candidate));
    return decider.compare(vector, "v1", baselineRows(), Map.of(), Map.of());
  }

  @Test
  void theShiftMetricsArePooledOverTokensAndTheP99ComesFromTheSketch() {
    ShardResult candidate = shifted(0.02, 0.95, 1);
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(candidate));
    double tokens = ROWS * TOKENS_PER_ROW;
    double klSum = java.util.Arrays.stream(candidate.values().get(MetricNames.KL_SUM)).sum();
    assertThat(vector.metrics().get(MetricNames.KL_MEAN)).isCloseTo(klSum / tokens, within(1e-12));
    assertThat(vector.metrics().get(MetricNames.TOP1_AGREEMENT))
        .isCloseTo(
            java.util.Arrays.stream(candidate.values().get(MetricNames.TOP1_AGREE)).sum() / tokens,
            within(1e-12));
    // Exponential with mean 0.02: its p99 is 0.02·ln 100 = 0.0921; 10,000 tokens put the sample's
    // within a few percent.
    assertThat(vector.metrics().get(MetricNames.KL_P99))
        .isCloseTo(0.02 * Math.log(100), within(0.01));
  }

  @Test
  void aSmallShiftIsGreenOnEveryShiftMetric() {
    Verdict verdict = decide(shifted(0.005, 0.99, 2));
    for (String metric :
        List.of(MetricNames.KL_MEAN, MetricNames.KL_P99, MetricNames.TOP1_AGREEMENT)) {
      MetricValue value = verdict.metrics().get(metric);
      assertThat(value.status()).as(metric).isEqualTo(Flag.GREEN);
      assertThat(value.limit()).as(metric).isNotNull();
      assertThat(value.baseline()).as(metric).isNull();
      assertThat(value.ciLow()).as(metric).isLessThanOrEqualTo(value.value());
      assertThat(value.ciHigh()).as(metric).isGreaterThanOrEqualTo(value.value());
    }
    assertThat(verdict.flag()).isEqualTo(Flag.GREEN);
    assertThat(verdict.metrics().get(MetricNames.KL_MEAN).evidence())
        .startsWith("kl_mean GREEN: ")
        .contains("against a limit of at most 0.05")
        .contains("within the limit significantly");
  }

  @Test
  void aLargeShiftIsRedWithPerplexityUnchanged() {
    Verdict verdict = decide(shifted(0.2, 0.7, 3));
    assertThat(verdict.metrics().get(MetricNames.PERPLEXITY).status()).isNotEqualTo(Flag.RED);
    assertThat(verdict.metrics().get(MetricNames.KL_MEAN).status()).isEqualTo(Flag.RED);
    assertThat(verdict.metrics().get(MetricNames.KL_P99).status()).isEqualTo(Flag.RED);
    assertThat(verdict.metrics().get(MetricNames.TOP1_AGREEMENT).status()).isEqualTo(Flag.RED);
    assertThat(verdict.flag()).isEqualTo(Flag.RED);
    assertThat(verdict.metrics().get(MetricNames.TOP1_AGREEMENT).evidence())
        .contains("against a limit of at least 0.9")
        .contains("the whole interval lies beyond the limit");
  }

  @Test
  void aShiftRightAtTheLimitIsNeitherRedNorGreen() {
    // Mean KL 0.05 exactly at its limit: neither side is significant.
    Verdict verdict = decide(shifted(0.05, 0.99, 4));
    assertThat(verdict.metrics().get(MetricNames.KL_MEAN).status()).isEqualTo(Flag.WARN);
  }

  @Test
  void aBaselineThatWasItselfMeasuredForAShiftIsNotPairedWithTheCandidatesShift() {
    // The baseline's archived rows hold its own shift against its predecessor (large); the
    // candidate's
    // shift against the baseline is small, and is judged on its own against the limits.
    Map<String, double[]> baseline = new java.util.LinkedHashMap<>(baselineRows());
    ShardResult baselineShift = shifted(0.3, 0.6, 6);
    for (String value :
        List.of(MetricNames.KL_SUM, MetricNames.TOP1_AGREE, MetricNames.DP_TRUE_SUM)) {
      baseline.put(value, baselineShift.values().get(value));
    }
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(shifted(0.005, 0.99, 7)));
    Verdict verdict = decider.compare(vector, "v1", baseline, Map.of(), Map.of());
    assertThat(verdict.metrics().get(MetricNames.KL_MEAN).status()).isEqualTo(Flag.GREEN);
    assertThat(verdict.metrics().get(MetricNames.KL_MEAN).baseline()).isNull();
    assertThat(verdict.flag()).isEqualTo(Flag.GREEN);
  }

  @Test
  void aShiftMeasuredAgainstAnotherVersionDecidesNothing() {
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(shifted(0.2, 0.7, 5)));
    Verdict verdict =
        decider.compare(
            vector,
            "v1",
            baselineRows(),
            Map.of(),
            Map.of(
                MetricNames.KL_MEAN,
                "measured against v0",
                MetricNames.KL_P99,
                "measured against v0",
                MetricNames.TOP1_AGREEMENT,
                "measured against v0",
                MetricNames.DP_TRUE_MEAN,
                "measured against v0"));
    assertThat(verdict.flag()).isNotEqualTo(Flag.RED);
    assertThat(verdict.reasons())
        .anyMatch(r -> r.startsWith("kl_mean not compared: measured against v0"));
  }

  @Test
  void theSameScoresAreRedForAQuantizationAndGreenForARetrainWithBetterPerplexity() {
    // Perplexity e^1.3 against the baseline's e^2: 50% better; mean KL about 0.2 nats, 70% top-1.
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(shifted(0.2, 0.7, 1.3, 5)));
    Verdict quantized =
        decider
            .forChangeKind(ChangeKind.QUANTIZATION)
            .compare(vector, "v1", baselineRows(), Map.of(), Map.of());
    Verdict retrained =
        decider
            .forChangeKind(ChangeKind.RETRAIN)
            .compare(vector, "v1", baselineRows(), Map.of(), Map.of());

    assertThat(quantized.flag()).isEqualTo(Flag.RED);
    assertThat(retrained.flag()).as(String.join("\n", retrained.reasons())).isEqualTo(Flag.GREEN);
    for (Verdict verdict : List.of(quantized, retrained)) {
      assertThat(verdict.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.GREEN);
      assertThat(verdict.metrics().get(MetricNames.PERPLEXITY).gating()).isTrue();
      assertThat(verdict.metrics().get(MetricNames.PERPLEXITY).relativeDelta())
          .isCloseTo(Math.exp(1.3 - 2.0) - 1, within(1e-9));
    }
    for (String metric : Decider.TOKEN_SHIFT) {
      MetricValue asQuantization = quantized.metrics().get(metric);
      MetricValue asRetrain = retrained.metrics().get(metric);
      assertThat(asQuantization.status()).as(metric).isEqualTo(Flag.RED);
      assertThat(asQuantization.gating()).as(metric).isTrue();
      assertThat(asRetrain.status())
          .as("a retrain's %s status is still shown", metric)
          .isEqualTo(Flag.RED);
      assertThat(asRetrain.gating()).as(metric).isFalse();
      assertThat(asRetrain.value()).as(metric).isEqualTo(asQuantization.value());
    }
    assertThat(retrained.reasons())
        .contains(
            "token shift reported, not gated: change kind retrain (policy 1 gates kl_mean,"
                + " kl_p99, top1_agreement only for quantization, export, runtime)");
    assertThat(quantized.reasons()).noneMatch(r -> r.contains("not gated"));
  }

  @Test
  void aRetrainIsStillRedWhenItsPerplexityIsWorseBeyondTheMargin() {
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(shifted(0.2, 0.7, 2.2, 6)));
    Verdict retrained =
        decider
            .forChangeKind(ChangeKind.RETRAIN)
            .compare(vector, "v1", baselineRows(), Map.of(), Map.of());
    assertThat(retrained.flag()).isEqualTo(Flag.RED);
    assertThat(retrained.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.RED);
  }

  @Test
  void everyKindThatPreservesBehaviourGatesTheTokenShift() {
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(shifted(0.2, 0.7, 2.0, 7)));
    for (ChangeKind kind : ChangeKind.values()) {
      Verdict verdict =
          decider.forChangeKind(kind).compare(vector, "v1", baselineRows(), Map.of(), Map.of());
      assertThat(verdict.flag())
          .as(kind.wireName())
          .isEqualTo(kind.preservesBehaviour() ? Flag.RED : Flag.GREEN);
    }
  }
}
