package io.evalfleet.dispatcher.verdict;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricNames;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerdictTest {
  final Verdict verdict = new Verdict(0.01, 0.05);

  static BaselineRecord baseline(double spearman, double meanCosine) {
    return new BaselineRecord("m", "v1", "run-1", "a".repeat(64), "b".repeat(64), null, null, null,
        Map.of(MetricNames.SPEARMAN, spearman, MetricNames.MEAN_COSINE, meanCosine),
        Map.of(MetricNames.COSINE, new double[] {0.5, 0.7}), null, Instant.EPOCH);
  }

  static MetricVector vector(double spearman, double meanCosine) {
    return new MetricVector(Map.of(MetricNames.COSINE, new double[] {0.52, 0.66}),
        Map.of(MetricNames.SPEARMAN, spearman, MetricNames.MEAN_COSINE, meanCosine), 2);
  }

  @Test
  void identicalMetricsAreGreen() {
    Verdict.Outcome outcome = verdict.compare(vector(0.8, 0.6), baseline(0.8, 0.6));
    assertThat(outcome.flag()).isEqualTo(Flag.GREEN);
    assertThat(outcome.metrics().get(MetricNames.SPEARMAN).relativeDelta()).isZero();
  }

  @Test
  void dropInAHigherIsBetterMetricWarnsThenGoesRed() {
    assertThat(verdict.compare(vector(0.792, 0.6), baseline(0.8, 0.6)).flag()).as("-1%").isEqualTo(Flag.WARN);
    assertThat(verdict.compare(vector(0.796, 0.6), baseline(0.8, 0.6)).flag()).as("-0.5%").isEqualTo(Flag.GREEN);
    Verdict.Outcome red = verdict.compare(vector(0.75, 0.6), baseline(0.8, 0.6));
    assertThat(red.flag()).isEqualTo(Flag.RED);
    assertThat(red.reasons()).anyMatch(r -> r.startsWith("spearman RED: 0.7500 vs baseline 0.8000 (-6.25%"));
  }

  @Test
  void improvementIsNotPenalisedButTwoSidedMetricsWarnEitherWay() {
    assertThat(verdict.compare(vector(0.9, 0.6), baseline(0.8, 0.6)).flag()).isEqualTo(Flag.GREEN);
    assertThat(verdict.compare(vector(0.8, 0.62), baseline(0.8, 0.6)).flag()).as("+3.3% mean cosine").isEqualTo(Flag.WARN);
  }

  @Test
  void reasonsCarryThePairedShiftAsEvidence() {
    Verdict.Outcome outcome = verdict.compare(vector(0.8, 0.6), baseline(0.8, 0.6));
    assertThat(outcome.reasons()).anyMatch(r -> r.contains("per-pair cosine moved by 0.0300 on average")
        && r.contains("largest 0.0400, row 1"));
  }

  @Test
  void withoutBaselineItWarnsAndSaysWhy() {
    Verdict.Outcome outcome = verdict.withoutBaseline(vector(0.8, 0.6), "no production baseline");
    assertThat(outcome.flag()).isEqualTo(Flag.WARN);
    assertThat(outcome.metrics()).containsKeys(MetricNames.SPEARMAN, MetricNames.MEAN_COSINE);
    assertThat(outcome.reasons()).containsExactly("no production baseline");
  }
}
