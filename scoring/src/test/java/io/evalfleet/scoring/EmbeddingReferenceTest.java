package io.evalfleet.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.EmbeddingConventions.Pooling;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bge-small-en-v1.5 against references computed outside evalfleet's code path
 * (scripts/make_embedding_references.py: its WordPiece tokenisation and BERT forward pass in numpy,
 * float64): the same token ids, and the worker's [CLS]-pooled, normalised embeddings to 1e-5 per
 * component (ONNX Runtime computes in float32).
 */
class EmbeddingReferenceTest {
  static final Path REFERENCE =
      Path.of("..", "fixtures", "embedding", "bge-small-en-v1.5-reference.json");

  @TempDir Path dir;

  @Test
  void bgeSmallEmbedsAsAnIndependentNumpyForwardPass() throws Exception {
    JsonNode reference = Json.mapper().readTree(REFERENCE.toFile());
    assertThat(reference.path("layers").asInt())
        .as("every layer's weights were found")
        .isEqualTo(12);
    List<String> texts = new ArrayList<>();
    reference.path("texts").forEach(t -> texts.add(t.path("text").asText()));
    EmbeddingConventions cls = EmbeddingConventions.DEFAULTS.withPooling(Pooling.CLS);
    try (ModelSessions sessions =
            new ModelSessions(new ArtifactCache(Storage.withDefaults(), dir, Long.MAX_VALUE), 2);
        ModelSessions.TokenizerLease tokenizer =
            sessions.tokenizer(TestModels.bgeTokenizer(), 512);
        ModelSessions.Lease model = sessions.lease(TestModels.bge())) {
      double[][] embeddings =
          new EmbeddingScorer(sessions, null, 8, 512)
              .embed(model.model(), tokenizer.tokenizer(), cls, texts);
      double worst = 0;
      for (int i = 0; i < texts.size(); i++) {
        JsonNode expected = reference.path("texts").get(i);
        long[] ids = new long[expected.path("input_ids").size()];
        for (int t = 0; t < ids.length; t++) {
          ids[t] = expected.path("input_ids").get(t).asLong();
        }
        assertThat(tokenizer.tokenizer().encode(texts.get(i)).getIds())
            .as("token ids of %s", texts.get(i))
            .containsExactly(ids);
        for (int d = 0; d < embeddings[i].length; d++) {
          worst =
              Math.max(
                  worst, Math.abs(embeddings[i][d] - expected.path("embedding").get(d).asDouble()));
        }
      }
      System.out.printf(
          "bge-small-en-v1.5: largest difference of an embedding component from the numpy reference: %.2e%n",
          worst);
      assertThat(worst).isLessThan(1e-5);
    }
  }
}
