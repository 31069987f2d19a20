package io.evalfleet.cli;

import io.evalfleet.cli.logging.Logging;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * The deployable evalfleet command line: the roles and the operator commands. The laptop build
 * ({@code io.evalfleet.laptop.EvalfleetLaptop}) adds the demo, the local fleet and the benchmarks.
 */
@Command(name = "evalfleet", mixinStandardHelpOptions = true, version = "evalfleet 0.1.0",
    description = "Decides whether newly trained model weights are fit to ship: staged-weight events in, drift flags out.",
    subcommands = {DispatcherCommand.class, WorkerCommand.class, SubmitCommand.class, WatchCommand.class,
        TopicsCommand.class, ConfigCommand.class, BaselineCommand.class, LockCommand.class, InspectCommand.class,
        NotifierCommand.class, ReportCommand.class, HistoryCommand.class, SubsetCommand.class, MonitorCommand.class})
public final class Evalfleet {
  public static void main(String[] args) {
    System.exit(execute(commandLine(), args));
  }

  /** The command line with the deployable subcommands; callers may add more. */
  public static CommandLine commandLine() {
    return new CommandLine(new Evalfleet()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  /**
   * Runs {@code args} on {@code commandLine} with logging set up; returns the exit code. Every
   * command, including those added by the caller, answers {@code -h}/{@code --help}.
   */
  public static int execute(CommandLine commandLine, String[] args) {
    Logging.bridgeJavaUtilLogging();
    // Settings that fail validation say every problem in words; a stack trace adds nothing to them.
    commandLine.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof IllegalArgumentException && e.getMessage() != null && e.getMessage().startsWith("invalid ")) {
        line.getErr().println(e.getMessage());
        return 2;
      }
      throw e;
    });
    return withHelp(commandLine).execute(args);
  }

  /**
   * Gives every command below {@code line} a {@code -h, --help} option. (picocli's inherited
   * standard options would also add {@code --version}, which {@code submit} and {@code baseline pin}
   * use for a model's version.)
   */
  public static CommandLine withHelp(CommandLine line) {
    CommandSpec spec = line.getCommandSpec();
    if (spec.findOption("--help") == null) {
      spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help and exit.").build());
    }
    line.getSubcommands().values().forEach(Evalfleet::withHelp);
    return line;
  }
}
