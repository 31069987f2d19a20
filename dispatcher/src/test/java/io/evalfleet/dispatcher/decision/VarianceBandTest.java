package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.MetricNames;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VarianceBandTest {
  private static final Map<String, double[]> TEXT = GoldenRows.text(1);

  @Test
  void bandIsMeanPlusMinusKSampleSigmasOfTheLatestWindow() {
    // the window keeps the last four: 10, 12, 14, 16 → mean 13, sample σ = √(20/3)
    VarianceBand band =
        VarianceBand.of(List.of(100.0, 10.0, 12.0, 14.0, 16.0), 3, 3, 4).orElseThrow();
    assertThat(band.snapshots()).isEqualTo(4);
    assertThat(band.mean()).isEqualTo(13.0);
    assertThat(band.sigma()).isCloseTo(Math.sqrt(20.0 / 3), within(1e-12));
    assertThat(band.low()).isCloseTo(13 - 3 * Math.sqrt(20.0 / 3), within(1e-12));
    assertThat(band.contains(20.0)).isTrue();
    assertThat(band.contains(21.0)).isFalse();
  }

  @Test
  void fewerSnapshotsThanTheMinimumGiveNoBand() {
    assertThat(VarianceBand.of(List.of(10.0, 11.0), 3, 3, 10)).isEmpty();
    assertThat(VarianceBand.of(List.of(), 3, 3, 10)).isEmpty();
  }

  @Test
  void candidateOutsideTheBandIsWarnWithItsOwnSentence() {
    double perplexity = GoldenRows.perplexity(TEXT);
    // production has held perplexity within ±0.1% of a value 5% better than this baseline
    double held = perplexity * 0.95;
    List<Double> history = List.of(held * 0.999, held, held * 1.001, held);
    DecisionReport report =
        Decider.withDefaultPolicy().decide(TEXT, TEXT, Map.of(MetricNames.PERPLEXITY, history));

    MetricDecision decision = report.metrics().get(MetricNames.PERPLEXITY);
    assertThat(decision.nonInferior().significant()).isTrue();
    assertThat(decision.outsideBand()).isTrue();
    assertThat(decision.status()).isEqualTo(Flag.WARN);
    assertThat(report.flag()).isEqualTo(Flag.WARN);
    assertThat(decision.bandSentence())
        .startsWith("perplexity: candidate 9.557 lies outside the production band")
        .contains("last 4 snapshots");
    assertThat(decision.sentence()).contains("but outside the production band");
    assertThat(report.reasons()).contains(decision.bandSentence());
  }

  @Test
  void candidateInsideTheBandStaysGreen() {
    double perplexity = GoldenRows.perplexity(TEXT);
    List<Double> history = List.of(perplexity * 0.99, perplexity * 1.01, perplexity);
    MetricDecision decision =
        Decider.withDefaultPolicy()
            .decide(TEXT, TEXT, Map.of(MetricNames.PERPLEXITY, history))
            .metrics()
            .get(MetricNames.PERPLEXITY);
    assertThat(decision.status()).isEqualTo(Flag.GREEN);
    assertThat(decision.bandSentence()).contains("lies inside the production band");
  }

  @Test
  void tooFewSnapshotsSayThereIsNoBandYet() {
    MetricDecision decision =
        Decider.withDefaultPolicy()
            .decide(TEXT, TEXT, Map.of(MetricNames.PERPLEXITY, List.of(1.0, 2.0)))
            .metrics()
            .get(MetricNames.PERPLEXITY);
    assertThat(decision.band()).isNull();
    assertThat(decision.status()).isEqualTo(Flag.GREEN);
    assertThat(decision.bandSentence())
        .isEqualTo(
            "perplexity: no production band yet (2 snapshots, 3 needed); band check skipped");
  }

  @Test
  void bandIsNeverNarrowerThanItsFloor() {
    VarianceBand flat =
        VarianceBand.of(List.of(10.0, 10.0, 10.0), 3, 3, 10).orElseThrow().atLeast(0.02);
    assertThat(flat.sigma()).isZero();
    assertThat(flat.low()).isCloseTo(9.8, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(flat.high()).isCloseTo(10.2, org.assertj.core.data.Offset.offset(1e-12));
    assertThat(flat.contains(10.1)).isTrue();
    assertThat(flat.contains(10.3)).isFalse();
  }
}
