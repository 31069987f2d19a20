package io.evalfleet.cli;

import io.evalfleet.cli.archive.BaselineHistoryTable;
import io.evalfleet.cli.archive.Promotion;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.signing.FlagKeys;
import io.evalfleet.common.signing.FlagVerifier;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.dispatcher.baseline.BaselineStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "baseline",
    description = "Show, pin or promote a model's production baseline, and show its history.",
    subcommands = {
      BaselineCommand.Show.class,
      BaselineCommand.History.class,
      BaselineCommand.Pin.class,
      BaselineCommand.Promote.class
    })
final class BaselineCommand {
  static EvaluationArchive archive(FleetConfig config) {
    return new EvaluationArchive(Storage.of(config), config.get(FleetConfig.ARCHIVE_ROOT));
  }

  static BaselineStore load(FleetConfig config, KafkaProducer<String, byte[]> producer) {
    BaselineStore store = new BaselineStore(producer);
    try (KafkaConsumer<String, byte[]> reader =
        KafkaClients.reader(config, "evalfleet-baseline-cli")) {
      store.load(reader, Duration.ofSeconds(30));
    }
    return store;
  }

  @Command(
      name = "show",
      description = "The model's current production baseline, from the baselines topic.")
  static final class Show implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(names = "--model", required = true, description = "The model's name.")
    String model;

    @Override
    public Integer call() throws Exception {
      FleetConfig loaded = config.load();
      try (KafkaProducer<String, byte[]> producer =
          KafkaClients.producer(loaded, "evalfleet-baseline-cli")) {
        var production = load(loaded, producer).production(model);
        if (production.isEmpty()) {
          System.out.println("model " + model + " has no production baseline");
          return 0;
        }
        var record = production.get();
        System.out.println(
            "model "
                + model
                + ": production version "
                + record.version()
                + " since "
                + record.recordedAt()
                + (record.commit() == null ? "" : ", commit " + record.commit()));
        record.metrics().forEach((name, value) -> System.out.printf("  %-14s %.4f%n", name, value));
        return 0;
      }
    }
  }

  @Command(
      name = "history",
      description = "The model's production versions over time, with their metrics.")
  static final class History implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(names = "--model", required = true, description = "The model's name.")
    String model;

    @Override
    public Integer call() throws Exception {
      System.out.print(
          BaselineHistoryTable.render(model, archive(config.load()).baselineHistory(model)));
      return 0;
    }
  }

  abstract static class Change implements Callable<Integer> {
    @Mixin ConfigOptions config;

    @Option(names = "--model", required = true, description = "The model's name.")
    String model;

    @Option(
        names = "--version",
        required = true,
        description = "An evaluated version (it has a lockfile in the archive).")
    String version;

    abstract boolean promote();

    boolean force() {
      return false;
    }

    @Override
    public Integer call() throws Exception {
      FleetConfig loaded = config.load();
      FlagVerifier verifier;
      try {
        verifier = FlagVerifier.of(loaded).orElse(null);
      } catch (FlagKeys.KeyFileException e) {
        throw CommandFailure.badInput(
            "cannot verify flags (" + FleetConfig.FLAG_PUBLIC_KEYS.key() + "): " + e.getMessage());
      }
      try (KafkaProducer<String, byte[]> producer =
          KafkaClients.producer(loaded, "evalfleet-baseline-cli")) {
        Promotion.Outcome outcome =
            new Promotion(archive(loaded), load(loaded, producer), Clock.systemUTC(), verifier)
                .apply(model, version, promote(), force());
        System.out.println(
            outcome.reason()
                + (outcome.forced() ? " (forced)" : "")
                + ": model "
                + model
                + " version "
                + version
                + " is now the production baseline"
                + outcome
                    .previous()
                    .map(p -> " (was version " + p.version() + ")")
                    .orElse(" (it had none)"));
        return 0;
      } catch (Promotion.Refused e) {
        String why = "refused: " + e.getMessage();
        // A version that was evaluated but may not be promoted is a finding; one never evaluated, a
        // mistake.
        throw e.finding()
            ? new CommandFailure(ExitCode.PROBLEM_FOUND, why)
            : CommandFailure.badInput(why);
      }
    }
  }

  @Command(
      name = "pin",
      description =
          "Make an evaluated version the production baseline, whatever its flag (not ERROR/INCOMPLETE).")
  static final class Pin extends Change {
    @Override
    boolean promote() {
      return false;
    }
  }

  @Command(
      name = "promote",
      header = "Make a version flagged GREEN the production baseline.",
      description = {
        "With flags.public-keys set, the version's flag archived beside its lockfile must be signed"
            + " by a trusted key and agree with the lockfile."
      })
  static final class Promote extends Change {
    @Option(
        names = "--force",
        description = "Promote a version whose flag was not GREEN (recorded as forced).")
    boolean force;

    @Override
    boolean promote() {
      return true;
    }

    @Override
    boolean force() {
      return force;
    }
  }
}
