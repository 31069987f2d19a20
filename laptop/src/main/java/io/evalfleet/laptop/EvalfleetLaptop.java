package io.evalfleet.laptop;

import io.evalfleet.cli.Evalfleet;
import io.evalfleet.laptop.bench.BenchCommand;
import picocli.CommandLine;

/**
 * The evalfleet command line on a laptop: every deployable command, plus the demo, the local fleet
 * on an embedded broker and the benchmarks. {@code ./evalfleet} runs this.
 */
public final class EvalfleetLaptop {
  private EvalfleetLaptop() {}

  public static void main(String[] args) {
    System.exit(Evalfleet.execute(commandLine(), args));
  }

  /** The deployable command line with the laptop's commands added. */
  public static CommandLine commandLine() {
    return Evalfleet.commandLine()
        .addSubcommand(new DemoCommand())
        .addSubcommand(new MonitorDemoCommand())
        .addSubcommand(new LocalCommand())
        .addSubcommand(new BenchCommand());
  }
}
