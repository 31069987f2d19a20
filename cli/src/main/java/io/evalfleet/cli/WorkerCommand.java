package io.evalfleet.cli;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.metrics.Observability;
import io.evalfleet.worker.WorkerRole;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "worker",
    description = "Run one worker against a Kafka cluster until stopped (SIGTERM or Ctrl-C).")
final class WorkerCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(
      names = "--cache-dir",
      defaultValue = "${sys:user.home}/.evalfleet/cache",
      description = "Where models fetched from remote storage are kept. Default: ${DEFAULT-VALUE}.")
  Path cacheDir;

  @Override
  public Integer call() throws Exception {
    FleetConfig loaded = config.load();
    Observability observability = new Observability("worker");
    WorkerRole role =
        new WorkerRole(
                loaded, loaded.get(FleetConfig.WORKER_ID), cacheDir, observability.registry())
            .start();
    Endpoints.serve(observability, loaded, role::alive);
    Duration drain = loaded.get(FleetConfig.DRAIN_TIMEOUT);
    return Shutdown.awaitSignalOrDeath(role::alive, () -> role.close(drain), observability::close)
        ? 0
        : 1;
  }
}
