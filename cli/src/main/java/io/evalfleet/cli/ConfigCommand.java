package io.evalfleet.cli;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.storage.S3aKeys;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "config",
    description = "Print the settings reference, or check and print the effective settings.")
final class ConfigCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;

  @Option(
      names = "--effective",
      description = "Load the settings as a role would and print them, secrets redacted.")
  boolean effective;

  @Option(
      names = "--metrics",
      description = "Print the reference of the Prometheus metrics every role exports.")
  boolean metrics;

  @Override
  public Integer call() throws Exception {
    if (metrics) {
      System.out.print(FleetMeter.markdownReference());
      return 0;
    }
    if (!effective) {
      System.out.print(FleetConfig.markdownReference());
      return 0;
    }
    FleetConfig loaded = config.load();
    // secrets (a SASL configuration, an S3 secret key) are shown as redacted
    loaded.printableSettings().forEach((k, v) -> System.out.println(k + "=" + v));
    S3aKeys.unknown(loaded.hadoopProperties()).forEach(p -> System.err.println("warning: " + p));
    return 0;
  }
}
