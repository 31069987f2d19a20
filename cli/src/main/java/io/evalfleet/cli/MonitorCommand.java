package io.evalfleet.cli;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.metrics.Observability;
import io.evalfleet.monitor.MonitorRole;
import io.evalfleet.monitor.MonitorSpec;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "monitor",
    header = "Runs the monitor of one production model until stopped, or checks one window.",
    description =
        "Run the monitor of one production model until stopped (SIGTERM or Ctrl-C): on the spec's schedule, a sample of the traffic window that just ended, embedded by the model, is tested against the reference window (MMD² permutation test); results go to evalfleet.monitor and the archive, and each retraining cause (a drift episode, an expired cadence period) to evalfleet.retrain-requests, once. With --at: one check of the window ending then, printed, and exit (1 when it drifted).")
final class MonitorCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(
      names = "--spec",
      required = true,
      description = "The monitor spec (JSON): model, traffic, windows, schedule.")
  Path spec;

  @Option(
      names = "--at",
      description = "Check the window ending at this instant (e.g. 2026-12-01T10:00:00Z) once.")
  Instant at;

  @Option(
      names = "--cache-dir",
      defaultValue = "${sys:user.home}/.evalfleet/cache",
      description = "Where models fetched from remote storage are kept. Default: ${DEFAULT-VALUE}.")
  Path cacheDir;

  /**
   * With --at the command is one a person runs: its log goes to a file, its result alone to stdout.
   */
  @Mixin InteractiveLogging logging;

  @Override
  public Integer call() throws Exception {
    if (at != null) {
      System.err.println("full log: " + logging.apply("monitor"));
    }
    FleetConfig loaded = config.load();
    MonitorSpec monitored = MonitorSpec.read(spec);
    Observability observability = new Observability("monitor");
    MonitorRole role =
        new MonitorRole(loaded, monitored, cacheDir, observability.registry(), Clock.systemUTC());
    if (at != null) {
      try (role;
          observability) {
        MonitorResult result = role.checkAt(at);
        System.out.println(result.evidence());
        return result.drifted() ? 1 : 0;
      }
    }
    role.start();
    Endpoints.serve(observability, loaded, role::alive);
    return Shutdown.awaitSignalOrDeath(role::alive, role::close, observability::close) ? 0 : 1;
  }
}
