package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.MetricNames;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/** Known answers and error rates of the decision core on realistic rows at the demo's sizes. */
class DecisionCalibrationTest {
  private static final Policy POLICY = PolicyFile.defaults();
  private static final Decider DECIDER = new Decider(POLICY);
  private static final Map<String, double[]> STS = GoldenRows.sts(1);
  private static final Map<String, double[]> TEXT = GoldenRows.text(1);
  private static final int SIMULATED_RUNS = 200;

  @Test
  void fixturesLookLikeTheDemo() {
    assertThat(GoldenRows.spearman(STS)).isBetween(0.85, 0.89);
    assertThat(GoldenRows.perplexity(TEXT)).isBetween(8.0, 12.0);
  }

  @Test
  void baselineAgainstItselfIsGreenWithZeroEstimateAndZeroWidthInterval() {
    for (Map<String, double[]> rows : List.of(STS, TEXT)) {
      DecisionReport report = DECIDER.decide(rows, rows, Map.of());
      assertThat(report.flag()).isEqualTo(Flag.GREEN);
      assertThat(report.metrics())
          .isNotEmpty()
          .allSatisfy(
              (name, decision) -> {
                assertThat(decision.status()).as(name).isEqualTo(Flag.GREEN);
                assertThat(decision.estimate()).as(name).isZero();
                assertThat(decision.interval().low()).as(name).isZero();
                assertThat(decision.interval().high()).as(name).isZero();
              });
    }
  }

  @Test
  void embeddingAaRunsGoRedAtMostAtTheNominalRate() {
    double rate = redRate(seed -> GoldenRows.cosineNoise(STS, 0.02, seed), STS);
    assertThat(rate).isLessThanOrEqualTo(allowedRate());
  }

  @Test
  void languageModelAaRunsGoRedAtMostAtTheNominalRate() {
    double rate = redRate(seed -> GoldenRows.perplexityIncrease(TEXT, 0, 0.4, seed), TEXT);
    assertThat(rate).isLessThanOrEqualTo(allowedRate());
  }

  /** The sharp case for the type I error: the true degradation sits exactly on the margin. */
  @Test
  void runsDegradedExactlyByTheMarginGoRedAtMostAtTheNominalRate() {
    double margin = POLICY.metrics().get(MetricNames.PERPLEXITY).margin();
    double rate = redRate(seed -> GoldenRows.perplexityIncrease(TEXT, margin, 0.4, seed), TEXT);
    assertThat(rate).isLessThanOrEqualTo(allowedRate());
  }

  @Test
  void perplexityFivePercentWorseIsRedAndHalfAPercentIsNot() {
    DecisionReport worse =
        DECIDER.decide(TEXT, GoldenRows.perplexityIncrease(TEXT, 0.05, 0.4, 5), Map.of());
    assertThat(worse.flag()).isEqualTo(Flag.RED);
    assertThat(worse.metrics().get(MetricNames.PERPLEXITY).estimate())
        .isCloseTo(0.05, within(0.01));

    DecisionReport slightly =
        DECIDER.decide(TEXT, GoldenRows.perplexityIncrease(TEXT, 0.005, 0.4, 5), Map.of());
    assertThat(slightly.flag()).isNotEqualTo(Flag.RED);
    assertThat(slightly.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.GREEN);
  }

  @Test
  void atTheDemosSixteenTextRowsFivePercentWorseIsStillRedAndHalfAPercentIsNot() {
    Map<String, double[]> sixteen = GoldenRows.text(3, 16);
    int red = 0;
    int falseRed = 0;
    for (long seed = 1; seed <= 50; seed++) {
      red +=
          DECIDER
                      .decide(
                          sixteen,
                          GoldenRows.perplexityIncrease(sixteen, 0.05, 0.4, seed),
                          Map.of())
                      .flag()
                  == Flag.RED
              ? 1
              : 0;
      falseRed +=
          DECIDER
                      .decide(
                          sixteen,
                          GoldenRows.perplexityIncrease(sixteen, 0.005, 0.4, seed),
                          Map.of())
                      .flag()
                  == Flag.RED
              ? 1
              : 0;
    }
    System.out.printf(
        "16 text rows: perplexity 5%% worse RED in %d/50 noise draws, 0.5%% worse in %d/50%n",
        red, falseRed);
    assertThat(red).isGreaterThanOrEqualTo(45);
    assertThat(falseRed).isZero();
  }

  @Test
  void spearmanFivePercentLowerIsRedAndHalfAPercentIsNot() {
    DecisionReport worse = DECIDER.decide(STS, GoldenRows.spearmanDrop(STS, 0.05, 5), Map.of());
    assertThat(worse.flag()).isEqualTo(Flag.RED);
    assertThat(worse.metrics().get(MetricNames.SPEARMAN).estimate())
        .isCloseTo(-0.05, within(0.002));

    DecisionReport slightly = DECIDER.decide(STS, GoldenRows.spearmanDrop(STS, 0.005, 5), Map.of());
    assertThat(slightly.flag()).isNotEqualTo(Flag.RED);
  }

