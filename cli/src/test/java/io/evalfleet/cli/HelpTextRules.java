package io.evalfleet.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * What help must be to read whole: every command's summary (what the command lists show) one
 * complete sentence that fits a line, every paragraph of a description ending a sentence (no hard
 * wraps), every option and parameter described.
 */
public final class HelpTextRules {
  /**
   * The longest summary that fits a command list beside its command name on an 120-column terminal.
   */
  static final int MAX_SUMMARY = 100;

  private HelpTextRules() {}

  /**
   * Every breach of the rules below {@code line}, one line each, naming the command and the text.
   */
  public static List<String> breaches(CommandLine line) {
    List<String> found = new ArrayList<>();
    collect(line, found);
    return found;
  }

  private static void collect(CommandLine line, List<String> found) {
    CommandSpec spec = line.getCommandSpec();
    String name = spec.qualifiedName();
    String[] header = spec.usageMessage().header();
    String[] description = spec.usageMessage().description();
    String summary = header.length > 0 ? header[0] : description.length > 0 ? description[0] : "";
    if (header.length > 1) {
      found.add(name + ": the summary is " + header.length + " lines; one sentence, please");
    }
    if (!sentence(summary)) {
      found.add(name + ": the summary is not a complete sentence: '" + summary + "'");
    } else if (summary.length() > MAX_SUMMARY) {
      found.add(
          name
              + ": the summary is "
              + summary.length()
              + " characters (at most "
              + MAX_SUMMARY
              + " fit a command list; put the rest in the description): '"
              + summary
              + "'");
    }
    for (String paragraph : description) {
      if (!paragraph.isBlank() && !sentence(paragraph) && !paragraph.endsWith(":")) {
        found.add(
            name + ": a description line ends mid-sentence (a hard wrap?): '" + paragraph + "'");
      }
    }
    for (OptionSpec option : spec.options()) {
      if (!option.hidden() && String.join("", option.description()).isBlank()) {
        found.add(name + ": option " + option.longestName() + " has no description");
      }
    }
    for (PositionalParamSpec parameter : spec.positionalParameters()) {
      if (!parameter.hidden() && String.join("", parameter.description()).isBlank()) {
        found.add(name + ": parameter " + parameter.paramLabel() + " has no description");
      }
    }
    line.getSubcommands()
        .forEach(
            (alias, sub) -> {
              if (sub.getCommandSpec().name().equals(alias)) {
                collect(sub, found);
              }
            });
  }

  private static boolean sentence(String text) {
    String trimmed = text.strip();
    return !trimmed.isEmpty()
        && Character.isUpperCase(trimmed.codePointAt(0))
        && (trimmed.endsWith(".") || trimmed.endsWith(".)") || trimmed.endsWith("?"));
  }
}
