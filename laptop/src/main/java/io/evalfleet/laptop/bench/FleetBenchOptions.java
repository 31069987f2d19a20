package io.evalfleet.laptop.bench;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of the benchmarks that run one worker through Kafka next to a bare loop. */
final class FleetBenchOptions {
  @Option(
      names = "--shard-rows",
      defaultValue = "256",
      description =
          "Rows per job, as dispatcher.shard-rows (whose default this is). Default: ${DEFAULT-VALUE}.")
  int shardRows;

  @Option(
      names = "--batch-size",
      defaultValue = "32",
      description =
          "Most sequences per forward pass, as worker.batch-size. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(
      names = "--threads",
      defaultValue = "2",
      description = "ONNX Runtime intra-op threads. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description = "Measured rounds of each, alternating. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/bench",
      description = "Models, subsets and cache. Default: ${DEFAULT-VALUE}.")
  Path workDir;
}
