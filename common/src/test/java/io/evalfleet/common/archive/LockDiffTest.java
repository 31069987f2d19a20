package io.evalfleet.common.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.EmbeddingConventions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LockDiffTest {
  static EvaluationLock lock(
      String version,
      String artifactSha,
      String tokenizerSha,
      Integer maxSeqLen,
      Flag flag,
      double spearman) {
    return EvaluationLock.builder()
        .model("m")
        .version(version)
        .eventId("ev-" + version)
        .runId("run-" + version)
        .commit("c0ffee")
        .task("embedding")
        .artifact(new ArtifactRef("file:///models/" + version + "/model.onnx", artifactSha))
        .tokenizerSha256(tokenizerSha)
        .goldenSubsetUri("file:///golden/pairs.parquet")
        .goldenSubsetSha256("d".repeat(64))
        .evaluatorVersion("evalfleet-scoring/1")
        .onnxRuntime(List.of("onnxruntime 1.29.0"))
        .executionProviders(List.of("cpu"))
        .hardware(List.of("linux/amd64, 2 cores"))
        .quantizationBits(32)
        .maxSeqLen(maxSeqLen)
        .modelSignature("in a → out b")
        .policyVersion("1")
        .baselineVersion("v0")
        .flag(flag)
        .metrics(
            Map.of(
                "spearman",
                EvaluationLock.LockedMetric.builder()
                    .value(spearman)
                    .relativeChange(0.001)
                    .ciLow(-0.004)
                    .ciHigh(0.008)
                    .ciConfidence(0.95)
                    .status(flag)
                    .build()))
        .scores("file:///archive/scores/x.parquet")
        .scoresReused(false)
        .decidedAt(Instant.parse("2026-11-20T10:00:00Z"))
        .embedding(EmbeddingConventions.DEFAULTS)
        .build();
  }

  @Test
  void identicalEvaluationsHaveNoInputChanges() {
    LockDiff diff =
        new LockDiff(
            lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87),
            lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87));
    assertThat(diff.inputChanges()).isEmpty();
    assertThat(diff.sameScoringInputs()).isTrue();
    assertThat(diff.render())
        .contains("evaluation inputs: identical")
        .contains("same evaluation inputs: the scores are comparable row by row");
  }

  @Test
  void eachChangedInputIsNamedWithBothValues() {
    LockDiff diff =
        new LockDiff(
            lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87),
            lock("v2", "b".repeat(64), "u".repeat(64), 128, Flag.RED, 0.80));
    assertThat(diff.inputChanges())
        .containsExactly(
            new LockDiff.Change("artifact.sha256", "a".repeat(64), "b".repeat(64)),
            new LockDiff.Change("tokenizer_sha256", "t".repeat(64), "u".repeat(64)),
            new LockDiff.Change("max_seq_len", "256", "128"));
    assertThat(diff.sameScoringInputs())
        .as("tokenizer and windowing changed how rows are scored")
        .isFalse();
    assertThat(diff.render())
        .contains("  max_seq_len: 256 → 128")
        .contains("spearman       0.8700 → 0.8000  (-8.05%)")
        .contains("3 inputs differ: artifact.sha256, tokenizer_sha256, max_seq_len\n");
  }

  @Test
  void onlyTheWeightsChangedMeansTheScoresCompareRowByRow() {
    LockDiff diff =
        new LockDiff(
            lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87),
            lock("v2", "b".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.871));
    assertThat(diff.inputChanges())
        .extracting(LockDiff.Change::field)
        .containsExactly("artifact.sha256");
    assertThat(diff.sameScoringInputs()).isTrue();
  }

  @Test
  void aChangeOfEmbeddingConventionsIsAChangedInputThatMakesScoresIncomparable() {
    EvaluationLock mean = lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87);
    EvaluationLock base = lock("v2", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87);
    EvaluationLock cls =
        EvaluationLock.builder()
            .lockVersion(base.lockVersion())
            .model(base.model())
            .version(base.version())
            .eventId(base.eventId())
            .runId(base.runId())
            .commit(base.commit())
            .task(base.task())
            .artifact(base.artifact())
            .tokenizerSha256(base.tokenizerSha256())
            .goldenSubsetUri(base.goldenSubsetUri())
            .goldenSubsetSha256(base.goldenSubsetSha256())
            .goldenSubsetColumns(base.goldenSubsetColumns())
            .evaluatorVersion(base.evaluatorVersion())
            .onnxRuntime(base.onnxRuntime())
            .executionProviders(base.executionProviders())
            .hardware(base.hardware())
            .requestedHardwareProfile(base.requestedHardwareProfile())
            .quantizationBits(base.quantizationBits())
            .maxSeqLen(base.maxSeqLen())
            .stride(base.stride())
            .baseModelSha256(base.baseModelSha256())
            .modelSignature(base.modelSignature())
            .policyVersion(base.policyVersion())
            .baselineVersion(base.baselineVersion())
            .flag(base.flag())
            .metrics(base.metrics())
            .scores(base.scores())
            .scoresReused(base.scoresReused())
            .decidedAt(base.decidedAt())
            .embedding(
                new EmbeddingConventions(
                    EmbeddingConventions.Pooling.CLS, null, "query: ", null, null))
            .build();
    LockDiff diff = new LockDiff(mean, cls);
    assertThat(diff.inputChanges())
        .containsExactly(
            new LockDiff.Change(
                "embedding",
                "pooling mean, normalized, no prefix, output default",
                "pooling cls, normalized, prefixes \"query: \"/\"\", output default"));
    assertThat(diff.sameScoringInputs()).isFalse();
  }
}
