package io.evalfleet.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.EmbeddingConventions.Pooling;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SentenceTransformersFolderTest {
  static final Path EMBEDDING = Path.of("..", "fixtures", "embedding").toAbsolutePath().normalize();

  @TempDir Path dir;

  @Test
  void bgeShipsClsPoolingAndNormalizationWithoutPrompts() throws Exception {
    SentenceTransformersFolder bge =
        SentenceTransformersFolder.find(EMBEDDING.resolve("bge-small-en-v1.5-st")).orElseThrow();
    assertThat(bge.conventions())
        .isEqualTo(new EmbeddingConventions(Pooling.CLS, true, "", "", null));
    assertThat(bge.describe())
        .isEqualTo(
            "pooling cls (1_Pooling/config.json), normalized (a Normalize module in"
                + " modules.json), no prefix");
  }

  @Test
  void promptsBecomeTheQueryAndDocumentPrefixes() throws Exception {
    SentenceTransformersFolder st = SentenceTransformersFolder.read(EMBEDDING.resolve("bytes-st"));
    assertThat(st.conventions())
        .isEqualTo(new EmbeddingConventions(Pooling.CLS, true, "query: ", "passage: ", null));
    assertThat(st.describe())
        .endsWith(
            "prefixes \"query: \"/\"passage: \" (prompts in config_sentence_transformers.json)");
  }

  @Test
  void aModelFileInsideTheFolderOrItsOnnxSubfolderFindsTheConfiguration() throws Exception {
    copyConfigs(EMBEDDING.resolve("bytes-st"), dir);
    Files.createDirectories(dir.resolve("onnx"));
    Files.writeString(dir.resolve("onnx").resolve("model.onnx"), "graph");
    assertThat(SentenceTransformersFolder.modelFile(dir))
        .isEqualTo(dir.resolve("onnx").resolve("model.onnx"));
    assertThat(SentenceTransformersFolder.find(dir.resolve("onnx").resolve("model.onnx")))
        .get()
        .extracting(SentenceTransformersFolder::folder)
        .isEqualTo(dir.toAbsolutePath().normalize());
    assertThat(SentenceTransformersFolder.find(EMBEDDING.resolve("bytes-no-token-types.onnx")))
        .isEmpty();
  }

  @Test
  void anExplicitPoolingThatContradictsTheShippedOneIsNamed() throws Exception {
    SentenceTransformersFolder bge =
        SentenceTransformersFolder.read(EMBEDDING.resolve("bge-small-en-v1.5-st"));
    EmbeddingConventions mean = EmbeddingConventions.DEFAULTS;
    assertThat(bge.contradictions(mean, true, false))
        .singleElement()
        .asString()
        .startsWith(
            "--pooling mean contradicts the model's own sentence-transformers configuration"
                + " (1_Pooling/config.json pools by cls)");
    assertThat(
            bge.contradictions(EmbeddingConventions.DEFAULTS.withPooling(Pooling.CLS), true, false))
        .isEmpty();
    assertThat(
            bge.contradictions(
                EmbeddingConventions.DEFAULTS.withPooling(Pooling.CLS).withNormalize(false),
                false,
                true))
        .singleElement()
        .asString()
        .startsWith("--no-normalize contradicts");
  }

  @Test
  void aPoolingEvalfleetDoesNotComputeIsRefusedByName() throws Exception {
    copyConfigs(EMBEDDING.resolve("bytes-st"), dir);
    Files.writeString(
        dir.resolve("1_Pooling").resolve("config.json"),
        "{\"pooling_mode_mean_sqrt_len_tokens\": true}");
    assertThatThrownBy(() -> SentenceTransformersFolder.read(dir))
        .isInstanceOf(InputException.class)
        .hasMessageContaining(
            "sets pooling_mode_mean_sqrt_len_tokens, a pooling evalfleet does not compute");
    Files.writeString(
        dir.resolve("1_Pooling").resolve("config.json"),
        "{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}");
    assertThatThrownBy(() -> SentenceTransformersFolder.read(dir))
        .hasMessageContaining("sets 2 pooling modes");
  }

  static void copyConfigs(Path from, Path to) throws Exception {
    try (var files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Path target = to.resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(target);
        } else {
          Files.copy(file, target);
        }
      }
    }
  }
}
