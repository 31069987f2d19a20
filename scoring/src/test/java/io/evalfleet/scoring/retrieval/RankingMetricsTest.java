package io.evalfleet.scoring.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The exact ranking and the metrics against an independent implementation
 * (scripts/make_retrieval_references.py: numpy, float64), and against values worked out by hand.
 */
class RankingMetricsTest {
  static final Path REFERENCE = Path.of("..", "fixtures", "retrieval", "ranking-reference.json");

  @Test
  void rankingAndMetricsMatchTheIndependentReferenceForEveryQuery() throws Exception {
    JsonNode reference = Json.mapper().readTree(Files.readAllBytes(REFERENCE));
    JsonNode docs = reference.get("docs");
    int dimensions = docs.get(0).size();
    float[] corpus = new float[docs.size() * dimensions];
    for (int d = 0; d < docs.size(); d++) {
      for (int i = 0; i < dimensions; i++) {
        corpus[d * dimensions + i] = (float) docs.get(d).get(i).asDouble();
      }
    }
    ExactTopK index = new ExactTopK(corpus, dimensions);
    int queries = reference.get("queries").size();
    for (int q = 0; q < queries; q++) {
      float[] query = new float[dimensions];
      for (int i = 0; i < dimensions; i++) {
        query[i] = (float) reference.get("queries").get(q).get(i).asDouble();
      }
      Map<Integer, Integer> grades = new HashMap<>();
      reference
          .get("qrels")
          .get(q)
          .fields()
          .forEachRemaining(e -> grades.put(Integer.valueOf(e.getKey()), e.getValue().asInt()));
      JsonNode expected = reference.get("expected").get(q);
      int[] ranking = index.nearest(query, 20);
      int[] top10 = new int[10];
      for (int i = 0; i < 10; i++) {
        top10[i] = expected.get("top10").get(i).asInt();
      }
      assertThat(java.util.Arrays.copyOf(ranking, 10)).as("query %d", q).containsExactly(top10);
      for (JsonNode k : reference.get("ks")) {
        assertThat(RankingMetrics.recall(ranking, grades, k.asInt()))
            .as("query %d recall@%d", q, k.asInt())
            .isCloseTo(expected.get("recall").get(k.asText()).asDouble(), within(1e-12));
      }
      assertThat(RankingMetrics.reciprocalRank(ranking, grades, 10))
          .as("query %d MRR@10", q)
          .isCloseTo(expected.get("mrr_at_10").asDouble(), within(1e-12));
      assertThat(RankingMetrics.ndcg(ranking, grades, 10))
          .as("query %d nDCG@10", q)
          .isCloseTo(expected.get("ndcg_at_10").asDouble(), within(1e-12));
    }
  }

  @Test
  void handWorkedValues() {
    // documents 7 (grade 3) and 2 (grade 1) are relevant, 5 is judged not relevant
    Map<Integer, Integer> grades = Map.of(7, 3, 2, 1, 5, 0);
    int[] ranking = {5, 2, 9, 7};
    assertThat(RankingMetrics.recall(ranking, grades, 1)).isZero();
    assertThat(RankingMetrics.recall(ranking, grades, 2)).isEqualTo(0.5);
    assertThat(RankingMetrics.recall(ranking, grades, 4)).isEqualTo(1.0);
    assertThat(RankingMetrics.reciprocalRank(ranking, grades, 10)).isEqualTo(0.5);
    assertThat(RankingMetrics.reciprocalRank(ranking, grades, 1)).isZero();
    double dcg = 1 / (Math.log(3) / Math.log(2)) + 7 / (Math.log(5) / Math.log(2));
    double idcg = 7 + 1 / (Math.log(3) / Math.log(2));
    assertThat(RankingMetrics.ndcg(ranking, grades, 10)).isCloseTo(dcg / idcg, within(1e-15));
    assertThat(RankingMetrics.ndcg(new int[] {7, 2}, grades, 10)).isEqualTo(1.0);
  }

  @Test
  void tiesAreBrokenByDocumentOrder() {
    float[] corpus = {1, 0, 0, 1, 1, 0, 1, 0};
    assertThat(new ExactTopK(corpus, 2).nearest(new float[] {1, 0}, 3)).containsExactly(0, 2, 3);
  }

  @Test
  void aQueryWithoutRelevantDocumentsIsRefused() {
    assertThatThrownBy(() -> RankingMetrics.ndcg(new int[] {1}, Map.of(1, 0), 10))
        .hasMessageContaining("no recall");
  }
}
