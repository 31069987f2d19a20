package io.evalfleet.cli;

import io.evalfleet.common.config.FleetConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/** Options every command shares: where the settings come from. */
public final class ConfigOptions {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Properties file with evalfleet settings.")
  Path file;

  @Option(
      names = {"-b", "--bootstrap-servers"},
      paramLabel = "HOST:PORT",
      description = "Kafka brokers (same as -D kafka.bootstrap.servers=...).")
  String bootstrapServers;

  @Option(
      names = "-D",
      paramLabel = "KEY=VALUE",
      description = "Override one setting; see `evalfleet config`.")
  Map<String, String> overrides = new LinkedHashMap<>();

  public FleetConfig load() throws IOException {
    Properties properties = new Properties();
    if (file != null) {
      try (Reader reader = Files.newBufferedReader(file)) {
        properties.load(reader);
      }
    }
    Map<String, String> all = new LinkedHashMap<>(overrides);
    if (bootstrapServers != null) {
      all.put(FleetConfig.BOOTSTRAP_SERVERS.key(), bootstrapServers);
    }
    return FleetConfig.load(properties, System.getenv(), all);
  }
}
