package io.evalfleet.scoring.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.RetrievalStep;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.ShardScorer;
import io.evalfleet.scoring.TestModels;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.subset.SubsetReader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retrieval with the real all-MiniLM-L6-v2 models: the corpus step, then the query step, as a run
 * does.
 */
class RetrievalScorerTest {
  static final Map<String, String> DOCS = new LinkedHashMap<>();
  static final Map<String, String> QUERIES = new LinkedHashMap<>();
  static final List<GoldenSubsetWriter.Judgement> QRELS = new ArrayList<>();

  static {
    DOCS.put("d-violin", "A woman plays the violin on a concert stage.");
    DOCS.put("d-dogs", "Two dogs run through deep snow in a field.");
    DOCS.put("d-market", "Stock markets fell sharply after the announcement.");
    DOCS.put("d-bread", "A man is eating a piece of bread at the table.");
    DOCS.put("d-rain", "Heavy rain flooded the northern districts overnight.");
    DOCS.put("d-bike", "A child rides a red bicycle in the park.");
    DOCS.put("d-chess", "Two old men play chess in the square.");
    DOCS.put("d-cook", "The chef is chopping onions in the kitchen.");
    QUERIES.put("q-music", "someone performing classical music");
    QUERIES.put("q-snow", "dogs playing in the snow");
    QUERIES.put("q-flood", "flooding after a storm");
    QUERIES.put("q-food", "a person having a meal");
    QUERIES.put("q-none", "a query nobody judged");
    QRELS.add(new GoldenSubsetWriter.Judgement("q-music", "d-violin", 2));
    QRELS.add(new GoldenSubsetWriter.Judgement("q-snow", "d-dogs", 2));
    QRELS.add(new GoldenSubsetWriter.Judgement("q-flood", "d-rain", 2));
    QRELS.add(new GoldenSubsetWriter.Judgement("q-flood", "d-market", 0));
    QRELS.add(new GoldenSubsetWriter.Judgement("q-food", "d-bread", 1));
    QRELS.add(new GoldenSubsetWriter.Judgement("q-food", "d-cook", 1));
  }

  @TempDir static Path dir;
  static ModelSessions sessions;
  static EmbeddingScorer embedder;
  static ShardScorer scorer;
  static SubsetRef subset;

  @BeforeAll
  static void setUp() throws Exception {
    Storage storage = Storage.withDefaults();
    sessions =
        new ModelSessions(new ArtifactCache(storage, dir.resolve("cache"), Long.MAX_VALUE), 2);
    SubsetReader subsets = new SubsetReader(storage);
    embedder = new EmbeddingScorer(sessions, subsets, 4, 256);
    scorer =
        new ShardScorer(
            List.of(
                embedder,
                new RetrievalScorer(
                    sessions, subsets, embedder, new EmbeddingFiles(storage), 256, 64L << 20)),
            "test",
            Clock.systemUTC());
    Path file = dir.resolve("retrieval.parquet");
    GoldenSubsetWriter.writeRetrieval(
        new org.apache.hadoop.fs.Path(file.toUri()),
        new GoldenSubsetWriter.Retrieval(DOCS, QUERIES, QRELS),
        1 << 20);
    subset =
        new SubsetRef(
            file.toUri().toString(), storage.sha256(file.toUri().toString()), null, Map.of());
  }

  @AfterAll
  static void tearDown() {
    sessions.close();
  }

  static ShardResult score(
      ArtifactRef model,
      RetrievalStep.Phase phase,
      String folder,
      String baseline,
      long start,
      int count)
      throws Exception {
    ScoringJob job =
        ScoringJob.builder()
            .jobId("run-r/" + phase + start)
            .runId("run-r")
            .eventId("ev")
            .model("m")
            .version("v")
            .task(Task.RETRIEVAL)
            .artifact(model)
            .tokenizer(TestModels.tokenizer())
            .goldenSubset(subset)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(start)
            .rowCount(count)
            .metrics(List.of())
            .attempt(1)
            .deadline(Instant.now().plusSeconds(60))
            .retrieval(new RetrievalStep(phase, folder, baseline, List.of(1, 10)))
            .build();
    ShardResult result = scorer.score(job);
    assertThat(result.error()).as("%s", result.error()).isNull();
    return result;
  }

  /** The corpus in two shards, then the queries. */
  static ShardResult run(ArtifactRef model, String folder, String baseline) throws Exception {
    score(model, RetrievalStep.Phase.CORPUS, folder, baseline, 0, 5);
    score(model, RetrievalStep.Phase.CORPUS, folder, baseline, 5, 3);
    return score(model, RetrievalStep.Phase.QUERIES, folder, baseline, 8, QUERIES.size());
  }

