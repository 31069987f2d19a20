package io.evalfleet.common.task;

import static io.evalfleet.common.task.ColumnRole.Presence.OPTIONAL;
import static io.evalfleet.common.task.ColumnRole.Presence.REQUIRED;

import java.util.List;

/**
 * Sentence-embedding models, scored on text pairs: per pair the cosine of the two embeddings, and
 * with human scores the Spearman correlation of cosine with them (STS style).
 */
public final class EmbeddingTask extends TaskSpec {
  /** The pair's first text. */
  public static final String TEXT_A = "text_a";

  /** The pair's second text. */
  public static final String TEXT_B = "text_b";

  /** Optional: the pair's human similarity score. */
  public static final String GOLD = "gold";

  EmbeddingTask() {
    super(
        "embedding",
        "a sentence-embedding model scored on text pairs by cosine similarity",
        List.of(TOKENIZER),
        List.of(EMBEDDING),
        List.of(
            new ColumnRole(TEXT_A, ColumnType.TEXT, REQUIRED, "the pair's first text"),
            new ColumnRole(TEXT_B, ColumnType.TEXT, REQUIRED, "the pair's second text"),
            new ColumnRole(GOLD, ColumnType.NUMBER, OPTIONAL, "the pair's human similarity score")),
        List.of(MetricNames.COSINE),
        List.of(
            new MetricSpec(
                MetricNames.SPEARMAN,
                Direction.HIGHER_IS_BETTER,
                "Spearman rank correlation of per-pair cosine with the gold scores (needs gold, at least 3 pairs)"),
            new MetricSpec(
                MetricNames.MEAN_COSINE, Direction.TWO_SIDED, "mean per-pair cosine similarity")));
  }

  /** A pair's cosine similarity. */
  @Override
  public RowScore rowScore() {
    return new RowScore(
        "pair cosine", Direction.TWO_SIDED, (values, row) -> values.get(MetricNames.COSINE)[row]);
  }

  @Override
  protected String requirementReason(String field) {
    return field.equals(TOKENIZER) ? " (tokenizer.uri and tokenizer.sha256)" : "";
  }
}
