package io.evalfleet.common.wire;

import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.SubsetManifest;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.RetrainRequest;
import io.evalfleet.common.contract.RetrievalStep;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.contract.ScoringEnvironment;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The wire format of every message and archive file, held by golden files: a fully populated value
 * (every optional field set) and a minimal one (required fields only) of each. Maps that a record
 * copies with {@code Map.copyOf} hold one entry here, since such a map's iteration order (and so its
 * JSON key order) differs from one JVM to the next.
 */
class WireFormatTest {
  static final String SHA_A = "a".repeat(64);
  static final String SHA_B = "b".repeat(64);
  static final String SHA_C = "c".repeat(64);
  static final String SHA_D = "d".repeat(64);
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  static final Instant T1 = Instant.parse("2026-11-22T10:05:30.250Z");
  static final Instant T2 = Instant.parse("2026-11-22T11:00:00Z");

  static final ArtifactRef MODEL = new ArtifactRef("file:///models/m/model.onnx", SHA_A,
      List.of(new ArtifactRef("file:///models/m/model.onnx.data", SHA_B)));
  static final ArtifactRef TOKENIZER = new ArtifactRef("s3a://bucket/models/m/tokenizer.json", SHA_C);
  static final ArtifactRef TOKENIZER_MINIMAL = new ArtifactRef("/models/tokenizer.json", SHA_C);
  static final ArtifactRef BASELINE_MODEL = new ArtifactRef("/models/base/model.onnx", SHA_D);
  static final SubsetRef SUBSET = new SubsetRef("file:///golden/sts.parquet", SHA_B, "v3", Map.of("text_a", "s1"));
  static final SubsetRef SUBSET_MINIMAL = new SubsetRef("/golden/sts.parquet", SHA_B, null, null);
  static final EmbeddingConventions EMBEDDING =
      new EmbeddingConventions(EmbeddingConventions.Pooling.CLS, false, "query: ", "passage: ", "sentence_embedding");
  static final ReviewRef REVIEW = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 42, "0123abc");

  @Test
  void stagedWeightEvent() {
    Golden.assertMessage("staged-weight-event.full.json", new StagedWeightEvent(1, "ev-1", "minilm", "abc123",
        Task.EMBEDDING, MODEL, TOKENIZER, SUBSET, "v-prev", 8, 256, 128, "cpu-avx512", SHA_D, "deadbeef", T0,
        EMBEDDING, REVIEW), StagedWeightEvent.class);
    Golden.assertMessage("staged-weight-event.minimal.json", new StagedWeightEvent(1, "ev-2", "minilm", "abc124",
        Task.EMBEDDING, new ArtifactRef("/models/m.onnx", SHA_A), TOKENIZER_MINIMAL, SUBSET_MINIMAL, null, null, null, null,
        null,
        null, null, null, null), StagedWeightEvent.class);
  }

  @Test
  void stagedWeightEventOfACausalLm() {
    Golden.assertMessage("staged-weight-event.causal-lm.json", new StagedWeightEvent(1, "ev-3", "gpt-small", "step-900",
        Task.CAUSAL_LM, MODEL, TOKENIZER, SUBSET, null, 32, 512, 256, null, null, null, T0, null,
        new ReviewRef(ReviewRef.Provider.GITLAB, "group/sub/project", null, "abcdef0")), StagedWeightEvent.class);
  }

  @Test
  void scoringJob() {
    Golden.assertMessage("scoring-job.causal-lm.full.json", new ScoringJob(1, "run-1/00002", "run-1", "ev-1",
        "gpt-small", "step-900", Task.CAUSAL_LM, MODEL, TOKENIZER, SUBSET, 512, 256, 2, 8, 128, 64,
        List.of("nll", "tokens"), 3, T2, null, BASELINE_MODEL, null), ScoringJob.class);
    Golden.assertMessage("scoring-job.retrieval.full.json", new ScoringJob(1, "run-2/00000", "run-2", "ev-2",
        "minilm", "abc123", Task.RETRIEVAL, MODEL, TOKENIZER, SUBSET, 256, 128, 0, 2, 0, 100, List.of("cosine"), 1, T2,
        EMBEDDING, null, new RetrievalStep(RetrievalStep.Phase.QUERIES, "file:///archive/runs/run-2/corpus",
            "file:///archive/runs/run-1/corpus", List.of(1, 5, 10))), ScoringJob.class);
    Golden.assertMessage("scoring-job.minimal.json", new ScoringJob(1, "run-3/00000", "run-3", null, "minilm", null,
        Task.EMBEDDING, new ArtifactRef("/models/m.onnx", SHA_A), TOKENIZER_MINIMAL, SUBSET_MINIMAL, null, null, 0, 1, 0, 10,
        null,
        1, null, null, null, null), ScoringJob.class);
  }

  @Test
  void shardResult() {
    Golden.assertMessage("shard-result.full.json", new ShardResult(1, "run-1/00002", "run-1", 2, 128, 3,
        Map.of("cosine", new double[] {0.1, -0.25, 0.75530001}), "worker-7", "cuda", "padded-batches", 0.125, 1234, 2,
        null, new ScoringEnvironment("1.20.0", "cpu-avx512", "input_ids:int64[?,?] -> logits:float[?,?,?]"),
        Map.of("kl", "AAECAw==")), ShardResult.class);
    Golden.assertMessage("shard-result.error.json", new ShardResult(1, "run-1/00003", "run-1", 3, 192, 64, null,
        "worker-7", "cpu", null, null, 15, 1, new ShardError(FailureKind.BAD_INPUT, "row 12: text_a is null"), null,
        null), ShardResult.class);
    Golden.assertMessage("shard-result.minimal.json", new ShardResult(1, "run-1/00004", "run-1", 4, 256, 0, null,
        null, null, null, null, 0, 1, null, null, null), ShardResult.class);
  }

  @Test
  void driftFlag() {
    MetricValue full = new MetricValue(0.8123, 1000, "higher_is_better", 0.8301, -0.0178, -0.0214, -0.031, -0.012,
        0.95, 0.02, true, 0.003, 0.81, 0.85, Flag.RED, "dropped beyond the margin", 0.05);
    Golden.assertMessage("drift-flag.full.json", new DriftFlag(1, "run-1", "ev-1", "minilm", "abc123", "v-prev",
        Flag.RED, Map.of("spearman", full), List.of("spearman fell 2.1%", "beyond the 2% margin"),
        new Coverage(8, 8, 1000, 1000), List.of("cpu", "cuda"), T0, T1, 330250L, "policy-7",
        "file:///archive/locks/minilm/abc123.lock.json", REVIEW), DriftFlag.class);
    Golden.assertMessage("drift-flag.minimal.json", new DriftFlag(1, null, null, null, null, null, Flag.ERROR, null,
        null, null, null, null, null, null, null, null, null), DriftFlag.class);
    Golden.assertMessage("metric-value.alone.json", MetricValue.alone(12.5, 40, "lower_is_better"), MetricValue.class);
  }

  @Test
  void runProgress() {
    Golden.assertMessage("run-progress.full.json", new RunProgress(1, "run-1", "ev-1", "minilm", "abc123", 3, 8, 384,
        1000, 52.5, T0, T1), RunProgress.class);
    Golden.assertMessage("run-progress.minimal.json", new RunProgress(1, "run-1", null, null, null, 0, 0, 0, 0, 0,
        null, null), RunProgress.class);
  }

  @Test
  void monitorResult() {
    MonitorResult full = new MonitorResult(1, "gpt-small", "step-900", T0, T2, Instant.parse("2026-11-01T00:00:00Z"),
        Instant.parse("2026-11-08T00:00:00Z"), 500, 500, 0.0123, 0.004, 0.01, true, T0, "p 0.004 <= alpha 0.01", T2,
        18.25, 17.5, Map.of("kl_mean", 0.042));
    Golden.assertMessage("monitor-result.full.json", full, MonitorResult.class);
    Golden.assertArchived("monitor-result.full.archived.json", full, MonitorResult.class);
    Golden.assertMessage("monitor-result.minimal.json", new MonitorResult(1, "minilm", null, null, T2, null, null, 0,
        0, null, null, 0.01, false, null, null, null, null, null, null), MonitorResult.class);
  }

  @Test
  void retrainRequest() {
    Golden.assertMessage("retrain-request.full.json", new RetrainRequest(1, "minilm/drift/2026-11-22T10:00:00Z",
        "minilm", "abc123", "drift", "MMD² p 0.004 <= alpha 0.01", Map.of("mmd2", 0.0123), T0, T2, "sts-traffic", T2),
        RetrainRequest.class);
    Golden.assertMessage("retrain-request.minimal.json", new RetrainRequest(1, "cause-1", "minilm", null, null, null,
        null, null, null, null, null), RetrainRequest.class);
  }

  @Test
  void evaluationLock() {
    EvaluationLock.LockedMetric metric = new EvaluationLock.LockedMetric(0.8123, -0.0214, -0.031, -0.012, 0.95,
        Flag.RED, 0.8301, 0.02, 0.81, 0.85, 0.05);
    Golden.assertArchived("evaluation-lock.full.json", new EvaluationLock(EvaluationLock.CURRENT, "minilm", "abc123",
        "ev-1", "run-1", "deadbeef", "embedding", MODEL, SHA_C, "file:///golden/sts.parquet", SHA_B,
        Map.of("text_a", "s1"), "evaluator-4", List.of("1.20.0"), List.of("cpu", "cuda"), List.of("cpu-avx512"),
        "gpu-a10", 8, 256, 128, SHA_D, "input_ids:int64[?,?] -> last_hidden_state:float[?,?,?]", "policy-7",
        "v-prev", Flag.RED, Map.of("spearman", metric), "file:///archive/scores/minilm/abc123", true, T1, EMBEDDING),
        EvaluationLock.class);
    Golden.assertArchived("evaluation-lock.minimal.json", new EvaluationLock(EvaluationLock.CURRENT, "minilm",
        "abc123", null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null, null, null, null, null, null, null, false, null, null), EvaluationLock.class);
  }

  @Test
  void subsetManifest() {
    Golden.assertArchived("subset-manifest.full.json", new SubsetManifest(SubsetManifest.CURRENT, "sts-traffic", "v3",
        List.of(new SubsetManifest.Source("file:///traffic/day-1.parquet", SHA_A, 5000)), "text",
        List.of("length >= 8"), "intent", 1000, 20, 7L, "evalfleet subset build", 5000, 120, 30, 12,
        Map.of("billing", new SubsetManifest.Stratum(800, 200)),
        new SubsetManifest.Output("file:///golden/sts.parquet", SHA_B, 1000), Map.of("text", "BINARY")),
        SubsetManifest.class);
  }

  @Test
  void baselineSnapshot() {
    Golden.assertArchived("baseline-snapshot.full.json", new BaselineSnapshot("minilm", "abc123", "deadbeef", "run-1",
        SHA_A, SHA_B, Map.of("spearman", 0.8301), "promoted", T1), BaselineSnapshot.class);
  }
}
