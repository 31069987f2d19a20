package io.evalfleet.cli;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.cli.progress.ProgressDisplay;
import io.evalfleet.cli.progress.ProgressWatcher;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "watch", description = "Print drift flags as they are published.")
final class WatchCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;
  @Mixin InteractiveLogging logging;

  @Option(names = "--from-beginning", description = "Start with the flags already on the topic.")
  boolean fromBeginning;

  @Option(names = "--json", description = "Print each flag as one line of JSON.")
  boolean json;

  @Option(
      names = "--for",
      paramLabel = "DURATION",
      description = "Stop after this long (e.g. PT1M); default: run until stopped.")
  Duration duration;

  @Option(
      names = "--no-progress",
      description = "Do not show the progress of runs in progress (on stderr).")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    System.err.println("full log: " + logging.apply("watch"));
    long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    var loaded = config.load();
    try (FlagWatcher watcher = new FlagWatcher(loaded, fromBeginning);
        ProgressWatcher progress = noProgress ? null : new ProgressWatcher(loaded);
        ProgressDisplay display = ProgressDisplay.forConsole(System.err)) {
      while (System.nanoTime() < end) {
        for (DriftFlag flag : watcher.poll(Duration.ofMillis(500))) {
          display.finish(flag.runId());
          System.out.print(
              json ? Json.writeString(flag) + System.lineSeparator() : FlagPrinter.render(flag));
          System.out.flush();
        }
        if (progress != null) {
          progress.poll(Duration.ZERO).forEach(display::show);
        }
      }
    }
    return 0;
  }
}
