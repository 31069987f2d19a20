package io.evalfleet.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.cli.progress.ProgressDisplay;
import io.evalfleet.cli.progress.ProgressWatcher;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.signing.FlagVerifier;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "watch",
    header = "Print drift flags as they are published.",
    description = {
      "With flags.public-keys set, a flag that is not signed by a trusted key is printed as a"
          + " REJECTED line naming why, never as a verdict, and the command exits 1."
    })
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
    boolean anyRejected = false;
    try (FlagWatcher watcher = new FlagWatcher(loaded, fromBeginning);
        ProgressWatcher progress = noProgress ? null : new ProgressWatcher(loaded);
        ProgressDisplay display = ProgressDisplay.forConsole(System.err)) {
      if (!watcher.verifying()) {
        System.err.println(
            "flags are not verified: "
                + FleetConfig.FLAG_PUBLIC_KEYS.key()
                + " names no public key (docs/promotion.md)");
      }
      while (System.nanoTime() < end) {
        for (FlagWatcher.Read read : watcher.read(Duration.ofMillis(500))) {
          anyRejected |= !read.accepted();
          if (read.accepted()) {
            display.finish(read.flag().runId());
          }
          System.out.print(json ? json(read) + System.lineSeparator() : render(read));
          System.out.flush();
        }
        if (progress != null) {
          progress.poll(Duration.ZERO).forEach(display::show);
        }
      }
    }
    // Forged, altered or unsigned flags were on the topic: someone must look.
    return anyRejected ? ExitCode.PROBLEM_FOUND : ExitCode.OK;
  }

  private static String render(FlagWatcher.Read read) {
    if (!read.accepted()) {
      return System.lineSeparator() + read.rejectedLine() + System.lineSeparator();
    }
    String flag = FlagPrinter.render(read.flag());
    return read.verification() instanceof FlagVerifier.Verified verified
        ? flag + "  signed by key " + verified.keyId() + " (verified)" + System.lineSeparator()
        : flag;
  }

  /**
   * One line of JSON: the flag's fields (absent when a rejected record is no flag) and {@code
   * verification}: {@code {"status": "verified", "key_id"}}, {@code {"status": "rejected",
   * "reason", "detail", "model"}}, or {@code {"status": "not_verified"}} without public keys.
   */
  static String json(FlagWatcher.Read read) {
    ObjectNode line =
        read.flag() == null
            ? Json.mapper().createObjectNode()
            : Json.mapper().valueToTree(read.flag());
    ObjectNode verification = line.putObject("verification");
    if (read.verification() == null) {
      verification.put("status", "not_verified");
    } else if (read.verification() instanceof FlagVerifier.Verified verified) {
      verification.put("status", "verified").put("key_id", verified.keyId());
    } else if (read.verification() instanceof FlagVerifier.Rejected rejected) {
      verification
          .put("status", "rejected")
          .put("reason", rejected.reason().wireName())
          .put("detail", rejected.detail())
          .put("model", read.model());
    }
    return line.toString();
  }
}
