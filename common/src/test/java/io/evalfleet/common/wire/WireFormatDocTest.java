package io.evalfleet.common.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.evalfleet.common.contract.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every {@code ```json} example in {@code docs/wire-format.md} is read, as the fleet reads a
 * message (with {@link Json#mapper()}, so each record's checks run), into the record it shows: the
 * one named by the first word of the {@code ##} heading it sits under, or by a {@code <!-- wire:
 * Type -->} line just above the block. A block that is one map entry ({@code "name": {...}}) is
 * read as a map of that type.
 */
class WireFormatDocTest {
  private static final Path DOC = Path.of("..", "docs", "wire-format.md");
  private static final Pattern MARKER = Pattern.compile("<!--\\s*wire:\\s*(\\w+)\\s*-->");
  private static final List<String> PACKAGES =
      List.of("io.evalfleet.common.contract.", "io.evalfleet.common.archive.");

  record Example(String heading, String type, String json) {}

  @Test
  void everyJsonExampleReadsAsTheRecordItShows() throws Exception {
    List<Example> examples = examples(Files.readAllLines(DOC));
    assertThat(examples).as("json examples in %s", DOC).isNotEmpty();
    ObjectMapper mapper = Json.mapper();
    List<String> failures = new ArrayList<>();
    for (Example example : examples) {
      try {
        Class<?> type = type(example.type());
        String json = example.json().strip();
        if (json.startsWith("\"")) {
          JavaType mapType =
              mapper.getTypeFactory().constructMapType(Map.class, String.class, type);
          mapper.readValue("{" + json + "}", mapType);
        } else {
          mapper.readValue(json, type);
        }
      } catch (Exception e) {
        failures.add(
            "under '" + example.heading() + "' (" + example.type() + "): " + e.getMessage());
      }
    }
    assertThat(failures).as("json examples of %s that do not read", DOC).isEmpty();
  }

  private static List<Example> examples(List<String> lines) {
    List<Example> examples = new ArrayList<>();
    String heading = null;
    String marked = null;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      Matcher marker = MARKER.matcher(line);
      if (line.startsWith("## ")) {
        heading = line.substring(3).strip();
      } else if (marker.find()) {
        marked = marker.group(1);
      } else if (line.strip().equals("```json")) {
        StringBuilder json = new StringBuilder();
        while (!lines.get(++i).strip().equals("```")) {
          json.append(lines.get(i)).append('\n');
        }
        String type = marked != null ? marked : heading == null ? "?" : heading.split("\\s+")[0];
        examples.add(new Example(heading, type, json.toString()));
        marked = null;
      } else if (!line.isBlank()) {
        marked = null;
      }
    }
    return examples;
  }

  private static Class<?> type(String name) {
    for (String pkg : PACKAGES) {
      try {
        return Class.forName(pkg + name);
      } catch (ClassNotFoundException e) {
        // next package
      }
    }
    throw new IllegalArgumentException(
        "no record named "
            + name
            + " in "
            + PACKAGES
            + ": name it in the heading's first word or in a <!-- wire: Type --> line above the block");
  }
}
