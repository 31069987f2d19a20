package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What kind of model a staged artifact is, which decides how it is scored. */
public enum Task {
  /** A sentence-embedding model scored on text pairs by cosine similarity. */
  @JsonProperty("embedding") EMBEDDING,
  /** A causal language model scored by perplexity. */
  @JsonProperty("causal-lm") CAUSAL_LM;

  public String wireName() {
    return this == EMBEDDING ? "embedding" : "causal-lm";
  }
}