  /**
   * 240 pairs resolve a 5% Spearman drop against a 2% margin most of the time, not always; 0.5%
   * never.
   */
  @Test
  void spearmanDropsAreCaughtWithUsefulPowerAcrossGoldenSets() {
    int sets = 40;
    int redAtFive = 0;
    int redAtHalf = 0;
    for (int set = 0; set < sets; set++) {
      Map<String, double[]> baseline = GoldenRows.sts(1000 + set);
      redAtFive +=
          DECIDER
                      .decide(baseline, GoldenRows.spearmanDrop(baseline, 0.05, 77 + set), Map.of())
                      .flag()
                  == Flag.RED
              ? 1
              : 0;
      redAtHalf +=
          DECIDER
                      .decide(
                          baseline, GoldenRows.spearmanDrop(baseline, 0.005, 77 + set), Map.of())
                      .flag()
                  == Flag.RED
              ? 1
              : 0;
    }
    System.out.printf(
        "Spearman 5%% drop RED in %d/%d golden sets, 0.5%% drop in %d/%d%n",
        redAtFive, sets, redAtHalf, sets);
    assertThat(redAtFive).isGreaterThanOrEqualTo(28);
    assertThat(redAtHalf).isZero();
  }

  @Test
  void sameSeedGivesAnIdenticalReport() {
    Map<String, double[]> candidate = GoldenRows.perplexityIncrease(TEXT, 0.01, 0.4, 9);
    assertThat(DECIDER.decide(TEXT, candidate, Map.of()))
        .isEqualTo(new Decider(PolicyFile.defaults()).decide(TEXT, candidate, Map.of()));
  }

  @Test
  void differentSeedsGiveIntervalsWithinMonteCarloError() {
    Map<String, double[]> candidate = GoldenRows.spearmanDrop(STS, 0.02, 9);
    Decider reseeded =
        new Decider(
            new Policy(
                POLICY.policyVersion(),
                POLICY.familyConfidence(),
                POLICY.bootstrapResamples(),
                POLICY.seed() + 1000,
                POLICY.correction(),
                POLICY.bandK(),
                POLICY.bandMinSnapshots(),
                POLICY.bandWindow(),
                POLICY.metrics()));
    Interval first =
        DECIDER.decide(STS, candidate, Map.of()).metrics().get(MetricNames.SPEARMAN).interval();
    Interval second =
        reseeded.decide(STS, candidate, Map.of()).metrics().get(MetricNames.SPEARMAN).interval();
    assertThat(second).isNotEqualTo(first);
    assertThat(second.low()).isCloseTo(first.low(), within(0.004));
    assertThat(second.high()).isCloseTo(first.high(), within(0.004));
  }

  @Test
  void evidenceSentenceGivesChangeIntervalSampleAndMargin() {
    MetricDecision perplexity =
        DECIDER
            .decide(TEXT, GoldenRows.perplexityIncrease(TEXT, 0.05, 0.4, 5), Map.of())
            .metrics()
            .get(MetricNames.PERPLEXITY);
    long tokens = Math.round(java.util.Arrays.stream(TEXT.get(MetricNames.TOKENS)).sum());
    assertThat(perplexity.sample()).isEqualTo(new SampleSize(40, tokens, null));
    assertThat(perplexity.interval().confidence()).isEqualTo(0.975);
    assertThat(perplexity.sentence())
        .matches(
            "perplexity RED: 4\\.\\d\\d% worse than baseline 9\\.557 → 10\\.0\\d \\(97\\.5% CI \\d\\.\\d\\d% to \\d\\.\\d\\d% worse,"
                + " n=40 rows / "
                + String.format(java.util.Locale.ROOT, "%,d", tokens)
                + " tokens, paired bootstrap 2000×, seed 7\\);"
                + " margin 2\\.00%: the whole interval lies beyond the margin; degradation beyond the margin is significant .*");
  }

  private static double allowedRate() {
    double alpha = POLICY.alpha();
    return alpha + 3 * Math.sqrt(alpha * (1 - alpha) / SIMULATED_RUNS);
  }

  private static double redRate(
      LongFunction<Map<String, double[]>> candidateForSeed, Map<String, double[]> baseline) {
    int red = 0;
    int green = 0;
    for (int run = 0; run < SIMULATED_RUNS; run++) {
      Flag flag = DECIDER.decide(baseline, candidateForSeed.apply(100 + run), Map.of()).flag();
      red += flag == Flag.RED ? 1 : 0;
      green += flag == Flag.GREEN ? 1 : 0;
    }
    double rate = red / (double) SIMULATED_RUNS;
    System.out.printf(
        "RED in %d of %d simulated runs (%.1f%%, nominal α %.1f%%), GREEN in %d%n",
        red, SIMULATED_RUNS, 100 * rate, 100 * POLICY.alpha(), green);
    return rate;
  }
}
