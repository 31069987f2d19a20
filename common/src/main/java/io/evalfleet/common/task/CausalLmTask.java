package io.evalfleet.common.task;

import static io.evalfleet.common.task.ColumnRole.Presence.ONE_OF;

import io.evalfleet.common.subset.SubsetSchemaException;
import java.util.List;

/**
 * Causal language models, scored by perplexity pooled over tokens, and by bits per byte when the
 * rows are text. Rows longer than {@code max_seq_len} are scored with the strided sliding window.
 * Against a baseline with the same tokenizer, each job runs both models on the same windows and
 * also measures the token shift: how the next-token distribution moved ({@code kl_*}, {@code
 * top1_agreement}, {@code dp_true_mean}), judged against absolute limits.
 */
public final class CausalLmTask extends TaskSpec {
  /** The row's pre-tokenised ids; read in preference to {@link #TEXT} when present. */
  public static final String INPUT_IDS = "input_ids";

  /** The row's text, tokenised with the model's tokenizer. */
  public static final String TEXT = "text";

  CausalLmTask() {
    super(
        "causal-lm",
        "a causal language model scored by perplexity",
        List.of(MAX_SEQ_LEN),
        List.of(STRIDE),
        List.of(
            new ColumnRole(INPUT_IDS, ColumnType.TOKEN_IDS, ONE_OF, "the row's pre-tokenised ids"),
            new ColumnRole(
                TEXT,
                ColumnType.TEXT,
                ONE_OF,
                "the row's text, tokenised with the model's tokenizer")),
        List.of(MetricNames.NLL_SUM, MetricNames.TOKENS),
        List.of(
            new MetricSpec(
                MetricNames.PERPLEXITY,
                Direction.LOWER_IS_BETTER,
                "exp(sum of token NLL / scored tokens), pooled over tokens"),
            new MetricSpec(
                MetricNames.BITS_PER_BYTE,
                Direction.LOWER_IS_BETTER,
                "sum of token NLL / (UTF-8 bytes * ln 2), for text rows; comparable across tokenizers"),
            new MetricSpec(
                MetricNames.KL_MEAN,
                Direction.LOWER_IS_BETTER,
                "token shift: sum of per-token KL(baseline || candidate) / scored tokens, in nats"),
            new MetricSpec(
                MetricNames.KL_P99,
                Direction.LOWER_IS_BETTER,
                "token shift: 99th percentile of per-token KL(baseline || candidate), in nats (to 0.1%)"),
            new MetricSpec(
                MetricNames.TOP1_AGREEMENT,
                Direction.HIGHER_IS_BETTER,
                "token shift: share of scored tokens whose most likely next token is the baseline's"),
            new MetricSpec(
                MetricNames.DP_TRUE_MEAN,
                Direction.HIGHER_IS_BETTER,
                "token shift: mean change in the probability of the true next token, candidate minus baseline")));
  }

  /** The token shift's per-row sums. */
  @Override
  public List<String> comparisonValues() {
    return List.of(MetricNames.KL_SUM, MetricNames.TOP1_AGREE, MetricNames.DP_TRUE_SUM);
  }

  /** A row's mean NLL per scored token, in nats; NaN for a row with no scored token. */
  @Override
  public RowScore rowScore() {
    return new RowScore(
        "mean NLL per token (nats)",
        Direction.LOWER_IS_BETTER,
        (values, row) -> {
          double tokens = values.get(MetricNames.TOKENS)[row];
          return tokens == 0 ? Double.NaN : values.get(MetricNames.NLL_SUM)[row] / tokens;
        });
  }

  @Override
  protected String requirementReason(String field) {
    return field.equals(MAX_SEQ_LEN) ? " (the model's context length in tokens)" : "";
  }

  @Override
  protected List<Problem> checkValues(Integer maxSeqLen, Integer stride) {
    if (maxSeqLen < 2) {
      return List.of(
          new Problem(MAX_SEQ_LEN, maxSeqLen + " leaves no token to score with context"));
    }
    if (stride != null && stride >= maxSeqLen) {
      return List.of(
          new Problem(
              STRIDE,
              stride
                  + " must be smaller than max_seq_len "
                  + maxSeqLen
                  + " so that every token is scored with context"));
    }
    return List.of();
  }

  /** The event's stride, or half the context (at least 1). */
  @Override
  public Integer stride(Integer maxSeqLen, Integer stride) {
    return stride != null ? stride : Math.max(1, maxSeqLen / 2);
  }

  @Override
  protected void checkLayout(SubsetLayout layout, boolean hasTokenizer)
      throws SubsetSchemaException {
    if (layout.has(TEXT) && !hasTokenizer) {
      throw new SubsetSchemaException(
          "golden subset "
              + layout.uri()
              + " holds text, so task causal-lm needs the"
              + " model's tokenizer (tokenizer.uri and tokenizer.sha256)");
    }
  }
}
