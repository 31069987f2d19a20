package io.evalfleet.scoring.retrieval;

import java.util.Map;

/**
 * Per-query retrieval metrics from a ranking and graded relevance judgements (document → grade; a
 * grade above 0 is relevant, an unjudged document is not): recall@k, reciprocal rank within the
 * first {@code k}, and nDCG@k with the standard gain {@code (2^rel − 1) / log2(rank + 1)} over the
 * ideal ordering of the query's judged documents. A run's metric is the mean over queries.
 */
public final class RankingMetrics {
  private RankingMetrics() {}

  /** The share of the query's relevant documents among the first {@code k} of {@code ranking}. */
  public static double recall(int[] ranking, Map<Integer, Integer> grades, int k) {
    long relevant = grades.values().stream().filter(g -> g > 0).count();
    requireRelevant(relevant);
    long found = 0;
    for (int i = 0; i < Math.min(k, ranking.length); i++) {
      if (grades.getOrDefault(ranking[i], 0) > 0) {
        found++;
      }
    }
    return (double) found / relevant;
  }

  /**
   * 1 / the rank of the first relevant document within the first {@code k}; 0 when there is none.
   */
  static double reciprocalRank(int[] ranking, Map<Integer, Integer> grades, int k) {
    requireRelevant(grades.values().stream().filter(g -> g > 0).count());
    for (int i = 0; i < Math.min(k, ranking.length); i++) {
      if (grades.getOrDefault(ranking[i], 0) > 0) {
        return 1.0 / (i + 1);
      }
    }
    return 0;
  }

  /**
   * DCG of the first {@code k} of {@code ranking} over the DCG of the ideal ranking of the judged
   * documents.
   */
  public static double ndcg(int[] ranking, Map<Integer, Integer> grades, int k) {
    requireRelevant(grades.values().stream().filter(g -> g > 0).count());
    double dcg = 0;
    for (int i = 0; i < Math.min(k, ranking.length); i++) {
      dcg += gain(grades.getOrDefault(ranking[i], 0), i);
    }
    int[] ideal = grades.values().stream().mapToInt(Integer::intValue).sorted().toArray();
    double idcg = 0;
    for (int i = 0; i < Math.min(k, ideal.length); i++) {
      idcg += gain(ideal[ideal.length - 1 - i], i);
    }
    return dcg / idcg;
  }

  private static double gain(int grade, int index) {
    return (Math.pow(2, grade) - 1) / (Math.log(index + 2) / Math.log(2));
  }

  private static void requireRelevant(long relevant) {
    if (relevant == 0) {
      throw new IllegalArgumentException(
          "a query without any relevant document has no recall, rank or nDCG");
    }
  }
}
