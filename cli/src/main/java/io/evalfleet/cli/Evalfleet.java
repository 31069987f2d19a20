package io.evalfleet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The evalfleet command line. */
@Command(name = "evalfleet", mixinStandardHelpOptions = true, version = "evalfleet 0.1.0",
    description = "Decides whether newly trained model weights are fit to ship: staged-weight events in, drift flags out.",
    subcommands = {DemoCommand.class, LocalCommand.class, DispatcherCommand.class, WorkerCommand.class,
        SubmitCommand.class, WatchCommand.class, TopicsCommand.class, ConfigCommand.class, BaselineCommand.class,
        LockCommand.class,
        io.evalfleet.cli.bench.BenchCommand.class})
public final class Evalfleet {
  public static void main(String[] args) {
    int code = new CommandLine(new Evalfleet()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    System.exit(code);
  }
}
