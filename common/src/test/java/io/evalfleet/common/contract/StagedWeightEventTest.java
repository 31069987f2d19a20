package io.evalfleet.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.task.Task;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class StagedWeightEventTest {
  static final String SHA = "a".repeat(64);
  static final String VALID =
      """
      {"schema_version": 1, "event_id": "ev-1", "model": "minilm", "version": "abc123", "task": "embedding",
       "artifact": {"uri": "file:///models/m.onnx", "sha256": "%s"},
       "tokenizer": {"uri": "/models/tokenizer.json", "sha256": "%s"},
       "golden_subset": {"uri": "file:///golden/sts.parquet", "sha256": "%s", "columns": {"text_a": "s1"}},
       "max_seq_len": 128, "created_at": "2026-11-22T10:00:00Z", "some_future_field": [1, 2]}
      """
          .formatted(SHA, SHA, SHA);

  static StagedWeightEvent read(String json) {
    return Json.read(json.getBytes(StandardCharsets.UTF_8), StagedWeightEvent.class);
  }

  @Test
  void readsAValidEventAndDefaultsTheBaselineToProduction() {
    StagedWeightEvent event = read(VALID);
    assertThat(event.eventId()).isEqualTo("ev-1");
    assertThat(event.task()).isEqualTo(Task.EMBEDDING);
    assertThat(event.baseline()).isEqualTo(StagedWeightEvent.PRODUCTION);
    assertThat(event.goldenSubset().column("text_a")).isEqualTo("s1");
    assertThat(event.goldenSubset().column("text_b")).isEqualTo("text_b");
    assertThat(event.maxSeqLen()).isEqualTo(128);
  }

  @Test
  void roundTripsThroughTheWireFormat() {
    StagedWeightEvent event = read(VALID);
    String json = Json.writeString(event);
    assertThat(json)
        .contains("\"event_id\":\"ev-1\"", "\"golden_subset\"", "\"task\":\"embedding\"");
    assertThat(read(json)).isEqualTo(event);
  }

  static Stream<Arguments> badEvents() {
    return Stream.of(
        // name, text to replace, replacement, field named, words in the message
        Arguments.of("missing event_id", "\"event_id\": \"ev-1\",", "", "event_id", "is required"),
        Arguments.of(
            "missing artifact", "\"artifact\":", "\"artifact_x\":", "artifact", "is required"),
        Arguments.of(
            "bad sha256",
            "\"sha256\": \"a",
            "\"sha256\": \"zz",
            "artifact.sha256",
            "sha256 digest"),
        Arguments.of(
            "relative uri",
            "file:///models/m.onnx",
            "models/m.onnx",
            "artifact.uri",
            "absolute path"),
        Arguments.of(
            "unsupported scheme",
            "file:///models/m.onnx",
            "http://host/m.onnx",
            "artifact.uri",
            "unsupported scheme 'http'"),
        Arguments.of(
            "path traversal",
            "file:///models/m.onnx",
            "file:///models/../etc/m",
            "artifact.uri",
            "'..'"),
        Arguments.of(
            "string for integer",
            "\"max_seq_len\": 128",
            "\"max_seq_len\": \"128\"",
            "max_seq_len",
            "wrong type"),
        Arguments.of(
            "negative integer",
            "\"max_seq_len\": 128",
            "\"max_seq_len\": -5",
            "max_seq_len",
            "must be positive"),
        Arguments.of(
            "unknown task",
            "\"task\": \"embedding\"",
            "\"task\": \"vision\"",
            "task",
            "must be one of [embedding, causal-lm, retrieval]"),
        Arguments.of(
            "unsupported version",
            "\"schema_version\": 1",
            "\"schema_version\": 7",
            "schema_version",
            "version 7 is not supported"),
        Arguments.of(
            "number for string", "\"model\": \"minilm\"", "\"model\": 42", "model", "wrong type"),
        Arguments.of(
            "blank subset column",
            "{\"text_a\": \"s1\"}",
            "{\"text_a\": \" \"}",
            "golden_subset.columns.text_a",
            "must not be blank"),
        Arguments.of(
            "bad identifier",
            "\"version\": \"abc123\"",
            "\"version\": \"has space\"",
            "version",
            "letters, digits"),
        Arguments.of("bad timestamp", "2026-11-22T10:00:00Z", "yesterday", "created_at", ""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badEvents")
  void rejectsABadFieldNamingIt(String name, String from, String to, String field, String problem) {
    String json = VALID.replaceFirst(Pattern.quote(from), Matcher.quoteReplacement(to));
    assertThat(json).as("test case must change the event").isNotEqualTo(VALID);
    assertThatThrownBy(() -> read(json))
        .isInstanceOfSatisfying(
            ContractViolation.class,
            v -> {
              assertThat(v.field()).isEqualTo(field);
              assertThat(v.getMessage()).contains(problem);
            });
  }

  @Test
  void malformedJsonIsAViolationOfTheWholeMessage() {
    assertThatThrownBy(() -> read("{\"schema_version\": 1, "))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("malformed JSON");
    // Said in words a person reads: where, not the parser's description of its source.
    assertThatThrownBy(() -> read("{\"schema_version\":1,\"event_id\":\"e\",\"model\":\"m\"\n"))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("malformed JSON: Unexpected end-of-input")
        .hasMessageContaining("(line ")
        .hasMessageNotContaining("Source:")
        .hasMessageNotContaining("REDACTED");
    assertThatThrownBy(() -> read(""))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> read("[1,2]")).isInstanceOf(ContractViolation.class);
  }

  @Test
  void uppercaseDigestsAreNormalised() {
    StagedWeightEvent event = read(VALID.replace(SHA, "A".repeat(64)));
    assertThat(event.artifact().sha256()).isEqualTo(SHA);
  }
}
