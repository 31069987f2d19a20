package io.evalfleet.laptop.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.Evalfleet;
import io.evalfleet.laptop.EvalfleetLaptop;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The README's command list ({@code ## Commands}: one row per command, its name in backticks first,
 * {@code deployable} or {@code laptop} last) names exactly the subcommands of the command line:
 * every one of the laptop build's, and as deployable exactly those of {@code
 * cli/target/evalfleet.jar}.
 */
class CommandListTest {
  @Test
  void readmeListsEveryCommandAndNoOther() throws Exception {
    List<String> problems = new ArrayList<>();
    compare(
        names(EvalfleetLaptop.commandLine()),
        listed(null),
        "evalfleet (the laptop build, ./evalfleet)",
        problems);
    compare(
        names(Evalfleet.commandLine()),
        listed("deployable"),
        "the deployable evalfleet (cli/target/evalfleet.jar)",
        problems);
    assertThat(problems).as("README.md's command list against the command line").isEmpty();
  }

  private static void compare(
      Set<String> actual, Set<String> listed, String what, List<String> problems) {
    for (String name : actual) {
      if (!listed.contains(name)) {
        problems.add("README.md's command list lacks `" + name + "`, a command of " + what);
      }
    }
    for (String name : listed) {
      if (!actual.contains(name)) {
        problems.add(
            "README.md's command list has `" + name + "`, which " + what + " does not have");
      }
    }
  }

  /** The subcommand names of the root command, aliases left out. */
  private static Set<String> names(CommandLine root) {
    Set<String> names = new TreeSet<>();
    root.getSubcommands().values().forEach(sub -> names.add(sub.getCommandSpec().name()));
    return names;
  }

  /** The commands the README lists; with {@code where}, only those whose last cell says it. */
  private static Set<String> listed(String where) throws Exception {
    Set<String> names = new TreeSet<>();
    for (List<String> row : ReadmeSections.tableRows("Commands")) {
      String first = row.get(0);
      assertThat(first)
          .as("the first cell of a README command row: the command in backticks")
          .matches("`[a-z-]+`");
      assertThat(row.get(row.size() - 1))
          .as("where `%s` is, in README.md's command list", first)
          .isIn("deployable", "laptop");
      if (where == null || where.equals(row.get(row.size() - 1))) {
        names.add(first.substring(1, first.length() - 1));
      }
    }
    return names;
  }
}
