package io.evalfleet.scoring.retrieval;

import java.util.PriorityQueue;

/**
 * Exact nearest neighbours by brute force: every query against every document of a corpus of
 * L2-normalised embeddings, so the dot product is the cosine. Ties are broken by document order, so
 * the ranking is deterministic. The corpus is one flat {@code float[]} (documents × dimensions) and
 * products are summed in double. Immutable; thread-safe.
 */
final class ExactTopK {
  private final float[] corpus;
  private final int dimensions;
  private final int documents;

  /**
   * @param corpus {@code documents × dimensions} values, document after document
   */
  public ExactTopK(float[] corpus, int dimensions) {
    if (dimensions <= 0 || corpus.length % dimensions != 0) {
      throw new IllegalArgumentException(
          "a corpus of "
              + corpus.length
              + " values is not a whole number of "
              + dimensions
              + "-dimensional embeddings");
    }
    this.corpus = corpus;
    this.dimensions = dimensions;
    this.documents = corpus.length / dimensions;
  }

  public int documents() {
    return documents;
  }

  /** The indices of the {@code k} documents nearest to {@code query}, nearest first. */
  public int[] nearest(float[] query, int k) {
    if (query.length != dimensions) {
      throw new IllegalArgumentException(
          "a query of " + query.length + " dimensions against a corpus of " + dimensions);
    }
    int keep = Math.min(k, documents);
    // The worst kept document on top: lower score, then later document.
    PriorityQueue<double[]> kept =
        new PriorityQueue<>(
            keep + 1,
            (a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(b[1], a[1]));
    for (int d = 0; d < documents; d++) {
      double score = 0;
      int offset = d * dimensions;
      for (int i = 0; i < dimensions; i++) {
        score += (double) query[i] * corpus[offset + i];
      }
      if (kept.size() < keep) {
        kept.add(new double[] {score, d});
      } else if (score > kept.peek()[0]) {
        kept.poll();
        kept.add(new double[] {score, d});
      }
    }
    int[] ranking = new int[kept.size()];
    for (int i = ranking.length - 1; i >= 0; i--) {
      ranking[i] = (int) kept.poll()[1];
    }
    return ranking;
  }
}
