package io.evalfleet.laptop.docs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The tables of README.md that tests hold to what the build makes. */
final class ReadmeSections {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path README = ROOT.resolve("README.md");

  private ReadmeSections() {}

  /**
   * The rows of the tables in the README's section headed {@code heading} (a {@code ## } heading,
   * up to the next heading of any level), each as its cells, trimmed; header and separator rows
   * left out.
   *
   * @throws IllegalStateException when the README has no such section or it holds no table rows
   */
  static List<List<String>> tableRows(String heading) throws IOException {
    List<String> lines = Files.readAllLines(README, StandardCharsets.UTF_8);
    int start = lines.indexOf("## " + heading);
    if (start < 0) {
      throw new IllegalStateException("README.md has no section '## " + heading + "'");
    }
    List<List<String>> rows = new ArrayList<>();
    boolean header = true;
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("#")) {
        break;
      }
      if (!line.startsWith("|")) {
        header = true; // a table that follows starts with its own header
        continue;
      }
      if (line.startsWith("|---")) {
        header = false;
        continue;
      }
      if (header) {
        continue;
      }
      String inner = line.substring(1, line.endsWith("|") ? line.length() - 1 : line.length());
      rows.add(Arrays.stream(inner.split("\\|", -1)).map(String::strip).toList());
    }
    if (rows.isEmpty()) {
      throw new IllegalStateException(
          "README.md's section '## " + heading + "' holds no table rows");
    }
    return rows;
  }
}
