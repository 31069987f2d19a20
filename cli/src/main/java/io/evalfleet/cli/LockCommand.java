package io.evalfleet.cli;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.LockDiff;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "lock",
    description = "Read evaluation lockfiles.",
    subcommands = {LockCommand.Diff.class, LockCommand.Show.class})
final class LockCommand {
  /** A lockfile named by model and version (in the archive), or by its path or URI. */
  static EvaluationLock read(FleetConfig config, String model, String versionOrPath)
      throws IOException {
    Storage storage = Storage.of(config);
    if (model != null) {
      EvaluationArchive archive =
          new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT));
      return archive
          .lock(model, versionOrPath)
          .orElseThrow(
              () ->
                  new InputException(
                      "no lockfile for "
                          + model
                          + " "
                          + versionOrPath
                          + " at "
                          + archive.lockPath(model, versionOrPath)));
    }
    String uri =
        versionOrPath.contains(":")
            ? versionOrPath
            : Path.of(versionOrPath).toAbsolutePath().toUri().toString();
    return EvaluationArchive.readLock(storage, uri);
  }

  @Command(
      name = "diff",
      header = "Shows what changed between two evaluations.",
      description =
          "What changed between two evaluations: the inputs (artifact, tokenizer, subset, evaluator, runtime, providers, hardware, windowing, base model, signature, policy), then the metrics.")
  static final class Diff implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(
        names = "--model",
        description = "Name versions of this model in the archive instead of lockfile paths.")
    String model;

    @Parameters(
        index = "0",
        paramLabel = "BEFORE",
        description = "A lockfile path or URI, or a version with --model.")
    String before;

    @Parameters(
        index = "1",
        paramLabel = "AFTER",
        description = "The later lockfile path or URI, or a version with --model.")
    String after;

    @Override
    public Integer call() throws Exception {
      FleetConfig loaded = config.load();
      System.out.print(
          new LockDiff(read(loaded, model, before), read(loaded, model, after)).render());
      return 0;
    }
  }

  @Command(name = "show", description = "Print a lockfile.")
  static final class Show implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(
        names = "--model",
        description = "Name a version of this model in the archive instead of a lockfile path.")
    String model;

    @Parameters(
        index = "0",
        paramLabel = "LOCK",
        description = "A lockfile path or URI, or a version with --model.")
    String lock;

    @Override
    public Integer call() throws Exception {
      System.out.println(
          Json.mapper()
              .writerWithDefaultPrettyPrinter()
              .writeValueAsString(read(config.load(), model, lock)));
      return 0;
    }
  }
}
