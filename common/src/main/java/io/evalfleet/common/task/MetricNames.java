package io.evalfleet.common.task;

/** Names of per-row values in shard results and of entries in a run's metric vector. */
public final class MetricNames {
  /** Per row: cosine similarity of the pair's two embeddings. */
  public static final String COSINE = "cosine";
  /** Per row: the golden subset's human similarity score for the pair. */
  public static final String GOLD = "gold";

  /** Per row (causal LM): Σ of −log p(token | prefix) over the row's scored tokens, in nats. */
  public static final String NLL_SUM = "nll_sum";
  /** Per row (causal LM): how many tokens were scored (every token but the first). */
  public static final String TOKENS = "tokens";
  /** Per row (causal LM, text rows): the row's UTF-8 length in bytes. */
  public static final String BYTES = "bytes";

  /** Vector (causal LM): {@code exp(Σ nll_sum / Σ tokens)}, pooled over tokens. */
  public static final String PERPLEXITY = "perplexity";
  /** Vector (causal LM, text rows): {@code Σ nll_sum / (Σ bytes · ln 2)}; comparable across tokenizers. */
  public static final String BITS_PER_BYTE = "bits_per_byte";

  /** Vector: Spearman rank correlation of per-pair cosine with the gold scores (STS style). */
  public static final String SPEARMAN = "spearman";
  /** Vector: mean per-pair cosine similarity. */
  public static final String MEAN_COSINE = "mean_cosine";

  private MetricNames() {}
}
