package io.evalfleet.laptop.bench;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.PolicyFile;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Sequential against fixed-sample decisions through a real fleet (embedded Kafka, dispatcher,
 * workers): a causal-LM subset, a baseline, then candidates (the baseline's own weights again, and
 * a uniform regression) each staged under the bundled policy with its sequential decisions on, and
 * again with them off. For each, the flag, the rows its verdict rests on, the workers' time (the
 * sum of the durations of every shard they scored for the run, the cancelled run's shards in flight
 * included) and the wall time from staging to the flag.
 */
@Command(
    name = "sequential-fleet",
    header = "Rows scored and time to the flag: sequential vs fixed-sample decisions in one fleet.",
    description =
        "Stages a baseline and two candidates of a byte-level GPT (its own weights again, and its logits sharpened by 1.12: more NLL on every row) on a subset of English text, through the embedded Kafka, a dispatcher and workers, once under the bundled policy with sequential decisions and once with them off; prints, side by side, the flag, the rows scored, the workers' summed shard time and the wall time until the flag.")
public final class SequentialFleetBench implements Callable<Integer> {
  static final Duration WAIT = Duration.ofMinutes(20);

  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--rows",
      defaultValue = "10000",
      description = "Rows of the subset. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--workers",
      defaultValue = "2",
      description = "Workers of the fleet. Default: ${DEFAULT-VALUE}.")
  int workers;

  @Option(
      names = "--shard-rows",
      defaultValue = "256",
      description = "Rows per job, as dispatcher.shard-rows. Default: ${DEFAULT-VALUE}.")
  int shardRows;

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/bench",
      description = "Models, subsets, archive and cache. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  /** One candidate's flag under one policy, and what it cost. */
  record Outcome(
      String policy,
      String candidate,
      DriftFlag flag,
      long rowsScored,
      long workerMillis,
      long wallMillis) {}

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-sequential-fleet"));
    DemoAssets assets = new DemoAssets(workDir.toAbsolutePath());
    SubsetRef subset = assets.englishRows(rows);
    List<Outcome> outcomes = new ArrayList<>();
    for (boolean sequential : new boolean[] {true, false}) {
      outcomes.addAll(run(assets, subset, sequential));
    }
    System.out.printf(
        Locale.ROOT,
        "%n%d rows of English text, %d workers, %d rows per job; perplexity change against the baseline%n",
        rows,
        workers,
        shardRows);
    System.out.printf(
        Locale.ROOT,
        "%-10s %-11s %-6s %-8s %-22s %11s %14s %12s%n",
        "policy",
        "candidate",
        "flag",
        "stopped",
        "perplexity change",
        "rows scored",
        "worker time s",
        "wall time s");
    for (Outcome o : outcomes) {
      MetricValue perplexity = o.flag().metrics().get(MetricNames.PERPLEXITY);
      System.out.printf(
          Locale.ROOT,
          "%-10s %-11s %-6s %-8s %-22s %11d %14.1f %12.1f%n",
          o.policy(),
          o.candidate(),
          o.flag().flag(),
          o.flag().sequential() == null
              ? "-"
              : o.flag().sequential().stopped().name().toLowerCase(Locale.ROOT),
          perplexity == null || perplexity.relativeDelta() == null
              ? "-"
              : String.format(
                  Locale.ROOT,
                  "%+.2f%% [%+.2f, %+.2f]",
                  100 * perplexity.relativeDelta(),
                  100 * perplexity.ciLow(),
                  100 * perplexity.ciHigh()),
          o.rowsScored(),
          o.workerMillis() / 1000.0,
          o.wallMillis() / 1000.0);
    }
    return 0;
  }

  private List<Outcome> run(DemoAssets assets, SubsetRef subset, boolean sequential)
      throws Exception {
    String policy = sequential ? "sequential" : "fixed";
    Path policyFile = workDir.toAbsolutePath().resolve("policy-" + policy + ".json");
    Files.writeString(policyFile, bundledPolicy(sequential));
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.POLICY.key(), policyFile.toString(),
                    FleetConfig.SHARD_ROWS.key(), String.valueOf(shardRows),
                    FleetConfig.REUSE_SCORES.key(), "false",
                    FleetConfig.ARCHIVE_ROOT.key(),
                        workDir
                            .toAbsolutePath()
                            .resolve("archive-" + policy + "-" + UUID.randomUUID())
                            .toUri()
                            .toString(),
                    FleetConfig.INTRA_OP_THREADS.key(), "1"));
    List<Outcome> outcomes = new ArrayList<>();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (LocalFleet fleet =
            LocalFleet.start(config, workers, workDir.toAbsolutePath().resolve("cache"), registry);
        FlagWatcher flags = new FlagWatcher(fleet.config(), true);
        Submitter submitter = new Submitter(fleet.config())) {
      String model = "bench-gpt-" + policy;
      stage(
          submitter,
          flags,
          event(assets, model, "base", DemoAssets.CausalModel.BYTEGPT_BASE, subset));
      Map<String, String> runs = new HashMap<>();
      for (String[] candidate :
          new String[][] {{"no change", "BYTEGPT_BASE"}, {"tempered", "BYTEGPT_TEMPERED"}}) {
        StagedWeightEvent event =
            event(
                assets,
                model,
                candidate[0].replace(' ', '-'),
                DemoAssets.CausalModel.valueOf(candidate[1]),
                subset);
        long started = System.nanoTime();
        DriftFlag flag = stage(submitter, flags, event);
        long wall = (System.nanoTime() - started) / 1_000_000;
        runs.put(flag.runId(), candidate[0]);
        long scored =
            flag.sequential() != null
                ? flag.sequential().rowsScored()
                : flag.coverage().rowsScored();
        outcomes.add(new Outcome(policy, candidate[0], flag, scored, 0, wall));
      }
      // Shards in flight when a run stopped still answer: let them land before counting.
      Thread.sleep(3_000);
      Map<String, Long> workerMillis = workerMillis(fleet.config());
      double skipped =
          registry.find(FleetMeter.JOBS_SKIPPED.meterName()).counters().stream()
              .mapToDouble(Counter::count)
              .sum();
      System.out.printf(
          Locale.ROOT,
          "%s policy: %.0f jobs received by workers after their run stopped, skipped unscored%n",
          policy,
          skipped);
      outcomes.replaceAll(
          o ->
              new Outcome(
                  o.policy(),
                  o.candidate(),
                  o.flag(),
                  o.rowsScored(),
                  workerMillis.getOrDefault(o.flag().runId(), 0L),
                  o.wallMillis()));
    }
    return outcomes;
  }

  private static DriftFlag stage(Submitter submitter, FlagWatcher flags, StagedWeightEvent event)
      throws Exception {
    submitter.submit(event);
    DriftFlag flag = flags.await(event.eventId(), WAIT);
    System.out.printf(
        Locale.ROOT,
        "%s %s: %s%s%n",
        event.model(),
        event.version(),
        flag.flag(),
        flag.sequential() == null
            ? ""
            : " ("
                + flag.sequential().stopped()
                + " after "
                + flag.sequential().rowsScored()
                + " of "
                + flag.sequential().rowsTotal()
                + " rows)");
    return flag;
  }

  static StagedWeightEvent event(
      DemoAssets assets,
      String model,
      String version,
      DemoAssets.CausalModel which,
      SubsetRef subset)
      throws IOException {
    DemoAssets.ModelFiles files = assets.causalModel(which);
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version + "-" + UUID.randomUUID())
        .model(model)
        .version(version)
        .task(Task.CAUSAL_LM)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
        .stride(64)
        .createdAt(Instant.now())
        .build();
  }

  /** The bundled policy, its sequential decisions on or off. */
  public static String bundledPolicy(boolean sequential) throws IOException {
    String json;
    try (InputStream in =
        PolicyFile.class.getClassLoader().getResourceAsStream(PolicyFile.DEFAULT_RESOURCE)) {
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String on = "\"sequential\": { \"enabled\": true";
    if (!json.contains(on)) {
      throw new IllegalStateException(
          "the bundled policy has no '" + on + "': this benchmark needs its sequential settings");
    }
    return sequential ? json : json.replace(on, "\"sequential\": { \"enabled\": false");
  }

  /** Per run, the summed duration of every shard result on the results topic. */
  static Map<String, Long> workerMillis(FleetConfig config) {
    Map<String, Long> millis = new HashMap<>();
    try (KafkaConsumer<String, byte[]> reader = KafkaClients.reader(config, "bench-results")) {
      List<TopicPartition> partitions =
          reader.partitionsFor(Topics.RESULTS, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = reader.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> reader.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
          ShardResult result = Json.read(record.value(), ShardResult.class);
          millis.merge(result.runId(), result.durationMs(), Long::sum);
        }
      }
    }
    return millis;
  }
}
