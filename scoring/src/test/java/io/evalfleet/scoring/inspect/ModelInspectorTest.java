package io.evalfleet.scoring.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.ShardScorer;
import io.evalfleet.scoring.TestModelsAccess;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.subset.SubsetReader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelInspectorTest {
  static final Path FIXTURES = Path.of("..", "fixtures").toAbsolutePath().normalize();

  @TempDir static Path dir;
  static ModelSessions sessions;
  static ModelInspector inspector;

  @BeforeAll
  static void setUp() {
    sessions =
        new ModelSessions(
            new ArtifactCache(Storage.withDefaults(), dir.resolve("cache"), Long.MAX_VALUE), 1);
    inspector = new ModelInspector(sessions);
  }

  @AfterAll
  static void tearDown() {
    sessions.close();
  }

  static ArtifactRef fixture(String name) throws Exception {
    String uri = FIXTURES.resolve(name).toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }

  static ArtifactRef causal(String name) throws Exception {
    return fixture("causal-lm/" + name);
  }

  @Test
  void anOptimumStyleExportIsFedAnEmptyPastAndProbed() throws Exception {
    ModelInspector.Report report =
        inspector.inspect(causal("bytegpt-base-kv.onnx"), causal("tokenizer.json"), null, null);
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.task()).isEqualTo(Task.CAUSAL_LM);
    assertThat(report.taskGuessed()).isTrue();
    assertThat(report.feeding())
        .contains("past_key_values.1.value: an empty past [batch, 4, 0, 16] of FLOAT")
        .anyMatch(
            line ->
                line.startsWith("probe: \"The quick brown fox")
                    && line.contains("is 44 tokens")
                    && line.contains("43 scored in 1 window: perplexity"))
        .anyMatch(
            line ->
                line.startsWith(
                    "vocabulary: the tokenizer's ids go up to 255; the model accepts ids 0..255"
                        + " (its embedding table '"));
  }

  @Test
  void aLongProbeIsScoredInTheWindowsAJobWouldUse() throws Exception {
    ModelInspector.Report report =
        inspector.inspect(
            ModelInspector.Subject.of(causal("bytegpt-base.onnx"))
                .tokenizer(causal("tokenizer.json"))
                .window(16, null));
    assertThat(report.scorable()).as(report.problem()).isTrue();
    // 44 tokens under a context of 16 with stride 8: windows begin at 0, 8, 16, 24 (ending at 40)
    // and 32.
    assertThat(report.feeding())
        .contains(
            "windows: max_seq_len 16, stride 8 (half of it): a row of more than 16"
                + " tokens is scored in windows starting every 8 tokens, each token once, never truncated")
        .anyMatch(line -> line.contains("43 scored in 5 windows"));
  }

  @Test
  void halfPrecisionLogitsAreSaidToBeCast() throws Exception {
    ModelInspector.Report report =
        inspector.inspect(ModelInspector.Subject.of(causal("bytegpt-base-fp16.onnx")));
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.feeding())
        .anyMatch(line -> line.contains("FLOAT16") && line.contains("cast to float32"));
  }

  @Test
  void aProbeWithoutATokenizerSaysWhatItFedAndPrintsNoPerplexity() throws Exception {
    ModelInspector.Report report =
        inspector.inspect(ModelInspector.Subject.of(causal("bytegpt-base.onnx")));
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.feeding())
        .contains(
            "probe: no tokenizer: fed token ids 0..3, a smoke test of the graph (its"
                + " log-likelihoods are finite), not a perplexity; give --tokenizer to probe it on text")
        .noneMatch(line -> line.matches(".*perplexity \\d.*"));
  }

  @Test
  void aTokenizerBeyondTheModelsVocabularyIsRefusedNamingBothSizes() throws Exception {
    // MiniLM's WordPiece tokenizer (ids up to 30521) given to the byte-level GPT (256 ids).
    ModelInspector.Report gpt =
        inspector.inspect(causal("bytegpt-base.onnx"), TestModelsAccess.tokenizer(), null, null);
    assertThat(gpt.scorable()).isFalse();
    assertThat(gpt.problem())
        .isEqualTo(
            "the tokenizer does not fit the model's vocabulary: its ids go up to 30521"
                + " (30522 tokens), but the model accepts ids 0..255 (256 tokens, from its embedding table 'tok.weight'); give"
                + " the model its own tokenizer.json");
    ModelInspector.Report embedding =
        inspector.inspect(
            fixture("embedding/bytes-no-token-types.onnx"),
            TestModelsAccess.tokenizer(),
            null,
            null);
    assertThat(embedding.problem())
        .contains(
            "its ids go up to 30521", "ids 0..255 (256 tokens, from its embedding" + " table '");
    ModelInspector.Report own =
        inspector.inspect(TestModelsAccess.fp32(), TestModelsAccess.tokenizer(), null, null);
    assertThat(own.feeding())
        .anyMatch(
            line ->
                line.startsWith(
                    "vocabulary: the tokenizer's ids go up to 30521;"
                        + " the model accepts ids 0..30521 (its embedding table '"));
  }

  @Test
  void aModelTheFleetCannotScoreIsRefusedSayingWhy() throws Exception {
    assertThat(
            inspector
                .inspect(causal("nan-logits.onnx"), causal("tokenizer.json"), null, null)
                .problem())
        .contains("non-finite log-likelihood");
    ModelInspector.Report minilmAsLm =
        inspector.inspect(TestModelsAccess.fp32(), null, Task.CAUSAL_LM, null);
    assertThat(minilmAsLm.scorable()).isFalse();
    assertThat(minilmAsLm.problem()).contains("has no 'logits' output", "last_hidden_state");
  }

  @Test
  void anEmbeddingModelIsProbedUnderTheConventionsGiven() throws Exception {
    ModelInspector.Report report =
        inspector.inspect(
            TestModelsAccess.bge(),
            TestModelsAccess.bgeTokenizer(),
            null,
            EmbeddingConventions.DEFAULTS.withPooling(EmbeddingConventions.Pooling.CLS));
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.task()).isEqualTo(Task.EMBEDDING);
    assertThat(report.feeding())
        .contains("output last_hidden_state: token vectors, pooled by cls")
        .anyMatch(line -> line.startsWith("probe: a 384-dimensional embedding"));
  }

  @Test
  void bgeUnderTheSentenceTransformersConfigurationItShipsIsClsPooledAndNormalized()
      throws Exception {
    EmbeddingConventions shipped =
        io.evalfleet.common.model.SentenceTransformersFolder.read(
                FIXTURES.resolve("embedding/bge-small-en-v1.5-st"))
            .conventions();
    ModelInspector.Report report =
        inspector.inspect(TestModelsAccess.bge(), TestModelsAccess.bgeTokenizer(), null, shipped);
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.feeding())
        .contains(
            "output last_hidden_state: token vectors, pooled by cls",
            "conventions: pooling cls, normalized, no prefix, output default");
    ModelInspector.Report bare =
        inspector.inspect(TestModelsAccess.bge(), TestModelsAccess.bgeTokenizer(), null, null);
    assertThat(bare.feeding())
        .anyMatch(
            line ->
                line.startsWith(
                    "output last_hidden_state: token vectors, pooled by mean"
                        + " (the default; a model's own sentence-transformers pooling, 1_Pooling/config.json, is read"));
  }

  /**
   * The batching inspect prints is the batching a worker's result reports for the same model: the
   * dynamically quantised int8 MiniLM one text at a time, fp32 MiniLM in padded batches, the
   * byte-level GPT in length buckets. The job runs on a scorer of its own, so nothing the inspector
   * probed is reused.
   */
  @Test
  void theBatchingInspectPrintsIsTheBatchingAWorkersResultReports() throws Exception {
    Storage storage = Storage.withDefaults();
    try (ModelSessions jobSessions =
        new ModelSessions(
            new ArtifactCache(storage, dir.resolve("job-cache"), Long.MAX_VALUE), 1)) {
      SubsetReader subsets = new SubsetReader(storage);
      ShardScorer worker =
          new ShardScorer(
              List.of(
                  new EmbeddingScorer(jobSessions, subsets, 32, 256),
                  new CausalLmScorer(jobSessions, subsets, 32)),
              "test",
              Clock.systemUTC());
      Path pairsFile = dir.resolve("pairs.parquet");
      GoldenSubsetWriter.writePairs(
          new org.apache.hadoop.fs.Path(pairsFile.toUri()),
          List.of(
              new GoldenSubsetWriter.Pair(
                  0, "A man is eating food.", "A man is eating a piece of bread.", 3.8),
              new GoldenSubsetWriter.Pair(
                  1, "The cat sleeps on the sofa.", "A cat is asleep on a long couch today.", 4.6)),
          1 << 20);
      SubsetRef pairs =
          new SubsetRef(
              pairsFile.toUri().toString(),
              storage.sha256(pairsFile.toUri().toString()),
              null,
              Map.of());
      Path textFile = dir.resolve("texts.parquet");
      GoldenSubsetWriter.writeTexts(
          new org.apache.hadoop.fs.Path(textFile.toUri()),
          List.of("Short text.", "A longer text that pads the first one in its batch."),
          512);
      SubsetRef texts =
          new SubsetRef(
              textFile.toUri().toString(),
              storage.sha256(textFile.toUri().toString()),
              null,
              Map.of());

      for (ArtifactRef minilm : List.of(TestModelsAccess.int8(), TestModelsAccess.fp32())) {
        ModelInspector.Report inspected =
            inspector.inspect(minilm, TestModelsAccess.tokenizer(), null, null);
        ShardResult result =
            worker.score(
                ScoringJob.builder()
                    .jobId("run-b/00000")
                    .runId("run-b")
                    .eventId("ev")
                    .model("m")
                    .version("v")
                    .task(Task.EMBEDDING)
                    .artifact(minilm)
                    .tokenizer(TestModelsAccess.tokenizer())
                    .goldenSubset(pairs)
                    .maxSeqLen(256)
                    .shardIndex(0)
                    .shardCount(1)
                    .rowStart(0)
                    .rowCount(2)
                    .metrics(List.of(MetricNames.COSINE))
                    .attempt(1)
                    .deadline(Instant.now().plusSeconds(60))
                    .build());
        assertThat(result.error()).as("%s", result.error()).isNull();
        assertThat(inspected.batching()).as(minilm.uri()).isEqualTo(result.batching());
        assertThat(inspected.feeding())
            .anyMatch(line -> line.startsWith("batching: " + result.batching() + " ("));
      }
      assertThat(
              inspector
                  .inspect(TestModelsAccess.int8(), TestModelsAccess.tokenizer(), null, null)
                  .batching())
          .isEqualTo(EmbeddingScorer.ONE_AT_A_TIME);
      assertThat(
              inspector
                  .inspect(TestModelsAccess.fp32(), TestModelsAccess.tokenizer(), null, null)
                  .batching())
          .isEqualTo(EmbeddingScorer.PADDED_BATCHES);

      ModelInspector.Report gpt =
          inspector.inspect(
              ModelInspector.Subject.of(causal("bytegpt-base.onnx"))
                  .tokenizer(causal("tokenizer.json"))
                  .window(128, 64));
      ShardResult scored =
          worker.score(
              ScoringJob.builder()
                  .jobId("run-g/00000")
                  .runId("run-g")
                  .eventId("ev")
                  .model("g")
                  .version("v")
                  .task(Task.CAUSAL_LM)
                  .artifact(causal("bytegpt-base.onnx"))
                  .tokenizer(causal("tokenizer.json"))
                  .goldenSubset(texts)
                  .maxSeqLen(128)
                  .stride(64)
                  .shardIndex(0)
                  .shardCount(1)
                  .rowStart(0)
                  .rowCount(2)
                  .metrics(List.of("nll"))
                  .attempt(1)
                  .deadline(Instant.now().plusSeconds(60))
                  .build());
      assertThat(scored.error()).as("%s", scored.error()).isNull();
      assertThat(gpt.batching())
          .isEqualTo(scored.batching())
          .isEqualTo(CausalLmScorer.LENGTH_BUCKETS);
    }
  }
}
