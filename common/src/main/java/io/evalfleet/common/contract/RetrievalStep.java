package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Which step of a retrieval run a job is, and where the run's embeddings live. A run embeds its
 * corpus first ({@code corpus} jobs write the embeddings of their docs under {@code embeddings});
 * its {@code queries} jobs start when every doc is embedded, embed their queries (also written
 * there) and rank the whole corpus.
 *
 * @param phase {@code corpus} or {@code queries}
 * @param embeddings the folder (a Hadoop file system URI) this run's embeddings are written to
 * @param baselineEmbeddings the baseline's embeddings folder, for the index comparison, the
 *     neighbour overlap and each text's drift; null without a baseline
 * @param recallAt the cut-offs of recall each query is scored at
 */
public record RetrievalStep(
    Phase phase, String embeddings, String baselineEmbeddings, List<Integer> recallAt) {

  public enum Phase {
    @JsonProperty("corpus")
    CORPUS,
    @JsonProperty("queries")
    QUERIES
  }

  public RetrievalStep {
    Checks.required(phase, "retrieval.phase");
    Checks.requiredText(embeddings, "retrieval.embeddings");
    recallAt = recallAt == null ? List.of() : List.copyOf(recallAt);
    for (int k : recallAt) {
      if (k <= 0) {
        throw new ContractViolation("retrieval.recall_at", "cut-offs must be positive, got " + k);
      }
    }
  }
}
