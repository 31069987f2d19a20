package io.evalfleet.laptop;

import io.evalfleet.cli.ConfigOptions;
import io.evalfleet.cli.Endpoints;
import io.evalfleet.cli.Shutdown;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.metrics.Observability;
import io.evalfleet.laptop.embedded.LocalFleet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "local",
    header = "Runs an embedded broker, the dispatcher, workers and the notifier until stopped.",
    description =
        "Run an embedded Kafka broker, the dispatcher, workers and the notifier in this process until stopped. The broker listens on a free port of 127.0.0.1; its address is printed and written to --bootstrap-file.")
public final class LocalCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;
  @Mixin InteractiveLogging logging;

  @Option(
      names = "--workers",
      defaultValue = "2",
      description = "Workers to run. Default: ${DEFAULT-VALUE}.")
  int workers;

  @Option(
      names = "--cache-dir",
      defaultValue = ".evalfleet/cache",
      description = "Model cache. Default: ${DEFAULT-VALUE}.")
  Path cacheDir;

  @Option(
      names = "--bootstrap-file",
      defaultValue = ".evalfleet/local/bootstrap.servers",
      description =
          "Where the broker's address is written for other clients. Default: ${DEFAULT-VALUE}.")
  Path bootstrapFile;

  @Override
  public Integer call() throws Exception {
    Path log = logging.apply("local");
    var loaded = config.load();
    Observability observability = new Observability("local");
    LocalFleet fleet = LocalFleet.start(loaded, workers, cacheDir, observability.registry(), true);
    Endpoints.serve(observability, loaded, fleet::alive);
    Files.createDirectories(bootstrapFile.toAbsolutePath().getParent());
    Files.writeString(bootstrapFile, fleet.bootstrapServers() + System.lineSeparator());
    System.out.println("full log: " + log);
    System.out.println("evalfleet local fleet is up with " + workers + " workers.");
    System.out.println(
        "Kafka bootstrap servers: "
            + fleet.bootstrapServers()
            + " (also in "
            + bootstrapFile
            + ")");
    System.out.println(
        "Publish staged events to evalfleet.weights.staged; read flags from evalfleet.drift-flags. Ctrl-C stops.");
    System.out.flush();
    Shutdown.awaitSignal(
        () -> {
          fleet.close();
          observability.close();
          Files.deleteIfExists(bootstrapFile);
        });
    return 0;
  }
}
