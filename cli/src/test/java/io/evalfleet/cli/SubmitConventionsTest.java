package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.EmbeddingConventions.Pooling;
import io.evalfleet.common.task.Task;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code submit --artifact} on a sentence-transformers folder records the conventions the model
 * ships.
 */
class SubmitConventionsTest {
  static final Path FIXTURES = Path.of("..", "fixtures").toAbsolutePath().normalize();

  @TempDir Path dir;
  Path folder;
  ByteArrayOutputStream console = new ByteArrayOutputStream();

  @BeforeEach
  void folder() throws Exception {
    folder = SentenceTransformersFixture.bytesFolder(dir, false);
    Files.writeString(dir.resolve("pairs.parquet"), "a subset");
  }

  SubmitCommand.Described described(String artifact) {
    SubmitCommand.Described d = new SubmitCommand.Described();
    d.model = "m";
    d.version = "v1";
    d.task = Task.EMBEDDING;
    d.artifact = artifact;
    d.tokenizer = FIXTURES.resolve("causal-lm/tokenizer.json").toString();
    d.subset = dir.resolve("pairs.parquet").toString();
    d.baseline = "production";
    return d;
  }

  StagedWeightEvent describe(SubmitCommand.Described d) throws Exception {
    return SubmitCommand.describe(
        d, Storage.withDefaults(), new PrintStream(console, true, StandardCharsets.UTF_8));
  }

  String console() {
    return console.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theFolderOrTheModelInItGivesTheShippedPoolingNormalizationAndPrefixes() throws Exception {
    for (String artifact :
        new String[] {folder.toString(), folder.resolve("model.onnx").toString()}) {
      StagedWeightEvent event = describe(described(artifact));
      assertThat(event.embedding())
          .isEqualTo(new EmbeddingConventions(Pooling.CLS, true, "query: ", "passage: ", null));
      assertThat(event.artifact().uri()).isEqualTo(folder.resolve("model.onnx").toUri().toString());
    }
    assertThat(console())
        .contains("embedding conventions from " + folder + ": pooling cls (1_Pooling/config.json)")
        .doesNotContain("warning");
  }

  @Test
  void anOptionTheUserSetWinsAndAContradictionIsWarnedAbout() throws Exception {
    SubmitCommand.Described d = described(folder.toString());
    d.pooling = Pooling.MEAN;
    d.prefixA = "search: ";
    StagedWeightEvent event = describe(d);
    assertThat(event.embedding())
        .isEqualTo(new EmbeddingConventions(Pooling.MEAN, true, "search: ", "passage: ", null));
    assertThat(console())
        .contains(
            "warning: --pooling mean contradicts the model's own sentence-transformers"
                + " configuration (1_Pooling/config.json pools by cls)");
  }

  @Test
  void aModelFileOutsideAnyFolderConfigurationKeepsTheDefaults() throws Exception {
    StagedWeightEvent plain =
        describe(described(FIXTURES.resolve("embedding/bytes-no-token-types.onnx").toString()));
    assertThat(plain.embedding()).isNull();
  }

  @Test
  void aFolderWithoutAModelIsRefusedInWords() {
    assertThatThrownBy(() -> describe(described(dir.toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "invalid --artifact " + dir + ": folder " + dir + " holds no model.onnx");
  }

  @Test
  void theChangeKindAndPrecisionGoIntoTheEventAndNoneIsLeftUnset() throws Exception {
    SubmitCommand.Described d = described(folder.toString());
    assertThat(describe(d).changeKind()).isNull();
    d.changeKind = new SubmitCommand.ChangeKindConverter().convert("quantization");
    d.quantizationBits = 8;
    StagedWeightEvent event = describe(d);
    assertThat(event.changeKind()).isEqualTo(ChangeKind.QUANTIZATION);
    assertThat(event.quantizationBits()).isEqualTo(8);
    for (String typo : new String[] {"quantisation", "Retrain", "retrain ", ""}) {
      assertThatThrownBy(() -> new SubmitCommand.ChangeKindConverter().convert(typo))
          .hasMessage(
              "unknown change kind '"
                  + typo
                  + "' (known: [retrain, quantization, export, runtime])");
    }
  }
}
