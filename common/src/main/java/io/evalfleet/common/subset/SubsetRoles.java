package io.evalfleet.common.subset;

/** The roles a scorer reads from a golden subset; {@code golden_subset.columns} maps them to column names. */
public final class SubsetRoles {
  /** Embedding task: the pair's first text (UTF-8 string). */
  public static final String TEXT_A = "text_a";
  /** Embedding task: the pair's second text (UTF-8 string). */
  public static final String TEXT_B = "text_b";
  /** Embedding task, optional: the pair's human similarity score (numeric). */
  public static final String GOLD = "gold";
  /** Causal-LM task: the row's text (UTF-8 string), tokenised with the model's tokenizer. */
  public static final String TEXT = "text";
  /** Causal-LM task: the row's pre-tokenised ids ({@code list<int32>} or {@code list<int64>}). */
  public static final String INPUT_IDS = "input_ids";

  private SubsetRoles() {}
}
