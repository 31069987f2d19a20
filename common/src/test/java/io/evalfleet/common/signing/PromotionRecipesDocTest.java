package io.evalfleet.common.signing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The recipes docs/promotion.md quotes are the code its example files run (the files are what the
 * tests run): every quoted line is in the file, in the same order.
 */
class PromotionRecipesDocTest {
  private static final Path DOCS = Path.of("..", "docs");

  @ParameterizedTest
  @CsvSource({"java, examples/VerifyFlag.java", "python, examples/verify_flag.py"})
  void theQuotedRecipeIsTheExampleFilesCode(String language, String example) throws Exception {
    String doc = Files.readString(DOCS.resolve("promotion.md"));
    Matcher block = Pattern.compile("```" + language + "\n(.*?)```", Pattern.DOTALL).matcher(doc);
    assertThat(block.find()).as("docs/promotion.md quotes a %s recipe", language).isTrue();
    List<String> quoted = lines(block.group(1));
    List<String> file = lines(Files.readString(DOCS.resolve(example)));
    int at = 0;
    for (String line : quoted) {
      int found = file.subList(at, file.size()).indexOf(line);
      assertThat(found)
          .as(
              "docs/promotion.md's %s line '%s' is in %s after line %d",
              language, line, example, at)
          .isNotNegative();
      at += found + 1;
    }
    assertThat(quoted).hasSizeGreaterThan(10);
  }

  /** Non-blank lines without their indentation: the quote may be indented less than the file. */
  private static List<String> lines(String text) {
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        lines.add(line.strip());
      }
    }
    return lines;
  }
}
