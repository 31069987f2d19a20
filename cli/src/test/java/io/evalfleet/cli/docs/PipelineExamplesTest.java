package io.evalfleet.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The training-pipeline examples of {@code docs/pipelines.md}: the code the page shows is, byte for
 * byte, the files in {@code docs/examples/} (the Python one is what {@code DocumentedCommandsIT}
 * runs against a fleet), and the CI examples are valid YAML whose evaluation job runs after
 * training and calls the example with the arguments it declares and the page documents.
 */
class PipelineExamplesTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path PAGE = ROOT.resolve("docs/pipelines.md");
  static final Path EXAMPLES = ROOT.resolve("docs/examples");
  static final String SCRIPT = "stage_and_wait.py";
  private static final Pattern DECLARED_OPTION = Pattern.compile("add_argument\\(\"(--[a-z-]+)\"");

  @Test
  void pageShowsThePythonExampleByteForByte() throws IOException {
    assertThat(fencedBlocks(read(PAGE), "python"))
        .as("python blocks of %s", PAGE)
        .containsExactly(read(EXAMPLES.resolve(SCRIPT)));
  }

  @Test
  void pageShowsTheCiExamplesByteForByte() throws IOException {
    assertThat(fencedBlocks(read(PAGE), "yaml"))
        .as("yaml blocks of %s", PAGE)
        .containsExactly(
            read(EXAMPLES.resolve("github-actions.yml")), read(EXAMPLES.resolve("gitlab-ci.yml")));
  }

  @Test
  void pageDocumentsEveryOptionTheExampleDeclares() throws IOException {
    List<String> usage =
        fencedBlocks(read(PAGE), "bash").stream()
            .flatMap(b -> b.lines())
            .filter(line -> line.contains(SCRIPT))
            .toList();
    assertThat(usage).as("the usage line in %s", PAGE).hasSize(1);
    assertThat(options(usage.get(0))).isEqualTo(declaredOptions());
  }

  @Test
  void githubWorkflowEvaluatesAfterTrainingWithTheDocumentedArguments() throws IOException {
    JsonNode workflow = new YAMLMapper().readTree(EXAMPLES.resolve("github-actions.yml").toFile());
    assertThat(workflow.has("on") || workflow.has("true")).as("the workflow has triggers").isTrue();
    JsonNode evaluate = workflow.path("jobs").path("evaluate");
    assertThat(workflow.path("jobs").path("train").path("steps").isArray())
        .as("a train job")
        .isTrue();
    assertThat(evaluate.path("needs").asText()).as("evaluate runs after train").isEqualTo("train");
    List<String> calls = new ArrayList<>();
    for (JsonNode step : evaluate.path("steps")) {
      step.path("run").asText("").lines().filter(line -> line.contains(SCRIPT)).forEach(calls::add);
    }
    assertCallsTheExample(calls);
  }

  @Test
  void gitlabPipelineEvaluatesAfterTrainingWithTheDocumentedArguments() throws IOException {
    JsonNode pipeline = new YAMLMapper().readTree(EXAMPLES.resolve("gitlab-ci.yml").toFile());
    List<String> stages = new ArrayList<>();
    pipeline.path("stages").forEach(stage -> stages.add(stage.asText()));
    assertThat(stages).containsExactly("train", "evaluate");
    assertThat(pipeline.path("train").path("stage").asText()).isEqualTo("train");
    JsonNode evaluate = pipeline.path("evaluate");
    assertThat(evaluate.path("stage").asText()).isEqualTo("evaluate");
    assertThat(evaluate.path("needs").toString()).contains("\"train\"");
    List<String> calls = new ArrayList<>();
    for (JsonNode line : evaluate.path("script")) {
      if (line.asText().contains(SCRIPT)) {
        calls.add(line.asText());
      }
    }
    assertCallsTheExample(calls);
  }

  private static void assertCallsTheExample(List<String> calls) throws IOException {
    assertThat(calls).as("calls of %s", SCRIPT).hasSize(1);
    List<String> words = List.of(calls.get(0).trim().split("\\s+"));
    assertThat(words.get(0)).isEqualTo("python3");
    assertThat(words.get(1)).endsWith("/" + SCRIPT);
    assertThat(options(calls.get(0)))
        .as("options of %s", calls.get(0))
        .isEqualTo(declaredOptions());
    assertThat(words)
        .as("the event file the train job wrote")
        .containsSubsequence("--event", "event.json");
  }

  /** The options the example's argument parser declares, in order. */
  private static Set<String> declaredOptions() throws IOException {
    Set<String> declared = new LinkedHashSet<>();
    Matcher matcher = DECLARED_OPTION.matcher(read(EXAMPLES.resolve(SCRIPT)));
    while (matcher.find()) {
      declared.add(matcher.group(1));
    }
    assertThat(declared)
        .as("options declared by %s", SCRIPT)
        .contains("--bootstrap-servers", "--event", "--timeout");
    return declared;
  }

  private static Set<String> options(String commandLine) {
    Set<String> options = new LinkedHashSet<>();
    for (String word : commandLine.trim().split("\\s+")) {
      if (word.startsWith("--")) {
        options.add(word);
      }
    }
    return options;
  }

  /**
   * The contents of the page's fenced code blocks in {@code language}, each ending with its last
   * newline.
   */
  static List<String> fencedBlocks(String markdown, String language) {
    List<String> blocks = new ArrayList<>();
    String open = "```" + language + "\n";
    int from = 0;
    while (true) {
      int start = markdown.startsWith(open, from) ? from : markdown.indexOf("\n" + open, from);
      if (start < 0) {
        return blocks;
      }
      int body = markdown.indexOf(open, start) + open.length();
      int end =
          markdown.startsWith("```\n", body) ? body : markdown.indexOf("\n```\n", body - 1) + 1;
      if (end <= 0) {
        throw new IllegalStateException("a ```" + language + " block is not closed");
      }
      blocks.add(markdown.substring(body, end));
      from = end;
    }
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }
}
