package io.evalfleet.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ModelVocabularyTest {
  static final Path FIXTURES = Path.of("..", "fixtures").toAbsolutePath().normalize();

  static Optional<ModelVocabulary> of(String fixture) throws IOException {
    try (InputStream in = Files.newInputStream(FIXTURES.resolve(fixture))) {
      return ModelVocabulary.read(in);
    }
  }

  static TokenizerVocabulary tokenizer(String json) throws IOException {
    return TokenizerVocabulary.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)))
        .orElseThrow();
  }

  @Test
  void aCausalLmsVocabularyIsTheSmallerOfItsEmbeddingTableAndItsLogits() throws Exception {
    assertThat(of("causal-lm/bytegpt-base.onnx"))
        .get()
        .extracting(ModelVocabulary::size)
        .isEqualTo(256L);
    assertThat(of("causal-lm/uniform-v300.onnx"))
        .get()
        .extracting(ModelVocabulary::size)
        .isEqualTo(300L);
  }

  @Test
  void anEmbeddingModelsVocabularyIsTheTableItsInputIdsIndex() throws Exception {
    ModelVocabulary bytes = of("embedding/bytes-no-token-types.onnx").orElseThrow();
    assertThat(bytes.size()).isEqualTo(256);
    assertThat(bytes.source()).startsWith("its embedding table '");
  }

  @Test
  void aFileThatIsNotAnOnnxModelIsRefused() {
    assertThatThrownBy(
            () ->
                ModelVocabulary.read(
                    new ByteArrayInputStream(new byte[] {(byte) 0xff, (byte) 0xff, 0x07})))
        .isInstanceOf(ModelVocabulary.NotOnnx.class);
  }

  @Test
  void aTokenizersIdsComeFromItsVocabularyAndItsAddedTokens() throws Exception {
    try (InputStream in = Files.newInputStream(FIXTURES.resolve("causal-lm/tokenizer.json"))) {
      assertThat(TokenizerVocabulary.read(in)).contains(new TokenizerVocabulary(256, 255));
    }
    assertThat(
            tokenizer(
                "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[PAD]\":0,\"a\":1,\"b\":2}},"
                    + "\"added_tokens\":[{\"id\":0},{\"id\":7}]}"))
        .isEqualTo(new TokenizerVocabulary(4, 7));
    assertThat(tokenizer("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0.0],[\"b\",-1.0]]}}"))
        .isEqualTo(new TokenizerVocabulary(2, 1));
  }

  @Test
  void aTokenizerWithIdsBeyondTheModelsVocabularyIsNamedWithBothSizes() throws Exception {
    ModelVocabulary model = new ModelVocabulary(256, "its logits output");
    assertThat(new TokenizerVocabulary(256, 255).misfit(model)).isEmpty();
    assertThat(new TokenizerVocabulary(30522, 30521).misfit(model))
        .get()
        .asString()
        .contains(
            "does not fit the model's vocabulary",
            "up to 30521 (30522 tokens)",
            "ids 0..255 (256 tokens",
            "its logits output");
  }
}
