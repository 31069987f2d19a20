package io.evalfleet.common.task;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;

/**
 * How a sentence-embedding model turns token vectors into one embedding, as its own
 * sentence-transformers configuration says: the pooling, whether the result is L2-normalised, the
 * prompt prefixes prepended to each side's text before tokenisation (e5's {@code query: }), and
 * which output to read. Every field is optional; the defaults are mean pooling over the attention
 * mask, normalised, no prefix, and {@code last_hidden_state} (else the first float output). A model
 * whose output is already pooled ({@code [batch, dim]}) is used as it is, whatever the pooling
 * says.
 *
 * @param pooling how token vectors become one vector
 * @param normalize whether the pooled vector is L2-normalised
 * @param prefixA text prepended to each pair's first text (retrieval: to each query)
 * @param prefixB text prepended to each pair's second text (retrieval: to each doc)
 * @param output the name of the model output to read; null for the default
 */
public record EmbeddingConventions(
    Pooling pooling, Boolean normalize, String prefixA, String prefixB, String output) {

  /** How token vectors [seq, dim] become one vector [dim]. */
  public enum Pooling {
    /** The mean of the token vectors over the attention mask (padding excluded). */
    @JsonProperty("mean")
    MEAN,
    /** The first token's vector ([CLS]). */
    @JsonProperty("cls")
    CLS,
    /** The element-wise maximum over the attention mask. */
    @JsonProperty("max")
    MAX,
    /** The vector of the last token that is not padding. */
    @JsonProperty("last_token")
    LAST_TOKEN;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Today's behaviour: mean pooling, normalised, no prefix, the default output. */
  public static final EmbeddingConventions DEFAULTS =
      new EmbeddingConventions(null, null, null, null, null);

  public EmbeddingConventions {
    pooling = pooling == null ? Pooling.MEAN : pooling;
    normalize = normalize == null ? Boolean.TRUE : normalize;
    prefixA = prefixA == null ? "" : prefixA;
    prefixB = prefixB == null ? "" : prefixB;
    if (output != null && output.isBlank()) {
      output = null;
    }
  }

  /** These conventions with {@code pooling} instead (null: mean pooling). */
  public EmbeddingConventions withPooling(Pooling pooling) {
    return new EmbeddingConventions(pooling, normalize, prefixA, prefixB, output);
  }

  /** These conventions with {@code normalize} instead (null: normalised). */
  public EmbeddingConventions withNormalize(Boolean normalize) {
    return new EmbeddingConventions(pooling, normalize, prefixA, prefixB, output);
  }

  /**
   * These conventions reading the model's output named {@code output} (null or blank: the default
   * output).
   */
  public EmbeddingConventions withOutput(String output) {
    return new EmbeddingConventions(pooling, normalize, prefixA, prefixB, output);
  }

  /** The conventions of an event or job that may leave them out. */
  public static EmbeddingConventions orDefaults(EmbeddingConventions conventions) {
    return conventions == null ? DEFAULTS : conventions;
  }

  /**
   * One line for evidence and logs, e.g. {@code pooling cls, normalized, prefixes "query:
   * "/"passage: ", output default}.
   */
  public String describe() {
    String prefixes =
        prefixA.isEmpty() && prefixB.isEmpty()
            ? "no prefix"
            : "prefixes \"" + prefixA + "\"/\"" + prefixB + "\"";
    return "pooling "
        + pooling.wireName()
        + ", "
        + (normalize ? "normalized" : "not normalized")
        + ", "
        + prefixes
        + ", output "
        + (output == null ? "default" : output);
  }
}
