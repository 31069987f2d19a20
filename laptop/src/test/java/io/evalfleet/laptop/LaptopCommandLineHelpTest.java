package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.Evalfleet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The laptop's own commands answer {@code --help} too, without starting anything. */
class LaptopCommandLineHelpTest {
  @ParameterizedTest(name = "evalfleet {0} --help")
  @ValueSource(
      strings = {
        "demo",
        "demo-monitor",
        "local",
        "bench",
        "bench perplexity",
        "bench worker",
        "bench causal-worker",
        "bench retrieval",
        "bench nll-head",
        "bench bootstrap",
        "bench sequential",
        "bench sequential-fleet",
        "bench decide-million",
        "bench storage",
        "submit",
        "inspect"
      })
  void answersHelp(String command) {
    StringWriter out = new StringWriter();
    var line = Evalfleet.withHelp(EvalfleetLaptop.commandLine());
    line.setOut(new PrintWriter(out));
    List<String> args = new java.util.ArrayList<>(List.of(command.split(" ")));
    args.add("--help");
    assertThat(line.execute(args.toArray(String[]::new))).isZero();
    assertThat(out.toString()).contains("Usage: evalfleet " + command);
  }

  @org.junit.jupiter.api.Test
  void everyHelpReadsWhole() {
    assertThat(
            io.evalfleet.cli.HelpTextRules.breaches(
                Evalfleet.withHelp(EvalfleetLaptop.commandLine())))
        .isEmpty();
  }
}
