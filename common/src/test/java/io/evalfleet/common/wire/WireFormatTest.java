package io.evalfleet.common.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.archive.SubsetManifest;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.RetrainRequest;
import io.evalfleet.common.contract.RetrievalStep;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.contract.RunCancelled;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.contract.ScoringEnvironment;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SequentialDecision;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The wire format of every message and archive file, held by golden files: a fully populated value
 * (every optional field set) and a minimal one (required fields only) of each. Maps that a record
 * copies with {@code Map.copyOf} hold one entry here, since such a map's iteration order (and so
 * its JSON key order) differs from one JVM to the next; {@link #mapsAreWrittenInKeyOrder} holds
 * that the mapper writes every map's keys in order, whatever the map's own order.
 */
class WireFormatTest {
  static final String SHA_A = "a".repeat(64);
  static final String SHA_B = "b".repeat(64);
  static final String SHA_C = "c".repeat(64);
  static final String SHA_D = "d".repeat(64);
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  static final Instant T1 = Instant.parse("2026-11-22T10:05:30.250Z");
  static final Instant T2 = Instant.parse("2026-11-22T11:00:00Z");

  static final ArtifactRef MODEL =
      new ArtifactRef(
          "file:///models/m/model.onnx",
          SHA_A,
          List.of(new ArtifactRef("file:///models/m/model.onnx.data", SHA_B)));
  static final ArtifactRef TOKENIZER =
      new ArtifactRef("s3a://bucket/models/m/tokenizer.json", SHA_C);
  static final ArtifactRef TOKENIZER_MINIMAL = new ArtifactRef("/models/tokenizer.json", SHA_C);
  static final ArtifactRef BASELINE_MODEL = new ArtifactRef("/models/base/model.onnx", SHA_D);
  static final SubsetRef SUBSET =
      new SubsetRef("file:///golden/sts.parquet", SHA_B, "v3", Map.of("text_a", "s1"));
  static final SubsetRef SUBSET_MINIMAL = new SubsetRef("/golden/sts.parquet", SHA_B, null, null);
  static final EmbeddingConventions EMBEDDING =
      new EmbeddingConventions(
          EmbeddingConventions.Pooling.CLS, false, "query: ", "passage: ", "sentence_embedding");
  static final ReviewRef REVIEW =
      new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 42, "0123abc");

  @Test
  void stagedWeightEvent() {
    Golden.assertMessage(
        "staged-weight-event.full.json",
        StagedWeightEvent.builder()
            .eventId("ev-1")
            .model("minilm")
            .version("abc123")
            .task(Task.EMBEDDING)
            .artifact(MODEL)
            .tokenizer(TOKENIZER)
            .goldenSubset(SUBSET)
            .baseline("v-prev")
            .quantizationBits(8)
            .changeKind(ChangeKind.QUANTIZATION)
            .maxSeqLen(256)
            .stride(128)
            .hardwareProfile("cpu-avx512")
            .baseModelSha256(SHA_D)
            .commit("deadbeef")
            .createdAt(T0)
            .embedding(EMBEDDING)
            .review(REVIEW)
            .build(),
        StagedWeightEvent.class);
    Golden.assertMessage(
        "staged-weight-event.minimal.json",
        StagedWeightEvent.builder()
            .eventId("ev-2")
            .model("minilm")
            .version("abc124")
            .task(Task.EMBEDDING)
            .artifact(new ArtifactRef("/models/m.onnx", SHA_A))
            .tokenizer(TOKENIZER_MINIMAL)
            .goldenSubset(SUBSET_MINIMAL)
            .build(),
        StagedWeightEvent.class);
  }

  @Test
  void stagedWeightEventOfACausalLm() {
    Golden.assertMessage(
        "staged-weight-event.causal-lm.json",
        StagedWeightEvent.builder()
            .eventId("ev-3")
            .model("gpt-small")
            .version("step-900")
            .task(Task.CAUSAL_LM)
            .artifact(MODEL)
            .tokenizer(TOKENIZER)
            .goldenSubset(SUBSET)
            .quantizationBits(32)
            .changeKind(ChangeKind.RETRAIN)
            .maxSeqLen(512)
            .stride(256)
            .createdAt(T0)
            .review(new ReviewRef(ReviewRef.Provider.GITLAB, "group/sub/project", null, "abcdef0"))
            .build(),
        StagedWeightEvent.class);
  }

  @Test
  void scoringJob() {
    Golden.assertMessage(
        "scoring-job.causal-lm.full.json",
        ScoringJob.builder()
            .jobId("run-1/00002")
            .runId("run-1")
            .eventId("ev-1")
            .model("gpt-small")
            .version("step-900")
            .task(Task.CAUSAL_LM)
            .artifact(MODEL)
            .tokenizer(TOKENIZER)
            .goldenSubset(SUBSET)
            .maxSeqLen(512)
            .stride(256)
            .shardIndex(2)
            .shardCount(8)
            .rowStart(128)
            .rowCount(64)
            .metrics(List.of("nll", "tokens"))
            .attempt(3)
            .deadline(T2)
            .reference(BASELINE_MODEL)
            .order(new RowOrder(-4_611_686_018_427_387_904L, 20_000, 5))
            .build(),
        ScoringJob.class);
    Golden.assertMessage(
        "scoring-job.retrieval.full.json",
        ScoringJob.builder()
            .jobId("run-2/00000")
            .runId("run-2")
            .eventId("ev-2")
            .model("minilm")
            .version("abc123")
            .task(Task.RETRIEVAL)
            .artifact(MODEL)
            .tokenizer(TOKENIZER)
            .goldenSubset(SUBSET)
            .maxSeqLen(256)
            .stride(128)
            .shardIndex(0)
            .shardCount(2)
            .rowStart(0)
            .rowCount(100)
            .metrics(List.of("cosine"))
            .attempt(1)
            .deadline(T2)
            .embedding(EMBEDDING)
            .retrieval(
                new RetrievalStep(
                    RetrievalStep.Phase.QUERIES,
                    "file:///archive/runs/run-2/corpus",
                    "file:///archive/runs/run-1/corpus",
                    List.of(1, 5, 10)))
            .build(),
        ScoringJob.class);
    Golden.assertMessage(
        "scoring-job.minimal.json",
        ScoringJob.builder()
            .jobId("run-3/00000")
            .runId("run-3")
            .model("minilm")
            .task(Task.EMBEDDING)
            .artifact(new ArtifactRef("/models/m.onnx", SHA_A))
            .tokenizer(TOKENIZER_MINIMAL)
            .goldenSubset(SUBSET_MINIMAL)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(0)
            .rowCount(10)
            .attempt(1)
            .build(),
        ScoringJob.class);
  }

  /** A full scoring envelope, as a GPU worker reports it. */
  static final ScoringEnvelope ENVELOPE =
      ScoringEnvelope.builder()
          .executionProvider("cuda")
          .onnxRuntime("1.29.0")
          .batching("padded-batches")
          .maxBatchSize(32)
          .intraOpThreads(2)
          .deterministicCompute(false)
          .cpuArch("amd64")
          .cpuModel("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
          .gpu("NVIDIA H100 80GB HBM3")
          .build();

  @Test
  void shardResult() {
    Golden.assertMessage(
        "shard-result.full.json",
        ShardResult.builder()
            .jobId("run-1/00002")
            .runId("run-1")
            .shardIndex(2)
            .rowStart(128)
            .rowCount(3)
            .values(Map.of("cosine", new double[] {0.1, -0.25, 0.75530001}))
            .workerId("worker-7")
            .executionProvider("cuda")
            .batching("padded-batches")
            .paddingRatio(0.125)
            .durationMs(1234)
            .attempt(2)
            .environment(
                new ScoringEnvironment(
                    "1.20.0",
                    "cpu-avx512",
                    "input_ids:int64[?,?] -> logits:float[?,?,?]",
                    ENVELOPE))
            .sketches(Map.of("kl", "AAECAw=="))
            .build(),
        ShardResult.class);
    Golden.assertMessage(
        "shard-result.error.json",
        ShardResult.builder()
            .jobId("run-1/00003")
            .runId("run-1")
            .shardIndex(3)
            .rowStart(192)
            .rowCount(64)
            .workerId("worker-7")
            .executionProvider("cpu")
            .durationMs(15)
            .attempt(1)
            .error(new ShardError(FailureKind.BAD_INPUT, "row 12: text_a is null"))
            .build(),
        ShardResult.class);
    Golden.assertMessage(
        "shard-result.minimal.json",
        ShardResult.builder()
            .jobId("run-1/00004")
            .runId("run-1")
            .shardIndex(4)
            .rowStart(256)
            .rowCount(0)
            .durationMs(0)
            .attempt(1)
            .build(),
        ShardResult.class);
  }

  @Test
  void mapsAreWrittenInKeyOrder() throws Exception {
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    for (String name :
        List.of("spearman", "cosine_mean", "pearson", "ndcg_at_10", "mrr", "bits_per_byte")) {
      metrics.put(name, MetricValue.alone(0.5, 10, "higher_is_better"));
    }
    String json = Json.writeString(DriftFlag.builder().flag(Flag.GREEN).metrics(metrics).build());
    List<String> written = new ArrayList<>();
    Json.mapper().readTree(json).get("metrics").fieldNames().forEachRemaining(written::add);
    assertThat(written)
        .containsExactly(
            "bits_per_byte", "cosine_mean", "mrr", "ndcg_at_10", "pearson", "spearman");
  }

  @Test
  void driftFlag() {
    MetricValue full =
        MetricValue.builder()
            .value(0.8123)
            .n(1000)
            .direction("higher_is_better")
            .baseline(0.8301)
            .delta(-0.0178)
            .relativeDelta(-0.0214)
            .ciLow(-0.031)
            .ciHigh(-0.012)
            .ciConfidence(0.95)
            .margin(0.02)
            .gating(true)
            .pValue(0.003)
            .bandLow(0.81)
            .bandHigh(0.85)
            .status(Flag.RED)
            .evidence("dropped beyond the margin")
            .limit(0.05)
            .build();
    Golden.assertMessage(
        "drift-flag.full.json",
        DriftFlag.builder()
            .runId("run-1")
            .eventId("ev-1")
            .model("minilm")
            .version("abc123")
            .baselineVersion("v-prev")
            .flag(Flag.RED)
            .metrics(Map.of("spearman", full))
            .reasons(List.of("spearman fell 2.1%", "beyond the 2% margin"))
            .coverage(new Coverage(8, 8, 1000, 1000))
            .executionProviders(List.of("cpu", "cuda"))
            .stagedAt(T0)
            .decidedAt(T1)
            .durationMs(330250L)
            .policyVersion("policy-7")
            .changeKind(ChangeKind.RETRAIN)
            .lockfile("file:///archive/locks/minilm/abc123.lock.json")
            .review(REVIEW)
            .sequential(
                new SequentialDecision(
                    1000,
                    20_000,
                    4,
                    SequentialDecision.Stop.RED,
                    "spearman's confidence sequence lies beyond the margin after 1000 rows"))
            .build(),
        DriftFlag.class);
    Golden.assertMessage(
        "drift-flag.minimal.json", DriftFlag.builder().flag(Flag.ERROR).build(), DriftFlag.class);
    Golden.assertMessage(
        "metric-value.alone.json",
        MetricValue.alone(12.5, 40, "lower_is_better"),
        MetricValue.class);
  }

  @Test
  void runProgress() {
    RunProgress full =
        RunProgress.builder()
            .schemaVersion(1)
            .runId("run-1")
            .eventId("ev-1")
            .model("minilm")
            .version("abc123")
            .shardsDone(3)
            .shardsTotal(8)
            .rowsScored(384)
            .rowsTotal(1000)
            .rowsPerSecond(52.5)
            .stagedAt(T0)
            .at(T1)
            .build();
    Golden.assertMessage("run-progress.full.json", full, RunProgress.class);
    Golden.assertMessage(
        "run-progress.minimal.json",
        RunProgress.builder().schemaVersion(1).runId("run-1").build(),
        RunProgress.class);
  }

  @Test
  void monitorResult() {
    MonitorResult full =
        MonitorResult.builder()
            .model("gpt-small")
            .version("step-900")
            .windowStart(T0)
            .windowEnd(T2)
            .referenceStart(Instant.parse("2026-11-01T00:00:00Z"))
            .referenceEnd(Instant.parse("2026-11-08T00:00:00Z"))
            .texts(500)
            .referenceTexts(500)
            .mmd2(0.0123)
            .pValue(0.004)
            .alpha(0.01)
            .drifted(true)
            .episodeStart(T0)
            .evidence("p 0.004 <= alpha 0.01")
            .evaluatedAt(T2)
            .perplexity(18.25)
            .referencePerplexity(17.5)
            .shadow(Map.of("kl_mean", 0.042))
            .build();
    Golden.assertMessage("monitor-result.full.json", full, MonitorResult.class);
    Golden.assertArchived("monitor-result.full.archived.json", full, MonitorResult.class);
    Golden.assertMessage(
        "monitor-result.minimal.json",
        MonitorResult.builder()
            .model("minilm")
            .windowEnd(T2)
            .texts(0)
            .referenceTexts(0)
            .alpha(0.01)
            .drifted(false)
            .build(),
        MonitorResult.class);
  }

  @Test
  void runCancelled() {
    Golden.assertMessage(
        "run-cancelled.json",
        new RunCancelled("run-1", "minilm", "stopped RED after 1000 of 20000 rows", T1),
        RunCancelled.class);
  }

  @Test
  void retrainRequest() {
    Golden.assertMessage(
        "retrain-request.full.json",
        RetrainRequest.builder()
            .causeId("minilm/drift/2026-11-22T10:00:00Z")
            .model("minilm")
            .version("abc123")
            .cause("drift")
            .evidence("MMD² p 0.004 <= alpha 0.01")
            .metrics(Map.of("mmd2", 0.0123))
            .windowStart(T0)
            .windowEnd(T2)
            .subset("sts-traffic")
            .requestedAt(T2)
            .build(),
        RetrainRequest.class);
    Golden.assertMessage(
        "retrain-request.minimal.json",
        RetrainRequest.builder().causeId("cause-1").model("minilm").build(),
        RetrainRequest.class);
  }

  @Test
  void evaluationLock() {
    EvaluationLock.LockedMetric metric =
        EvaluationLock.LockedMetric.builder()
            .value(0.8123)
            .relativeChange(-0.0214)
            .ciLow(-0.031)
            .ciHigh(-0.012)
            .ciConfidence(0.95)
            .status(Flag.RED)
            .baseline(0.8301)
            .margin(0.02)
            .bandLow(0.81)
            .bandHigh(0.85)
            .limit(0.05)
            .build();
    Golden.assertArchived(
        "evaluation-lock.full.json",
        EvaluationLock.builder()
            .model("minilm")
            .version("abc123")
            .eventId("ev-1")
            .runId("run-1")
            .commit("deadbeef")
            .task("embedding")
            .artifact(MODEL)
            .tokenizerSha256(SHA_C)
            .goldenSubsetUri("file:///golden/sts.parquet")
            .goldenSubsetSha256(SHA_B)
            .goldenSubsetColumns(Map.of("text_a", "s1"))
            .evaluatorVersion("evaluator-4")
            .onnxRuntime(List.of("1.20.0"))
            .executionProviders(List.of("cpu", "cuda"))
            .hardware(List.of("cpu-avx512"))
            .requestedHardwareProfile("gpu-a10")
            .quantizationBits(8)
            .changeKind(ChangeKind.QUANTIZATION)
            .maxSeqLen(256)
            .stride(128)
            .baseModelSha256(SHA_D)
            .modelSignature("input_ids:int64[?,?] -> last_hidden_state:float[?,?,?]")
            .policyVersion("policy-7")
            .baselineVersion("v-prev")
            .flag(Flag.RED)
            .metrics(Map.of("spearman", metric))
            .scores("file:///archive/scores/minilm/abc123")
            .scoresReused(true)
            .decidedAt(T1)
            .embedding(EMBEDDING)
            .envelopes(
                List.of(
                    ENVELOPE,
                    ENVELOPE.toBuilder().batching("one-at-a-time").maxBatchSize(1).build()))
            .build(),
        EvaluationLock.class);
    Golden.assertArchived(
        "evaluation-lock.minimal.json",
        EvaluationLock.builder().model("minilm").version("abc123").scoresReused(false).build(),
        EvaluationLock.class);
  }

  @Test
  void noiseFloor() {
    Golden.assertArchived(
        "noise-floor.full.json",
        NoiseFloorRecord.builder()
            .model("minilm")
            .artifactSha256("a".repeat(64))
            .profile(ENVELOPE.profile())
            .task("embedding")
            .subsetSha256("b".repeat(64))
            .rows(240)
            .measuredAt(Instant.parse("2026-12-06T08:00:00Z"))
            .envelopes(List.of(ENVELOPE, ENVELOPE.toBuilder().maxBatchSize(1).build()))
            .metrics(
                Map.of(
                    "mean_cosine",
                    NoiseFloorRecord.MetricSpread.of(List.of(0.5, 0.5005)),
                    "spearman",
                    NoiseFloorRecord.MetricSpread.of(List.of(0.0, 0.0))))
            .rowValues(Map.of("cosine", new NoiseFloorRecord.RowSpread(0.0123, 0.0089)))
            .build(),
        NoiseFloorRecord.class);
  }

  @Test
  void subsetManifest() {
    Golden.assertArchived(
        "subset-manifest.full.json",
        new SubsetManifest(
            SubsetManifest.CURRENT,
            "sts-traffic",
            "v3",
            List.of(new SubsetManifest.Source("file:///traffic/day-1.parquet", SHA_A, 5000)),
            "text",
            List.of("length >= 8"),
            "intent",
            1000,
            20,
            7L,
            "evalfleet subset build",
            5000,
            120,
            30,
            12,
            Map.of("billing", new SubsetManifest.Stratum(800, 200)),
            new SubsetManifest.Output("file:///golden/sts.parquet", SHA_B, 1000),
            Map.of("text", "BINARY")),
        SubsetManifest.class);
  }

  @Test
  void baselineSnapshot() {
    Golden.assertArchived(
        "baseline-snapshot.full.json",
        new BaselineSnapshot(
            "minilm",
            "abc123",
            "deadbeef",
            "run-1",
            SHA_A,
            SHA_B,
            Map.of("spearman", 0.8301),
            "promoted",
            T1),
        BaselineSnapshot.class);
  }
}
