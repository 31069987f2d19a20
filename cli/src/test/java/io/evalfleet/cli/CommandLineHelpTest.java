package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Every command, nested ones included, answers {@code --help} with its usage and exit code 0. */
class CommandLineHelpTest {
  static Stream<List<String>> commands() {
    List<List<String>> paths = new ArrayList<>();
    collect(Evalfleet.withHelp(Evalfleet.commandLine()), new ArrayList<>(), paths);
    return paths.stream();
  }

  /** The command paths below {@code line}, e.g. {@code [baseline, show]}. */
  static void collect(CommandLine line, List<String> path, List<List<String>> into) {
    into.add(List.copyOf(path));
    line.getSubcommands()
        .forEach(
            (name, sub) -> {
              if (sub.getCommandSpec().name().equals(name)) { // aliases once
                List<String> deeper = new ArrayList<>(path);
                deeper.add(name);
                collect(sub, deeper, into);
              }
            });
  }

  @ParameterizedTest(name = "evalfleet {0} --help")
  @MethodSource("commands")
  void answersHelp(List<String> path) {
    assertThat(help(Evalfleet.withHelp(Evalfleet.commandLine()), path))
        .contains("Usage: evalfleet" + (path.isEmpty() ? "" : " " + String.join(" ", path)));
  }

  @org.junit.jupiter.api.Test
  void everyHelpReadsWhole() {
    assertThat(HelpTextRules.breaches(Evalfleet.withHelp(Evalfleet.commandLine()))).isEmpty();
  }

  @org.junit.jupiter.api.Test
  void everyHelpListsTheExitCodes() {
    CommandLine line = Evalfleet.withExitCodes(Evalfleet.withHelp(Evalfleet.commandLine()));
    List<List<String>> paths = new ArrayList<>();
    collect(line, new ArrayList<>(), paths);
    for (List<String> path : paths) {
      assertThat(help(line, path))
          .as("%s --help", path)
          .contains("Exit codes:", "0   Done", "2   Bad usage or input", "4   A bug in evalfleet");
    }
  }

  /** The output of {@code <path> --help}; fails unless it exits with 0. */
  public static String help(CommandLine line, List<String> path) {
    StringWriter out = new StringWriter();
    line.setOut(new PrintWriter(out));
    List<String> args = new ArrayList<>(path);
    args.add("--help");
    assertThat(line.execute(args.toArray(String[]::new)))
        .as("exit code of %s --help", path)
        .isZero();
    return out.toString();
  }
}
