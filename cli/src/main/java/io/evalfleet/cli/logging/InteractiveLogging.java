package io.evalfleet.cli.logging;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --verbose} and {@code --log-file} options of interactive commands. */
public final class InteractiveLogging {
  @Option(
      names = {"-v", "--verbose"},
      description = "Show evalfleet's INFO log lines on the console too.")
  boolean verbose;

  @Option(
      names = "--log-file",
      paramLabel = "FILE",
      description = "Where the full log goes. Default: .evalfleet/logs/<command>.log.")
  Path logFile;

  /** Applies the set-up for {@code command}; returns the log file. */
  public Path apply(String command) throws IOException {
    return Logging.interactive(
        logFile != null ? logFile : Path.of(".evalfleet", "logs", command + ".log"), verbose);
  }
}
