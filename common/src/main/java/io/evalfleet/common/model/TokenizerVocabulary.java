package io.evalfleet.common.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The ids a Hugging Face {@code tokenizer.json} can produce: those of its model's vocabulary
 * ({@code model.vocab}, a token-to-id object for BPE, WordPiece and WordLevel, a list for Unigram)
 * and of its added tokens. Stateless.
 *
 * @param tokens how many distinct ids it has
 * @param maxId the largest of them
 */
public record TokenizerVocabulary(long tokens, long maxId) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The tokenizer's ids, or empty when the file lists none (a tokenizer that is not a Hugging Face
   * {@code tokenizer.json}).
   *
   * @throws IOException when it cannot be read or is not JSON
   */
  public static Optional<TokenizerVocabulary> read(InputStream tokenizerJson) throws IOException {
    JsonNode root = JSON.readTree(tokenizerJson);
    Set<Long> ids = new HashSet<>();
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
        JsonNode id = it.next().getValue();
        if (id.canConvertToLong()) {
          ids.add(id.asLong());
        }
      }
    } else if (vocab.isArray()) {
      for (long i = 0; i < vocab.size(); i++) {
        ids.add(i);
      }
    }
    for (JsonNode added : root.path("added_tokens")) {
      if (added.path("id").canConvertToLong()) {
        ids.add(added.path("id").asLong());
      }
    }
    if (ids.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new TokenizerVocabulary(
            ids.size(), ids.stream().mapToLong(Long::longValue).max().orElseThrow()));
  }

  /**
   * Why this tokenizer cannot feed a model of {@code model}'s vocabulary: some of its ids are
   * beyond the model's; empty when every id fits.
   */
  public Optional<String> misfit(ModelVocabulary model) {
    if (maxId < model.size()) {
      return Optional.empty();
    }
    return Optional.of(
        "the tokenizer does not fit the model's vocabulary: its ids go up to "
            + maxId
            + " ("
            + tokens
            + " tokens), but the model accepts ids 0.."
            + (model.size() - 1)
            + " ("
            + model.size()
            + " tokens, from "
            + model.source()
            + "); give the model its own tokenizer.json");
  }
}
