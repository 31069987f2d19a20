package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code evalfleet inspect} on the small fixture models: what it prints comes from the worker's
 * code and from what the model ships, and a model it cannot score exits 3 with one line saying why.
 */
class InspectCommandTest {
  static final Path FIXTURES = Path.of("..", "fixtures").toAbsolutePath().normalize();
  static final String BYTE_TOKENIZER = FIXTURES.resolve("causal-lm/tokenizer.json").toString();

  @TempDir Path dir;

  record Run(int exit, String out) {
    List<String> lines() {
      return out.lines().toList();
    }
  }

  Run inspect(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    List<String> all =
        new ArrayList<>(List.of("inspect", "--log-file", dir.resolve("inspect.log").toString()));
    all.addAll(List.of(args));
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      var line = Evalfleet.commandLine();
      line.setErr(new PrintWriter(err, true));
      int exit = Evalfleet.execute(line, all.toArray(String[]::new));
      return new Run(exit, out.toString(StandardCharsets.UTF_8) + err);
    } finally {
      System.setOut(original);
    }
  }

  Path bytesFolder(boolean inOnnxSubfolder) throws Exception {
    return SentenceTransformersFixture.bytesFolder(dir, inOnnxSubfolder);
  }

  @Test
  void aSentenceTransformersFolderIsInspectedUnderThePoolingNormalizationAndPromptsItShips()
      throws Exception {
    Run run = inspect(bytesFolder(false).toString(), "--tokenizer", BYTE_TOKENIZER);
    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out())
        .contains(
            "pooling cls (1_Pooling/config.json), normalized (a Normalize module in modules.json),"
                + " prefixes \"query: \"/\"passage: \" (prompts in config_sentence_transformers.json)",
            "output last_hidden_state: token vectors, pooled by cls\n");
    // Known answer: token id = byte; row t of the table is 1 in column t mod 8 and t/255 in column
    // t+1 mod 8.
    // CLS pooling takes the first token, 'q' (113) of "query: " and 'p' (112) of "passage: ":
    // cos = (112/255) / (sqrt(1 + (113/255)^2) * sqrt(1 + (112/255)^2)) = 0.3677. Mean pooling
    // gives about 0.99.
    assertThat(run.out()).contains("with both prefixes: cosine 0.3677");
  }

  @Test
  void anExplicitPoolingThatContradictsTheShippedOneIsWarnedAboutAndUsed() throws Exception {
    Path folder = bytesFolder(true);
    Run run =
        inspect(
            folder.resolve("onnx").resolve("model.onnx").toString(),
            "--tokenizer",
            BYTE_TOKENIZER,
            "--pooling",
            "mean");
    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out())
        .contains(
            "warning: --pooling mean contradicts the model's own sentence-transformers"
                + " configuration (1_Pooling/config.json pools by cls)",
            "output last_hidden_state: token vectors, pooled by mean\n");
  }

  @Test
  void aProbeWithoutATokenizerSaysWhatItFedAndPrintsNoPerplexity() {
    Run run = inspect(FIXTURES.resolve("causal-lm/bytegpt-base.onnx").toString());
    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out())
        .contains("fed token ids 0..3, a smoke test of the graph", "not a perplexity");
    assertThat(run.lines()).noneMatch(line -> line.matches(".*perplexity \\d.*"));
  }

  @Test
  void aTokenizerBeyondTheModelsVocabularyExits3WithOneLineNamingBothSizes() throws Exception {
    Path wide = dir.resolve("wordlevel-tokenizer.json");
    Files.writeString(
        wide,
        "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [],"
            + " \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"post_processor\": null,"
            + " \"decoder\": null, \"model\": {\"type\": \"WordLevel\", \"vocab\": {\"[UNK]\": 0, \"the\": 1,"
            + " \"fox\": 1996}, \"unk_token\": \"[UNK]\"}}");
    Run run =
        inspect(
            FIXTURES.resolve("causal-lm/bytegpt-base.onnx").toString(),
            "--tokenizer",
            wide.toString());
    assertThat(run.exit()).as(run.out()).isEqualTo(InspectCommand.NOT_SCORABLE);
    assertThat(run.lines())
        .filteredOn(line -> line.startsWith("cannot be scored:"))
        .singleElement()
        .asString()
        .contains(
            "the tokenizer does not fit the model's vocabulary: its ids go up to 1996 (3 tokens), but the model"
                + " accepts ids 0..255 (256 tokens");
    assertThat(run.out()).doesNotContain("Gather", "ORT_INVALID_ARGUMENT", "\tat ");
  }

  @Test
  void aFolderWithoutAModelIsNotScorableAndSaysWhatItLookedFor() throws Exception {
    Files.createDirectories(dir.resolve("empty"));
    Run run = inspect(dir.resolve("empty").toString());
    assertThat(run.exit()).isEqualTo(InspectCommand.NOT_SCORABLE);
    assertThat(run.out())
        .contains("holds no model.onnx (looked for model.onnx and onnx/model.onnx)");
  }
}