  @Test
  void queriesFindTheirDocsAndTheMetricsFollowTheCosineOrder() throws Exception {
    String folder = dir.resolve("fp32.embeddings").toUri().toString();
    ShardResult queries = run(TestModels.fp32(), folder, null);
    // Independently: embed everything once, rank every doc by cosine with a full sort, and score
    // the ranking.
    List<String> docTexts = List.copyOf(DOCS.values());
    List<String> queryTexts = List.copyOf(QUERIES.values());
    double[][] docs;
    double[][] qs;
    try (var tokenizer = sessions.tokenizer(TestModels.tokenizer(), 256);
        var lease = sessions.lease(TestModels.fp32())) {
      docs =
          embedder.embed(
              lease.model(), tokenizer.tokenizer(), EmbeddingConventions.DEFAULTS, docTexts);
      qs =
          embedder.embed(
              lease.model(), tokenizer.tokenizer(), EmbeddingConventions.DEFAULTS, queryTexts);
    }
    List<String> docIds = List.copyOf(DOCS.keySet());
    List<String> queryIds = List.copyOf(QUERIES.keySet());
    for (int q = 0; q < queryIds.size(); q++) {
      Map<Integer, Integer> grades = new java.util.HashMap<>();
      for (GoldenSubsetWriter.Judgement judgement : QRELS) {
        if (judgement.queryId().equals(queryIds.get(q))) {
          grades.put(docIds.indexOf(judgement.docId()), judgement.relevance());
        }
      }
      double ndcg = queries.values().get(MetricNames.NDCG_AT_10)[q];
      if (grades.isEmpty()) {
        assertThat(ndcg).as("an unjudged query has no metric").isNaN();
        continue;
      }
      double[] query = qs[q];
      int[] ranking =
          IntStream.range(0, docs.length)
              .boxed()
              .sorted(
                  Comparator.comparingDouble((Integer d) -> -cosine(query, docs[d]))
                      .thenComparing(d -> d))
              .mapToInt(Integer::intValue)
              .toArray();
      assertThat(ndcg)
          .as(queryIds.get(q))
          .isCloseTo(RankingMetrics.ndcg(ranking, grades, 10), within(1e-12));
      assertThat(queries.values().get(MetricNames.RR_AT_10)[q])
          .isCloseTo(RankingMetrics.reciprocalRank(ranking, grades, 10), within(1e-12));
      assertThat(queries.values().get(RetrievalTask.recall(1))[q])
          .isCloseTo(RankingMetrics.recall(ranking, grades, 1), within(1e-12));
    }
    // The paraphrased queries find their doc first.
    for (int q = 0; q < 3; q++) {
      assertThat(queries.values().get(MetricNames.RR_AT_10)[q]).as(queryIds.get(q)).isEqualTo(1.0);
    }
    assertThat(queries.values()).doesNotContainKey(MetricNames.INDEX_NDCG_AT_10);
  }

  @Test
  void againstItsOwnEmbeddingsTheIndexIsCompatibleAndNothingDrifted() throws Exception {
    String folder = dir.resolve("self.embeddings").toUri().toString();
    run(TestModels.fp32(), folder, null);
    String again = dir.resolve("self-again.embeddings").toUri().toString();
    ShardResult docs = score(TestModels.fp32(), RetrievalStep.Phase.CORPUS, again, folder, 0, 5);
    score(TestModels.fp32(), RetrievalStep.Phase.CORPUS, again, folder, 5, 3);
    ShardResult queries =
        score(TestModels.fp32(), RetrievalStep.Phase.QUERIES, again, folder, 8, QUERIES.size());
    for (int i = 0; i < 5; i++) {
      assertThat(docs.values().get(MetricNames.COSINE_TO_BASELINE)[i]).isCloseTo(1.0, within(1e-6));
      assertThat(docs.values().get(MetricNames.NDCG_AT_10)[i])
          .as("a doc row has no query metric")
          .isNaN();
    }
    for (int q = 0; q < 4; q++) {
      assertThat(queries.values().get(MetricNames.INDEX_NDCG_AT_10)[q])
          .isEqualTo(queries.values().get(MetricNames.NDCG_AT_10)[q]);
      assertThat(queries.values().get(MetricNames.OVERLAP_AT_10)[q]).isEqualTo(1.0);
      assertThat(queries.values().get(MetricNames.COSINE_TO_BASELINE)[q])
          .isCloseTo(1.0, within(1e-6));
    }
    // The query nobody judged has no ranking metric, but its text drifted (here: not at all) like
    // any other.
    assertThat(queries.values().get(MetricNames.NDCG_AT_10)[4]).isNaN();
    assertThat(queries.values().get(MetricNames.COSINE_TO_BASELINE)[4])
        .isCloseTo(1.0, within(1e-6));
  }

  @Test
  void theQuantisedModelAgainstTheFp32IndexStaysClose() throws Exception {
    String fp32 = dir.resolve("base.embeddings").toUri().toString();
    run(TestModels.fp32(), fp32, null);
    String int8 = dir.resolve("int8.embeddings").toUri().toString();
    score(TestModels.int8(), RetrievalStep.Phase.CORPUS, int8, fp32, 0, 5);
    score(TestModels.int8(), RetrievalStep.Phase.CORPUS, int8, fp32, 5, 3);
    ShardResult queries =
        score(TestModels.int8(), RetrievalStep.Phase.QUERIES, int8, fp32, 8, QUERIES.size());
    for (int q = 0; q < 4; q++) {
      double cosine = queries.values().get(MetricNames.COSINE_TO_BASELINE)[q];
      System.out.printf(
          "int8 vs fp32, query %d: cosine %.4f, overlap@10 %.2f%n",
          q, cosine, queries.values().get(MetricNames.OVERLAP_AT_10)[q]);
      assertThat(cosine).isBetween(0.9, 1.0 - 1e-6);
    }
    // Every text counts in text_cosine, the unjudged query too: its value is the two models'
    // cosine.
    double unjudged = queries.values().get(MetricNames.COSINE_TO_BASELINE)[4];
    double[][] both = new double[2][];
    try (var tokenizer = sessions.tokenizer(TestModels.tokenizer(), 256)) {
      int i = 0;
      for (ArtifactRef model : List.of(TestModels.fp32(), TestModels.int8())) {
        try (var lease = sessions.lease(model)) {
          both[i++] =
              embedder
                  .embed(
                      lease.model(),
                      tokenizer.tokenizer(),
                      EmbeddingConventions.DEFAULTS,
                      List.of(QUERIES.get("q-none")))[0];
        }
      }
    }
    assertThat(unjudged)
        .isCloseTo(cosine(both[0], both[1]), within(1e-6))
        .isBetween(0.9, 1.0 - 1e-6);
  }

  static double cosine(double[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
