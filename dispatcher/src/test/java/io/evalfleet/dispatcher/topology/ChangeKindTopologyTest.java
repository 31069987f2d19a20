package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.ChangePolicy;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.PolicyFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kind of change a causal LM's candidate is decides whether its token shift gates and whether
 * its jobs run the baseline beside it, under the default policy. The workers are played by {@link
 * StagingOrderTest}'s: a version's scores depend only on its name, the row and whether its job
 * carries a reference, so two versions of different kinds here have the same scores. Every version
 * not named "tuned…" has its baseline's perplexity, and a token shift far beyond the default limits
 * (mean KL about 0.8 nats, a third of the top-1 tokens changed).
 */
class ChangeKindTopologyTest {
  @TempDir Path dir;
  final StagingOrderTest harness = new StagingOrderTest();

  @BeforeEach
  void writeSubsets() throws Exception {
    harness.dir = dir;
    harness.writeSubsets();
  }

  @AfterEach
  void close() {
    harness.close();
  }

  StagingOrderTest.Scenario scenario(Policy policy) throws Exception {
    StagingOrderTest.Scenario s = harness.new Scenario("s", policy);
    s.stage(event("base", null));
    s.score("base");
    assertThat(s.flagOf("base").flag()).isEqualTo(Flag.WARN);
    return s;
  }

  StagedWeightEvent event(String version, ChangeKind kind) throws Exception {
    return harness.event("m", version, Task.CAUSAL_LM).toBuilder().changeKind(kind).build();
  }

  List<ScoringJob> jobsOf(StagingOrderTest.Scenario s, String version) {
    return s.answered.stream().filter(job -> job.version().equals(version)).toList();
  }

  @Test
  void theSameScoresAreRedForAQuantizationAndARetrainRunsOneForwardAndIsGreen() throws Exception {
    StagingOrderTest.Scenario s = scenario(PolicyFile.defaults());
    s.stage(event("int4", ChangeKind.QUANTIZATION));
    s.score("int4");
    s.stage(event("fine", ChangeKind.RETRAIN));
    s.score("fine");

    assertThat(jobsOf(s, "int4"))
        .isNotEmpty()
        .allSatisfy(job -> assertThat(job.reference()).isNotNull());
    DriftFlag quantized = s.flagOf("int4");
    assertThat(quantized.flag()).isEqualTo(Flag.RED);
    assertThat(quantized.changeKind()).isEqualTo(ChangeKind.QUANTIZATION);
    assertThat(quantized.metrics().get(MetricNames.KL_MEAN).status()).isEqualTo(Flag.RED);
    assertThat(quantized.metrics().get(MetricNames.KL_MEAN).gating()).isTrue();
    assertThat(quantized.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.GREEN);
    assertThat(quantized.reasons()).contains("change kind quantization, as the staged event says");

    assertThat(jobsOf(s, "fine"))
        .as("a retrain's jobs run the candidate alone")
        .isNotEmpty()
        .allSatisfy(job -> assertThat(job.reference()).isNull());
    DriftFlag retrained = s.flagOf("fine");
    assertThat(retrained.flag()).as(String.join("\n", retrained.reasons())).isEqualTo(Flag.GREEN);
    assertThat(retrained.changeKind()).isEqualTo(ChangeKind.RETRAIN);
    assertThat(retrained.metrics()).doesNotContainKeys(MetricNames.KL_MEAN, MetricNames.KL_P99);
    assertThat(retrained.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.GREEN);
    assertThat(retrained.reasons())
        .contains("change kind retrain, as the staged event says")
        .anyMatch(
            r ->
                r.startsWith("token shift not measured: for change kind retrain policy 1")
                    && r.contains("kl_mean, kl_p99, top1_agreement")
                    && r.contains("only for quantization, export, runtime")
                    && r.contains("one forward pass instead of two"));
    EvaluationLock lock = EvaluationArchive.readLock(Storage.withDefaults(), retrained.lockfile());
    assertThat(lock.changeKind()).isEqualTo(ChangeKind.RETRAIN);
  }

  @Test
  void aTokenShiftMeasuredAlwaysIsReportedNotGatedForARetrain() throws Exception {
    Policy defaults = PolicyFile.defaults();
    Policy always =
        defaults.withChanges(new ChangePolicy(ChangePolicy.TokenShift.ALWAYS, Map.of()));
    StagingOrderTest.Scenario s = scenario(always);
    s.stage(event("fine", ChangeKind.RETRAIN));
    s.score("fine");
    assertThat(jobsOf(s, "fine")).allSatisfy(job -> assertThat(job.reference()).isNotNull());
    DriftFlag retrained = s.flagOf("fine");
    assertThat(retrained.flag()).as(String.join("\n", retrained.reasons())).isEqualTo(Flag.GREEN);
    assertThat(retrained.metrics().get(MetricNames.KL_MEAN).status())
        .as("its status is shown")
        .isEqualTo(Flag.RED);
    assertThat(retrained.metrics().get(MetricNames.KL_MEAN).gating()).isFalse();
    assertThat(retrained.metrics().get(MetricNames.TOP1_AGREEMENT).gating()).isFalse();
    assertThat(retrained.reasons())
        .contains(
            "token shift reported, not gated: change kind retrain (policy 1 gates kl_mean,"
                + " kl_p99, top1_agreement only for quantization, export, runtime)");
  }

