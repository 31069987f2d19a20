package io.evalfleet.common.contract;

/** Names of per-row values in shard results and of entries in a run's metric vector. */
public final class MetricNames {
  /** Per row: cosine similarity of the pair's two embeddings. */
  public static final String COSINE = "cosine";
  /** Per row: the golden subset's human similarity score for the pair. */
  public static final String GOLD = "gold";

  /** Vector: Spearman rank correlation of per-pair cosine with the gold scores (STS style). */
  public static final String SPEARMAN = "spearman";
  /** Vector: mean per-pair cosine similarity. */
  public static final String MEAN_COSINE = "mean_cosine";

  private MetricNames() {}
}
