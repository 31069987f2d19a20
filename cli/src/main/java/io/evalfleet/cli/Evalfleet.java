package io.evalfleet.cli;

import io.evalfleet.cli.logging.Logging;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine;

/**
 * The deployable evalfleet command line: the roles and the operator commands. The laptop build
 * ({@code io.evalfleet.laptop.EvalfleetLaptop}) adds the demo, the local fleet and the benchmarks.
 */
@Command(name = "evalfleet", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, version = "evalfleet 0.1.0",
    description = "Decides whether newly trained model weights are fit to ship: staged-weight events in, drift flags out.",
    subcommands = {DispatcherCommand.class, WorkerCommand.class, SubmitCommand.class, WatchCommand.class,
        TopicsCommand.class, ConfigCommand.class, BaselineCommand.class, LockCommand.class})
public final class Evalfleet {
  public static void main(String[] args) {
    System.exit(execute(commandLine(), args));
  }

  /** The command line with the deployable subcommands; callers may add more. */
  public static CommandLine commandLine() {
    return new CommandLine(new Evalfleet()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  /** Runs {@code args} on {@code commandLine} with logging set up; returns the exit code. */
  public static int execute(CommandLine commandLine, String[] args) {
    Logging.bridgeJavaUtilLogging();
    return commandLine.execute(args);
  }
}
