package io.evalfleet.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.GoldenSubsetWriter.Pair;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.subset.SubsetReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scores shards with the real all-MiniLM-L6-v2 models through ONNX Runtime. */
class ShardScorerTest {
  static final List<Pair> PAIRS =
      List.of(
          new Pair(0, "A man is eating food.", "A man is eating a piece of bread.", 3.8),
          new Pair(1, "A woman is playing the violin.", "A woman plays a violin on stage.", 4.4),
          new Pair(
              2,
              "The stock market fell sharply today.",
              "A child is riding a red bicycle in the park.",
              0.0),
          new Pair(
              3, "Two dogs run across a snowy field.", "Dogs are running through the snow.", 4.6),
          new Pair(4, "He is not going to the meeting.", "He will attend the meeting.", 1.4),
          new Pair(
              5,
              "Heavy rain caused flooding in the northern districts overnight.",
              "It rained.",
              2.0));

  @TempDir static Path dir;
  static ModelSessions sessions;
  static ShardScorer scorer;
  static SubsetRef subset;
  static ArtifactRef tokenizer;

  @BeforeAll
  static void setUp() throws Exception {
    Storage storage = Storage.withDefaults();
    sessions =
        new ModelSessions(new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE), 2);
    SubsetReader subsets = new SubsetReader(storage);
    scorer =
        new ShardScorer(
            List.of(
                new EmbeddingScorer(sessions, subsets, 32, 256),
                new CausalLmScorer(sessions, subsets, 32)),
            "test",
            Clock.systemUTC());
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), PAIRS, 1 << 20);
    subset =
        new SubsetRef(
            file.toUri().toString(), storage.sha256(file.toUri().toString()), "t", Map.of());
    tokenizer = TestModels.tokenizer();
  }

  @AfterAll
  static void tearDown() {
    sessions.close();
  }

  static ScoringJob job(ArtifactRef model, SubsetRef subset, long start, int count) {
    return ScoringJob.builder()
        .jobId("run-t/" + start + "-" + count)
        .runId("run-t")
        .eventId("ev")
        .model("m")
        .version("v")
        .task(Task.EMBEDDING)
        .artifact(model)
        .tokenizer(tokenizer)
        .goldenSubset(subset)
        .shardIndex(0)
        .shardCount(1)
        .rowStart(start)
        .rowCount(count)
        .metrics(List.of("cosine"))
        .attempt(1)
        .deadline(Instant.now().plusSeconds(60))
        .build();
  }

  @Test
  void knownPairHasTheReferenceCosine() throws Exception {
    ShardResult result = scorer.score(job(TestModels.fp32(), subset, 0, PAIRS.size()));
    assertThat(result.error()).isNull();
    double[] cosine = result.values().get(MetricNames.COSINE);
    // sentence-transformers' all-MiniLM-L6-v2 gives 0.7553 for this pair.
    assertThat(cosine[0]).isCloseTo(0.7553, within(5e-5));
    assertThat(result.values().get(MetricNames.GOLD)).containsExactly(3.8, 4.4, 0.0, 4.6, 1.4, 2.0);
    assertThat(cosine[3]).as("paraphrase").isGreaterThan(cosine[2] + 0.4);
    assertThat(result.executionProvider()).isEqualTo("cpu");
    assertThat(result.batching()).isEqualTo("padded-batches");
  }

  @Test
  void fp32ScoresDoNotDependOnSharding() throws Exception {
    double[] whole =
        scorer.score(job(TestModels.fp32(), subset, 0, 6)).values().get(MetricNames.COSINE);
    double[] tail =
        scorer.score(job(TestModels.fp32(), subset, 4, 2)).values().get(MetricNames.COSINE);
    assertThat(tail[0]).isCloseTo(whole[4], within(1e-6));
    assertThat(tail[1]).isCloseTo(whole[5], within(1e-6));
  }

  @Test
  void dynamicallyQuantisedModelIsScoredOneTextAtATimeSoShardingCannotMoveScores()
      throws Exception {
    ShardResult whole = scorer.score(job(TestModels.int8(), subset, 0, 6));
    ShardResult tail = scorer.score(job(TestModels.int8(), subset, 4, 2));
    assertThat(whole.batching()).isEqualTo("one-at-a-time");
    assertThat(tail.values().get(MetricNames.COSINE)[0])
        .isEqualTo(whole.values().get(MetricNames.COSINE)[4]);
    assertThat(tail.values().get(MetricNames.COSINE)[1])
        .isEqualTo(whole.values().get(MetricNames.COSINE)[5]);
    // Quantisation moves the scores a little, not a lot.
    double[] fp32 =
        scorer.score(job(TestModels.fp32(), subset, 0, 6)).values().get(MetricNames.COSINE);
    for (int i = 0; i < fp32.length; i++) {
      assertThat(whole.values().get(MetricNames.COSINE)[i]).isCloseTo(fp32[i], within(0.08));
    }
  }

  @Test
  void digestMismatchIsAnInputErrorNamingTheFile() throws Exception {
    ArtifactRef model = TestModels.fp32();
    ShardResult result =
        scorer.score(job(new ArtifactRef(model.uri(), "1".repeat(64)), subset, 0, 1));
    assertThat(result.error().kind()).isEqualTo(FailureKind.BAD_INPUT);
    assertThat(result.error().message()).contains("sha256 mismatch", "all-minilm-l6-v2.onnx");
    assertThat(result.values()).isEmpty();
  }

  @Test
  void fileThatIsNotOnnxIsAnInputError() throws Exception {
    Path bogus = Files.writeString(dir.resolve("bogus.onnx"), "this is not a model");
    String uri = bogus.toUri().toString();
    ShardResult result =
        scorer.score(job(new ArtifactRef(uri, Storage.withDefaults().sha256(uri)), subset, 0, 1));
    assertThat(result.error().message()).contains("bogus.onnx", "is not a loadable ONNX model");
  }

  @Test
  void missingColumnAndMissingSubsetAreNamed() throws Exception {
    SubsetRef renamed =
        new SubsetRef(subset.uri(), subset.sha256(), "t", Map.of("text_a", "sentence1"));
    assertThat(scorer.score(job(TestModels.fp32(), renamed, 0, 1)).error().message())
        .contains("no column 'sentence1' (text_a)");
    SubsetRef missing =
        new SubsetRef(
            dir.resolve("nope.parquet").toUri().toString(), subset.sha256(), "t", Map.of());
    ShardResult gone = scorer.score(job(TestModels.fp32(), missing, 0, 1));
    assertThat(gone.error().message()).contains("no such file", "nope.parquet");
    assertThat(gone.error().kind())
        .as("pre-flight found the file: gone now, the store is at fault, not the event")
        .isEqualTo(FailureKind.UNAVAILABLE);
  }
}