  @Test
  void withoutAKindAnotherPrecisionThanTheBaselinesIsAQuantizationAndTheSameIsARetrain()
      throws Exception {
    StagingOrderTest.Scenario s = harness.new Scenario("s", PolicyFile.defaults());
    s.stage(event("base", null).toBuilder().quantizationBits(32).build());
    s.score("base");
    s.stage(event("int8", null).toBuilder().quantizationBits(8).build());
    s.score("int8");
    s.stage(event("fine", null).toBuilder().quantizationBits(32).build());
    s.score("fine");
    s.stage(event("plain", null));
    s.score("plain");

    DriftFlag int8 = s.flagOf("int8");
    assertThat(int8.changeKind()).isEqualTo(ChangeKind.QUANTIZATION);
    assertThat(int8.flag()).isEqualTo(Flag.RED);
    assertThat(jobsOf(s, "int8")).allSatisfy(job -> assertThat(job.reference()).isNotNull());
    assertThat(int8.reasons())
        .anyMatch(
            r ->
                r.startsWith("change kind quantization, inferred:")
                    && r.contains("quantization_bits 8 differ from baseline version base's 32"));

    DriftFlag fine = s.flagOf("fine");
    assertThat(fine.changeKind()).isEqualTo(ChangeKind.RETRAIN);
    assertThat(fine.flag()).isEqualTo(Flag.GREEN);
    assertThat(jobsOf(s, "fine")).allSatisfy(job -> assertThat(job.reference()).isNull());
    assertThat(fine.reasons())
        .anyMatch(
            r ->
                r.startsWith("change kind retrain, assumed:")
                    && r.contains("quantization_bits 32 are baseline version base's"));

    assertThat(s.flagOf("plain").reasons())
        .anyMatch(
            r ->
                r.startsWith("change kind retrain, assumed:")
                    && r.contains("the event gives no quantization_bits"));
  }

  @Test
  void fewerThan16BitsAgainstABaselineEvaluatedWithoutBitsIsAQuantization() throws Exception {
    StagingOrderTest.Scenario s = harness.new Scenario("s", PolicyFile.defaults());
    s.stage(event("base", null));
    s.score("base");
    s.stage(event("int5", null).toBuilder().quantizationBits(5).build());
    s.score("int5");
    s.stage(event("bf16", null).toBuilder().quantizationBits(16).build());
    s.score("bf16");

    DriftFlag int5 = s.flagOf("int5");
    assertThat(int5.changeKind()).isEqualTo(ChangeKind.QUANTIZATION);
    assertThat(jobsOf(s, "int5")).allSatisfy(job -> assertThat(job.reference()).isNotNull());
    assertThat(int5.reasons())
        .anyMatch(
            r ->
                r.startsWith("change kind quantization, inferred:")
                    && r.contains("quantization_bits 5 are below 16"));
    assertThat(s.flagOf("bf16").changeKind()).isEqualTo(ChangeKind.RETRAIN);
  }

  @Test
  void thePolicysDefaultForAModelAppliesWhenItsEventNamesNone() throws Exception {
    Policy defaults = PolicyFile.defaults();
    Policy quantized =
        defaults.withChanges(
            new ChangePolicy(
                ChangePolicy.TokenShift.WHEN_GATING,
                Map.of("m", new ChangePolicy.ModelChange(ChangeKind.EXPORT, null))));
    StagingOrderTest.Scenario s = scenario(quantized);
    s.stage(event("onnx2", null));
    s.score("onnx2");
    s.stage(event("fine", ChangeKind.RETRAIN));
    s.score("fine");
    DriftFlag export = s.flagOf("onnx2");
    assertThat(export.changeKind()).isEqualTo(ChangeKind.EXPORT);
    assertThat(export.flag()).isEqualTo(Flag.RED);
    assertThat(export.reasons())
        .contains(
            "change kind export: the default of policy 1 for model m (the staged event names none)");
    assertThat(s.flagOf("fine").changeKind())
        .as("the event's kind comes first")
        .isEqualTo(ChangeKind.RETRAIN);
    assertThat(s.flagOf("fine").flag()).isEqualTo(Flag.GREEN);
  }

  @Test
  void aMisspelledChangeKindIsAnErrorFlagNamingTheAcceptedKinds() throws Exception {
    StagingOrderTest.Scenario s = scenario(PolicyFile.defaults());
    String json =
        Json.writeString(event("typo", ChangeKind.QUANTIZATION))
            .replace("\"change_kind\":\"quantization\"", "\"change_kind\":\"quantisation\"");
    assertThat(json).contains("quantisation");
    s.staged.pipeInput("m", json.getBytes(StandardCharsets.UTF_8));
    s.collect();
    DriftFlag flag =
        s.published.stream().filter(f -> f.flag() == Flag.ERROR).findFirst().orElseThrow();
    assertThat(flag.flag()).isEqualTo(Flag.ERROR);
    assertThat(flag.reasons().get(0))
        .startsWith("staged event rejected:")
        .contains("change_kind")
        .contains("[retrain, quantization, export, runtime]")
        .contains("quantisation");
    assertThat(flag.changeKind()).isNull();
    assertThat(s.pendingOf("typo")).isEmpty();
  }
}
