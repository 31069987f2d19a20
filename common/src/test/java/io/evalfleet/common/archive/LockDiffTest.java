package io.evalfleet.common.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.archive.EvaluationLock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LockDiffTest {
  static EvaluationLock lock(String version, String artifactSha, String tokenizerSha, Integer maxSeqLen, Flag flag,
      double spearman) {
    return new EvaluationLock(EvaluationLock.CURRENT, "m", version, "ev-" + version, "run-" + version, "c0ffee",
        "embedding", new ArtifactRef("file:///models/" + version + "/model.onnx", artifactSha), tokenizerSha,
        "file:///golden/pairs.parquet", "d".repeat(64), null, "evalfleet-scoring/1", List.of("onnxruntime 1.29.0"),
        List.of("cpu"), List.of("linux/amd64, 2 cores"), null, 32, maxSeqLen, null, null, "in a → out b", "1", "v0",
        flag, Map.of("spearman", new EvaluationLock.LockedMetric(spearman, 0.001, -0.004, 0.008, 0.95, flag)),
        "file:///archive/scores/x.parquet", false, Instant.parse("2026-11-20T10:00:00Z"),
        EmbeddingConventions.DEFAULTS);
  }

  @Test
  void identicalEvaluationsHaveNoInputChanges() {
    LockDiff diff = new LockDiff(lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87),
        lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87));
    assertThat(diff.inputChanges()).isEmpty();
    assertThat(diff.sameScoringInputs()).isTrue();
    assertThat(diff.render()).contains("evaluation inputs: identical")
        .contains("same evaluation inputs: the scores are comparable row by row");
  }

  @Test
  void eachChangedInputIsNamedWithBothValues() {
    LockDiff diff = new LockDiff(lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87),
        lock("v2", "b".repeat(64), "u".repeat(64), 128, Flag.RED, 0.80));
    assertThat(diff.inputChanges()).containsExactly(
        new LockDiff.Change("artifact.sha256", "a".repeat(64), "b".repeat(64)),
        new LockDiff.Change("tokenizer_sha256", "t".repeat(64), "u".repeat(64)),
        new LockDiff.Change("max_seq_len", "256", "128"));
    assertThat(diff.sameScoringInputs()).as("tokenizer and windowing changed how rows are scored").isFalse();
    assertThat(diff.render())
        .contains("  max_seq_len: 256 → 128")
        .contains("spearman       0.8700 → 0.8000  (-8.05%)")
        .contains("3 inputs differ: artifact.sha256, tokenizer_sha256, max_seq_len\n");
  }

  @Test
  void onlyTheWeightsChangedMeansTheScoresCompareRowByRow() {
    LockDiff diff = new LockDiff(lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87),
        lock("v2", "b".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.871));
    assertThat(diff.inputChanges()).extracting(LockDiff.Change::field).containsExactly("artifact.sha256");
    assertThat(diff.sameScoringInputs()).isTrue();
  }

  @Test
  void aChangeOfEmbeddingConventionsIsAChangedInputThatMakesScoresIncomparable() {
    EvaluationLock mean = lock("v1", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87);
    EvaluationLock base = lock("v2", "a".repeat(64), "t".repeat(64), 256, Flag.GREEN, 0.87);
    EvaluationLock cls = new EvaluationLock(base.lockVersion(), base.model(), base.version(), base.eventId(),
        base.runId(), base.commit(), base.task(), base.artifact(), base.tokenizerSha256(), base.goldenSubsetUri(),
        base.goldenSubsetSha256(), base.goldenSubsetColumns(), base.evaluatorVersion(), base.onnxRuntime(), base.executionProviders(),
        base.hardware(), base.requestedHardwareProfile(), base.quantizationBits(), base.maxSeqLen(), base.stride(),
        base.baseModelSha256(), base.modelSignature(), base.policyVersion(), base.baselineVersion(), base.flag(),
        base.metrics(), base.scores(), base.scoresReused(), base.decidedAt(),
        new EmbeddingConventions(EmbeddingConventions.Pooling.CLS, null, "query: ", null, null));
    LockDiff diff = new LockDiff(mean, cls);
    assertThat(diff.inputChanges()).containsExactly(new LockDiff.Change("embedding",
        "pooling mean, normalized, no prefix, output default",
        "pooling cls, normalized, prefixes \"query: \"/\"\", output default"));
    assertThat(diff.sameScoringInputs()).isFalse();
  }
}
