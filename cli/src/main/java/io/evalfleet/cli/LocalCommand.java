package io.evalfleet.cli;

import io.evalfleet.cli.embedded.LocalFleet;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "local", description = "Run an embedded Kafka broker, the dispatcher and workers in this process until stopped.")
final class LocalCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(names = "--port", defaultValue = "9092", description = "Client port of the embedded broker on 127.0.0.1 (0: any). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--workers", defaultValue = "2", description = "Workers to run. Default: ${DEFAULT-VALUE}.")
  int workers;

  @Option(names = "--cache-dir", defaultValue = ".evalfleet/cache", description = "Model cache. Default: ${DEFAULT-VALUE}.")
  Path cacheDir;

  @Override
  public Integer call() throws Exception {
    LocalFleet fleet = LocalFleet.start(config.load(), port, workers, cacheDir);
    System.out.println("evalfleet local fleet is up: Kafka at " + fleet.bootstrapServers() + ", " + workers
        + " workers. Publish staged events to evalfleet.weights.staged; read flags from evalfleet.drift-flags. Ctrl-C stops.");
    Shutdown.awaitSignal(fleet::close);
    return 0;
  }
}
