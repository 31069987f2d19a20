package io.evalfleet.cli;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.cli.logging.Logging;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The deployable evalfleet command line: the roles and the operator commands. The laptop build
 * ({@code io.evalfleet.laptop.EvalfleetLaptop}) adds the demo, the local fleet and the benchmarks.
 */
@Command(
    name = "evalfleet",
    mixinStandardHelpOptions = true,
    version = "evalfleet 0.1.0",
    header = "Decides whether newly trained model weights are fit to ship.",
    description =
        "Staged-weight events in, drift flags out: a dispatcher, a fleet of workers and a notifier on Kafka, and the commands around them.",
    subcommands = {
      DispatcherCommand.class,
      WorkerCommand.class,
      SubmitCommand.class,
      WatchCommand.class,
      TopicsCommand.class,
      ConfigCommand.class,
      BaselineCommand.class,
      LockCommand.class,
      InspectCommand.class,
      NoiseFloorCommand.class,
      NotifierCommand.class,
      ReportCommand.class,
      HistoryCommand.class,
      SubsetCommand.class,
      MonitorCommand.class,
      KeysCommand.class
    })
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
    CommandErrors errors = new CommandErrors();
    commandLine.setExecutionExceptionHandler(errors);
    commandLine.setParameterExceptionHandler(errors);
    commandLine.setExecutionStrategy(Evalfleet::runWithLogging);
    withExitCodes(commandLine);
    return withHelp(commandLine).execute(args);
  }

  /** Commands that run until stopped and log JSON lines on stdout, for a log collector. */
  private static final Set<String> ROLES = Set.of("dispatcher", "worker", "notifier", "monitor");

  /**
   * Runs the command that was asked for. A command for a person (all but the roles, and {@code
   * monitor --at}) logs to {@code .evalfleet/logs/<command>.log}, with only warnings on the
   * console, unless it sets up its logging itself ({@link InteractiveLogging}).
   */
  private static int runWithLogging(ParseResult parsed) {
    ParseResult leaf = parsed;
    while (leaf.subcommand() != null) {
      leaf = leaf.subcommand();
    }
    boolean help = false;
    for (ParseResult level = parsed; level != null; level = level.subcommand()) {
      help |= level.isUsageHelpRequested() || level.isVersionHelpRequested();
    }
    CommandSpec spec = leaf.commandSpec();
    boolean role = ROLES.contains(spec.name()) && !leaf.hasMatchedOption("--at");
    boolean ownLogging =
        spec.mixins().values().stream().anyMatch(m -> m.userObject() instanceof InteractiveLogging);
    if (!help && !role && !ownLogging && spec.userObject() instanceof Callable<?>) {
      try {
        Logging.interactive(
            Path.of(
                ".evalfleet",
                "logs",
                spec.qualifiedName("-").replaceFirst("^evalfleet-", "") + ".log"),
            false);
      } catch (IOException e) {
        // no log file here (a read-only directory): the console set-up stays
      }
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** Lists the {@link ExitCode}s at the end of every command's help. */
  static CommandLine withExitCodes(CommandLine line) {
    line.getCommandSpec()
        .usageMessage()
        .exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(ExitCode.helpList());
    line.getSubcommands().values().forEach(Evalfleet::withExitCodes);
    return line;
  }

  /**
   * Gives every command below {@code line} a {@code -h, --help} option. (picocli's inherited
   * standard options would also add {@code --version}, which {@code submit} and {@code baseline
   * pin} use for a model's version.)
   */
  public static CommandLine withHelp(CommandLine line) {
    CommandSpec spec = line.getCommandSpec();
    if (spec.findOption("--help") == null) {
      spec.addOption(
          OptionSpec.builder("-h", "--help")
              .usageHelp(true)
              .description("Show this help and exit.")
              .build());
    }
    line.getSubcommands().values().forEach(Evalfleet::withHelp);
    return line;
  }
}
