package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.archive.NoiseFloorRecord.MetricSpread;
import io.evalfleet.common.archive.NoiseFloorRecord.RowSpread;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.task.MetricNames;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NoiseFloorTest {
  static final ScoringEnvelope CPU_BATCHED =
      ScoringEnvelope.builder()
          .executionProvider("cpu")
          .onnxRuntime("1.29.0")
          .batching("padded-batches")
          .maxBatchSize(32)
          .intraOpThreads(2)
          .deterministicCompute(false)
          .cpuArch("amd64")
          .cpuModel("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
          .build();

  static final ScoringEnvelope OTHER =
      CPU_BATCHED.toBuilder()
          .onnxRuntime("1.30.0")
          .batching("one-at-a-time")
          .maxBatchSize(1)
          .deterministicCompute(true)
          .cpuArch("aarch64")
          .cpuModel(null)
          .profile(null)
          .build();

  /** A floor of 3% on perplexity and 0.1% on mean_cosine, measured on the candidate's profile. */
  static NoiseFloorRecord floor(String profile) {
    return NoiseFloorRecord.builder()
        .artifactSha256("a".repeat(64))
        .profile(profile)
        .task("embedding")
        .rows(10)
        .measuredAt(Instant.parse("2026-12-06T08:00:00Z"))
        .envelopes(List.of(CPU_BATCHED, CPU_BATCHED.toBuilder().maxBatchSize(1).build()))
        .metrics(
            Map.of(
                MetricNames.PERPLEXITY, MetricSpread.of(List.of(10.0, 10.3)),
                MetricNames.MEAN_COSINE, MetricSpread.of(List.of(0.5, 0.5005))))
        .rowValues(Map.of(MetricNames.COSINE, new RowSpread(0.004, 0.003)))
        .build();
  }

  static Policy policy(String acrossEnvelopes) throws IOException {
    String json =
        """
        {
          "policy_version": "floor-test",
          "family_confidence": 0.95,
          "bootstrap_resamples": 500,
          "seed": 7,
          "correction": "holm",
          "band_k": 3.0,
          "band_min_snapshots": 3,
          "band_window": 10,
          "metrics": {
            "mean_cosine": { "direction": "two_sided", "margin": 0.02, "gate": true },
            "perplexity": { "direction": "lower_is_better", "margin": 0.02, "gate": true }
          },
          "noise_floor": { "across_envelopes": "%s" }
        }
        """
            .formatted(acrossEnvelopes);
    return PolicyFile.read(
        new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test policy");
  }

  @Test
  void profileDependsOnTheHardwareAndNotOnTheBatchShape() {
    assertThat(CPU_BATCHED.profile()).startsWith("cpu-amd64-").hasSize("cpu-amd64-".length() + 8);
    assertThat(CPU_BATCHED.toBuilder().maxBatchSize(1).intraOpThreads(1).profile(null).build())
        .extracting(ScoringEnvelope::profile)
        .isEqualTo(CPU_BATCHED.profile());
    assertThat(CPU_BATCHED.toBuilder().onnxRuntime("1.30.0").profile(null).build().profile())
        .isNotEqualTo(CPU_BATCHED.profile());
  }

  @Test
  void differentEnvelopesAreNamedInTheReasons() throws IOException {
    NoiseFloor.Assessment assessment =
        NoiseFloor.assess(policy("widen"), "v1", List.of(CPU_BATCHED), List.of(OTHER), null);

    assertThat(assessment.reasons().get(0))
        .contains("baseline version v1 were scored under different envelopes")
        .contains("ONNX Runtime 1.29.0 vs 1.30.0")
        .contains("batch shape padded-batches of at most 32 vs one-at-a-time of at most 1")
        .contains("deterministic compute off vs on")
        .contains("CPU architecture amd64 vs aarch64")
        .doesNotContain("CPU model") // unknown on one side: not a difference
        .doesNotContain("intra-op threads");
    assertThat(assessment.reasons().get(1))
        .contains("no noise floor is archived for this model on profile " + CPU_BATCHED.profile());
    assertThat(assessment.widening()).isEmpty();
    assertThat(assessment.refused()).isFalse();
  }

  @Test
  void sameEnvelopesGiveNoReasonAndNoWidening() throws IOException {
    NoiseFloor.Assessment assessment =
        NoiseFloor.assess(
            policy("widen"),
            "v1",
            List.of(CPU_BATCHED),
            List.of(CPU_BATCHED),
            floor(CPU_BATCHED.profile()).toBuilder().metrics(Map.of()).build());

    assertThat(assessment.reasons()).isEmpty();
    assertThat(assessment.widening()).isEmpty();
  }

  @Test
  void aMarginBelowTheMeasuredFloorIsAPolicyWarning() throws IOException {
    NoiseFloor.Assessment assessment =
        NoiseFloor.assess(
            policy("widen"),
            "v1",
            List.of(CPU_BATCHED),
            List.of(CPU_BATCHED),
            floor(CPU_BATCHED.profile()));

    assertThat(assessment.reasons())
        .containsExactly(
            "policy warning: margin 0.02 of perplexity is below the measured noise floor 0.03 on"
                + " profile "
                + CPU_BATCHED.profile()
                + ": the gate cannot tell noise from change");
  }

  @Test
  void widenAcrossEnvelopesWidensEachMetricByItsRelativeFloor() throws IOException {
    NoiseFloor.Assessment assessment =
        NoiseFloor.assess(
            policy("widen"),
            "v1",
            List.of(CPU_BATCHED),
            List.of(OTHER),
            floor(CPU_BATCHED.profile()));

    assertThat(assessment.widening()).hasSize(2);
    assertThat(assessment.widening().get(MetricNames.PERPLEXITY)).isCloseTo(0.03, within(1e-12));
    assertThat(assessment.widening().get(MetricNames.MEAN_COSINE)).isCloseTo(0.001, within(1e-12));
    assertThat(assessment.refused()).isFalse();
    assertThat(assessment.reasons())
        .anySatisfy(
            r ->
                assertThat(r)
                    .startsWith("noise floor policy widen")
                    .contains("perplexity by 0.03"));
  }

  @Test
  void refuseAcrossEnvelopesRefusesTheComparison() throws IOException {
    NoiseFloor.Assessment assessment =
        NoiseFloor.assess(
            policy("refuse"),
            "v1",
            List.of(CPU_BATCHED),
            List.of(OTHER),
            floor(CPU_BATCHED.profile()));

    assertThat(assessment.refused()).isTrue();
    assertThat(assessment.widening()).isEmpty();
    assertThat(assessment.reasons())
        .anySatisfy(r -> assertThat(r).contains("noise floor policy refuse").endsWith("WARN"));
  }

  @Test
  void anUnknownAcrossEnvelopesValueIsRefusedByName() {
    assertThatThrownBy(() -> policy("ignore"))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessageContaining(
            "unknown noise_floor.across_envelopes 'ignore' (one of widen, refuse)");
  }

  /**
   * A candidate 0.5% off its baseline passes a 2% margin; widened by a 3% floor, neither test can
   * be significant (GREEN needs a change within −1%, RED one beyond 5%): WARN.
   */
  @Test
  void aFloorAboveTheMarginTurnsAGreenIntoAWarnWhenWidened() throws IOException {
    Random random = new Random(3);
    double[] baseline = new double[300];
    double[] candidate = new double[300];
    for (int i = 0; i < baseline.length; i++) {
      baseline[i] = 0.5 + 0.4 * random.nextDouble();
      candidate[i] = baseline[i] * 1.005 + 0.001 * random.nextGaussian();
    }
    Map<String, double[]> baselineRows = Map.of(MetricNames.COSINE, baseline);
    Map<String, double[]> candidateRows = Map.of(MetricNames.COSINE, candidate);
    Decider decider = new Decider(policy("widen"));

    DecisionReport plain = decider.decide(baselineRows, candidateRows, Map.of());
    DecisionReport widened =
        decider
            .widenedBy(Map.of(MetricNames.MEAN_COSINE, 0.03))
            .decide(baselineRows, candidateRows, Map.of());

    assertThat(plain.metrics().get(MetricNames.MEAN_COSINE).status()).isEqualTo(Flag.GREEN);
    assertThat(widened.metrics().get(MetricNames.MEAN_COSINE).status()).isEqualTo(Flag.WARN);
    Interval before = plain.metrics().get(MetricNames.MEAN_COSINE).interval();
    Interval after = widened.metrics().get(MetricNames.MEAN_COSINE).interval();
    assertThat(after.low()).isCloseTo(before.low() - 0.03, within(1e-12));
    assertThat(after.high()).isCloseTo(before.high() + 0.03, within(1e-12));
  }

  private static org.assertj.core.data.Offset<Double> within(double offset) {
    return org.assertj.core.data.Offset.offset(offset);
  }
}
