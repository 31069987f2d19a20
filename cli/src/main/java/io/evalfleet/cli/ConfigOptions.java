package io.evalfleet.cli;

import io.evalfleet.common.config.FleetConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
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
      description =
          "Override one setting; see `evalfleet config`. Never a secret: the command line is"
              + " visible to every user of the machine (ps); reference one instead, e.g."
              + " -D kafka.ssl.key.password=$${env:KAFKA_KEY_PASSWORD}, or put it in the --config"
              + " file.")
  Map<String, String> overrides = new LinkedHashMap<>();

  /**
   * The settings from the {@code --config} file, the environment and the overrides.
   *
   * @throws IllegalArgumentException if an override holds a secret in clear ({@link
   *     FleetConfig#holdsLiteralSecret}), or the settings are invalid
   */
  public FleetConfig load() throws IOException {
    refuseSecretsOnTheCommandLine(overrides);
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

  /** Refuses {@code -D} overrides that hold a secret in clear, naming only their keys. */
  static void refuseSecretsOnTheCommandLine(Map<String, String> overrides) {
    List<String> keys =
        overrides.entrySet().stream()
            .filter(e -> FleetConfig.holdsLiteralSecret(e.getKey(), e.getValue()))
            .map(Map.Entry::getKey)
            .toList();
    if (!keys.isEmpty()) {
      throw new IllegalArgumentException(
          "a secret on the command line, which every user of the machine can read (ps): -D "
              + String.join(", -D ", keys)
              + ". Reference it instead: ${env:VARIABLE}, ${file:/path/to/file.properties:key}"
              + " or ${dir:/mounted/secret/dir:file} (for a JAAS configuration, in its"
              + " password=\"...\"), or put it in the --config file; see Secrets in"
              + " docs/configuration.md");
    }
  }
}
