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

  /**
   * Per row (causal LM, token shift): Σ over scored tokens of KL(baseline ‖ candidate), in nats.
   */
  public static final String KL_SUM = "kl_sum";

  /**
   * Per row (causal LM, token shift): how many scored tokens' most likely next token is the same in
   * both models.
   */
  public static final String TOP1_AGREE = "top1_agree";

  /**
   * Per row (causal LM, token shift): Σ over scored tokens of p_candidate(true next) −
   * p_baseline(true next).
   */
  public static final String DP_TRUE_SUM = "dp_true_sum";

  /**
   * Per run (causal LM, token shift): the sketch of every scored token's KL, for its percentiles.
   */
  public static final String KL_TOKENS = "kl";

  /** Vector (causal LM): {@code exp(Σ nll_sum / Σ tokens)}, pooled over tokens. */
  public static final String PERPLEXITY = "perplexity";

  /**
   * Vector (causal LM, text rows): {@code Σ nll_sum / (Σ bytes · ln 2)}; comparable across
   * tokenizers.
   */
  public static final String BITS_PER_BYTE = "bits_per_byte";

  /**
   * Vector (token shift): {@code Σ kl_sum / Σ tokens}, the mean KL(baseline ‖ candidate) per token,
   * in nats.
   */
  public static final String KL_MEAN = "kl_mean";

  /**
   * Vector (token shift): the 99th percentile of the per-token KL(baseline ‖ candidate), in nats.
   */
  public static final String KL_P99 = "kl_p99";

  /**
   * Vector (token shift): {@code Σ top1_agree / Σ tokens}, the share of tokens whose top-1 next
   * token is unchanged.
   */
  public static final String TOP1_AGREEMENT = "top1_agreement";

  /**
   * Vector (token shift): {@code Σ dp_true_sum / Σ tokens}, the mean change in the true next
   * token's probability.
   */
  public static final String DP_TRUE_MEAN = "dp_true_mean";

  /**
   * Per query (retrieval): 1 / rank of its first relevant doc within the top 10, else 0; vector:
   * its mean is {@link #MRR_AT_10}.
   */
  public static final String RR_AT_10 = "rr@10";

  /**
   * Per query and vector (retrieval): nDCG@10 with gain (2^rel − 1)/log2(rank + 1); the vector's is
   * the mean over queries.
   */
  public static final String NDCG_AT_10 = "ndcg@10";

  /** Vector (retrieval): mean reciprocal rank within the top 10. */
  public static final String MRR_AT_10 = "mrr@10";

  /**
   * Per query and vector (retrieval): nDCG@10 of the candidate's query against the baseline's
   * corpus embeddings.
   */
  public static final String INDEX_NDCG_AT_10 = "index_ndcg@10";

  /**
   * Vector (retrieval): {@code 1 − Σ index_ndcg@10 / Σ ndcg@10}, the loss of keeping the baseline's
   * index.
   */
  public static final String INDEX_LOSS = "index_loss";

  /**
   * Per query and vector (retrieval): share of the baseline's top 10 docs also in the candidate's
   * top 10.
   */
  public static final String OVERLAP_AT_10 = "overlap@10";

  /** Per doc and query (retrieval): cosine between the text's baseline and candidate embeddings. */
  public static final String COSINE_TO_BASELINE = "cosine_to_baseline";

  /** Vector (retrieval): mean of {@link #COSINE_TO_BASELINE} over every doc and query. */
  public static final String TEXT_COSINE = "text_cosine";

  /** Vector: Spearman rank correlation of per-pair cosine with the gold scores (STS style). */
  public static final String SPEARMAN = "spearman";

  /** Vector: mean per-pair cosine similarity. */
  public static final String MEAN_COSINE = "mean_cosine";

  private MetricNames() {}
}
