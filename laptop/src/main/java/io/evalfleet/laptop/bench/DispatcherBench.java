package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.process.ProcessMemory;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.DispatcherRole;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The dispatcher alone, on an embedded broker with exactly-once processing: a stand-in worker
 * answers every job at once with synthetic scores, so what is measured is the dispatcher's own
 * throughput (jobs planned and published, results aggregated) and the delay from a run's last shard
 * result to its flag; then one model's two versions on a large subset, whose decision time (the
 * statistics off the stream thread) is printed.
 */
@Command(
    name = "dispatcher",
    header = "Times the dispatcher's intake, jobs, results and decisions with a stand-in worker.",
    description =
        "Time the dispatcher on an embedded broker with a stand-in worker that answers at once: jobs and results per second over many runs, the delay from a run's last result to its flag, and the decision of a large subset.")
public final class DispatcherBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--models",
      defaultValue = "10",
      description =
          "Models, each staged as two versions (the first pinned, the second compared). Default: ${DEFAULT-VALUE}.")
  int models;

  @Option(
      names = "--rows",
      defaultValue = "20000",
      description = "Rows of the subset of the throughput runs. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--shard-rows",
      defaultValue = "20",
      description =
          "Rows per job in the throughput runs (small: many jobs). Default: ${DEFAULT-VALUE}.")
  int shardRows;

  @Option(
      names = "--max-in-flight",
      defaultValue = "4000",
      description = "dispatcher.max-jobs-in-flight. Default: ${DEFAULT-VALUE}.")
  int maxInFlight;

  @Option(
      names = "--large-rows",
      defaultValue = "1000000",
      description = "Rows of the large subset (0: skip it). Default: ${DEFAULT-VALUE}.")
  int largeRows;

  @Option(
      names = "--large-shard-rows",
      defaultValue = "10000",
      description = "Rows per job of the large subset. Default: ${DEFAULT-VALUE}.")
  int largeShardRows;

  @Option(
      names = "--gold",
      defaultValue = "false",
      description =
          "Give the large subset gold scores, so Spearman is bootstrapped too (slow at a million rows). Default: ${DEFAULT-VALUE}.")
  boolean gold;

  @Option(
      names = "--intake-events",
      defaultValue = "20",
      description =
          "Events staged one at a time to time staging to first job (0: skip). Default: ${DEFAULT-VALUE}.")
  int intakeEvents;

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/bench/dispatcher",
      description = "Subsets, archive and state. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-dispatcher"));
    Files.createDirectories(workDir);
    Path archive = Files.createTempDirectory(workDir, "archive");
    Path state = Files.createTempDirectory(workDir, "state");
    try (EmbeddedKafka kafka = EmbeddedKafka.start(12)) {
      SubsetRef small = subset("small-" + rows + ".parquet", rows);
      System.out.printf(
          Locale.ROOT,
          "throughput: %d models x 2 versions, %d rows each in jobs of %d rows (%d jobs)%n",
          models,
          rows,
          shardRows,
          2L * models * ((rows + shardRows - 1) / shardRows));
      Measured throughput = measure(kafka, archive, state, small, shardRows, models, "tp", false);
      System.out.printf(
          Locale.ROOT,
          "  %d jobs planned and published in %.2f s: %.0f jobs/s%n",
          throughput.jobs,
          throughput.publishedSeconds,
          throughput.jobs / throughput.publishedSeconds);
      System.out.printf(
          Locale.ROOT,
          "  %d results aggregated by %.2f s after staging: %.0f results/s (the stand-in"
              + " worker answers as jobs arrive)%n",
          throughput.results,
          throughput.aggregatedSeconds,
          throughput.results / throughput.aggregatedSeconds);
      System.out.printf(
          Locale.ROOT,
          "  every run flagged %.1f s after staging; last shard result to flag: median %d ms,"
              + " max %d ms (%d runs; decisions of one task run one at a time)%n",
          throughput.seconds,
          throughput.medianDelayMs(),
          throughput.maxDelayMs(),
          throughput.delays.size());
      System.out.printf(
          Locale.ROOT,
          "  decision of one run (%d rows, mean cosine): longest %d ms%n",
          rows,
          throughput.decisionMs.get());
      if (largeRows > 0) {
        SubsetRef large = subset("large-" + largeRows + ".parquet", largeRows);
        System.out.printf(
            Locale.ROOT,
            "large subset: 1 model x 2 versions, %d rows in jobs of %d rows (%s)%n",
            largeRows,
            largeShardRows,
            gold ? "cosine and gold: mean cosine and Spearman" : "cosine only: mean cosine");
        Measured big = measure(kafka, archive, state, large, largeShardRows, 1, "big", gold);
        System.out.printf(
            Locale.ROOT,
            "  both versions flagged in %.1f s; last shard result to flag: %s ms%n",
            big.seconds,
            big.delays.values());
        System.out.printf(
            Locale.ROOT,
            "  decision (metric vector, bootstrap, archive) of the compared version: %d ms%n",
            big.decisionMs.get());
        System.out.printf(
            Locale.ROOT,
            "  this JVM's peak heap (broker, dispatcher and stand-in worker): %d MiB%n",
            ProcessMemory.peakHeapBytes() >> 20);
      }
      if (intakeEvents > 0) {
        long[] latencies = intake(kafka, archive, state, subset("intake-40.parquet", 40));
        System.out.printf(
            Locale.ROOT,
            "intake: %d events staged one at a time, staging to first job published:"
                + " median %d ms, p90 %d ms, max %d ms%n",
            latencies.length,
            latencies[latencies.length / 2],
            latencies[(int) (latencies.length * 0.9)],
            latencies[latencies.length - 1]);
      }
    }
    return 0;
  }

  private static final class Measured {
    long jobs;
    long results;
    double seconds;
    double publishedSeconds;
    double aggregatedSeconds;
    final Map<String, Long> delays = new TreeMap<>();
    final AtomicLong decisionMs = new AtomicLong();

    long medianDelayMs() {
      return delays.values().stream().sorted().skip(delays.size() / 2).findFirst().orElse(-1L);
    }

    long maxDelayMs() {
      return delays.values().stream().mapToLong(Long::longValue).max().orElse(-1);
    }
  }

  /**
   * @param sendGold whether the stand-in worker returns gold scores (then Spearman is decided too)
   */
  private Measured measure(
      EmbeddedKafka kafka,
      Path archive,
      Path state,
      SubsetRef subset,
      int jobRows,
      int count,
      String prefix,
      boolean sendGold)
      throws Exception {
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.BOOTSTRAP_SERVERS.key(),
                    kafka.bootstrapServers(),
                    FleetConfig.ARCHIVE_ROOT.key(),
                    archive.toUri().toString(),
                    FleetConfig.DISPATCHER_STATE_DIR.key(),
                    state.resolve(prefix).toString(),
                    FleetConfig.SHARD_ROWS.key(),
                    Integer.toString(jobRows),
                    FleetConfig.MAX_IN_FLIGHT.key(),
                    Integer.toString(maxInFlight),
                    FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(),
                    Integer.toString(maxInFlight),
                    FleetConfig.REUSE_SCORES.key(),
                    "false",
                    FleetConfig.RUN_DEADLINE.key(),
                    "PT1H"));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Measured measured = new Measured();
    Map<String, Long> lastResultAt = new ConcurrentHashMap<>();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong results = new AtomicLong();
    Thread worker =
        new Thread(
            () -> standInWorker(config, sendGold, running, results, lastResultAt),
            "stand-in-worker");
    try (DispatcherRole dispatcher =
        new DispatcherRole(config, Clock.systemUTC(), registry).start()) {
      worker.start();
      List<StagedWeightEvent> events = new ArrayList<>();
      for (int m = 0; m < count; m++) {
        for (String version : List.of("v1", "v2")) {
          events.add(event(prefix + "-" + m, version, subset));
        }
      }
      await(dispatcher);
      long started = System.nanoTime();
      long expectedJobs = 0;
      try (KafkaProducer<String, byte[]> producer = KafkaClients.producer(config, "bench-stager");
          KafkaConsumer<String, byte[]> flags =
              FleetJobs.readerAtEnd(config, "bench-flags", Topics.DRIFT_FLAGS)) {
        for (StagedWeightEvent event : events) {
          producer.send(new ProducerRecord<>(Topics.STAGED, event.model(), Json.write(event)));
        }
        producer.flush();
        Map<String, DriftFlag> seen = new HashMap<>();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
        var published = registry.find(FleetMeter.JOBS_PUBLISHED.meterName()).counters();
        var accepted = registry.find(FleetMeter.RESULTS_ACCEPTED.meterName()).counter();
        long jobsPerRun = (subsetRows(subset) + jobRows - 1) / jobRows;
        expectedJobs = jobsPerRun * events.size();
        while (seen.size() < events.size() && System.nanoTime() < deadline) {
          double jobsSoFar = published.stream().mapToDouble(c -> c.count()).sum();
          if (measured.publishedSeconds == 0 && jobsSoFar >= expectedJobs) {
            measured.publishedSeconds = (System.nanoTime() - started) / 1e9;
          }
          if (measured.aggregatedSeconds == 0 && accepted.count() >= expectedJobs) {
            measured.aggregatedSeconds = (System.nanoTime() - started) / 1e9;
          }
          for (ConsumerRecord<String, byte[]> record : flags.poll(Duration.ofMillis(100))) {
            DriftFlag flag = Json.read(record.value(), DriftFlag.class);
            long now = System.nanoTime();
            if (seen.putIfAbsent(flag.runId(), flag) == null
                && lastResultAt.containsKey(flag.runId())) {
              measured.delays.put(
                  flag.model() + " " + flag.version(),
                  (now - lastResultAt.get(flag.runId())) / 1_000_000);
            }
          }
        }
        measured.seconds = (System.nanoTime() - started) / 1e9;
        if (seen.size() < events.size()) {
          throw new IllegalStateException(
              seen.size() + " of " + events.size() + " runs flagged within 30 minutes");
        }
        for (DriftFlag flag : seen.values()) {
          if (flag.flag() == Flag.ERROR || flag.flag() == Flag.INCOMPLETE) {
            throw new IllegalStateException(
                "run " + flag.runId() + " ended " + flag.flag() + ": " + flag.reasons());
          }
        }
      }
      measured.jobs =
          (long)
              registry.find(FleetMeter.JOBS_PUBLISHED.meterName()).counters().stream()
                  .mapToDouble(c -> c.count())
                  .sum();
      measured.results =
          (long) registry.find(FleetMeter.RESULTS_ACCEPTED.meterName()).counter().count();
      var decisions = registry.find(FleetMeter.DECISION_DURATION.meterName()).timer();
      measured.decisionMs.set(decisions == null ? -1 : (long) decisions.max(TimeUnit.MILLISECONDS));
    } finally {
      running.set(false);
      worker.join(10_000);
    }
    return measured;
  }

  /**
   * Stages events one at a time, each for a new model, and times each from its send to its first
   * job on the jobs topic: what a pipeline waits before scoring starts (intake, pre-flight,
   * planning, and the repartition of staged events by model). Sorted.
   */
  private long[] intake(EmbeddedKafka kafka, Path archive, Path state, SubsetRef subset)
      throws Exception {
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.BOOTSTRAP_SERVERS.key(),
                    kafka.bootstrapServers(),
                    FleetConfig.ARCHIVE_ROOT.key(),
                    archive.toUri().toString(),
                    FleetConfig.DISPATCHER_STATE_DIR.key(),
                    state.resolve("intake").toString(),
                    FleetConfig.REUSE_SCORES.key(),
                    "false"));
    long[] latencies = new long[intakeEvents];
    try (DispatcherRole dispatcher =
            new DispatcherRole(config, Clock.systemUTC(), new SimpleMeterRegistry()).start();
        KafkaProducer<String, byte[]> producer = KafkaClients.producer(config, "bench-intake");
        // As workers read jobs: only once the dispatcher's transaction has committed them.
        KafkaConsumer<String, byte[]> jobs =
            FleetJobs.readerAtEnd(
                config.with(Map.of("kafka.isolation.level", "read_committed")),
                "bench-intake-jobs",
                Topics.JOBS)) {
      await(dispatcher);
      for (int i = 0; i < intakeEvents; i++) {
        StagedWeightEvent event = event("intake-" + i, "v1", subset);
        long sent = System.nanoTime();
        producer.send(new ProducerRecord<>(Topics.STAGED, event.model(), Json.write(event))).get();
        long deadline = sent + TimeUnit.MINUTES.toNanos(2);
        boolean found = false;
        while (!found && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, byte[]> record : jobs.poll(Duration.ofMillis(5))) {
            found |= Json.read(record.value(), ScoringJob.class).model().equals(event.model());
          }
        }
        if (!found) {
          throw new IllegalStateException(
              "no job of " + event.model() + " within 2 minutes of staging");
        }
        latencies[i] = (System.nanoTime() - sent) / 1_000_000;
      }
    }
    Arrays.sort(latencies);
    return latencies;
  }

  /** Waits until the dispatcher owns its partitions. */
  private static void await(DispatcherRole dispatcher) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (!dispatcher.running() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  private long subsetRows(SubsetRef subset) throws IOException {
    return GoldenSubsetFile.readFooter(Storage.withDefaults(), subset.uri()).rowCount();
  }

  /** Answers every job at once: cosine from the version and row, gold the row's own. */
  private static void standInWorker(
      FleetConfig config,
      boolean sendGold,
      AtomicBoolean running,
      AtomicLong results,
      Map<String, Long> lastResultAt) {
    try (KafkaConsumer<String, byte[]> jobs =
            KafkaClients.consumer(config, "bench-workers", "stand-in", 2000);
        KafkaProducer<String, byte[]> producer = KafkaClients.producer(config, "stand-in")) {
      jobs.subscribe(List.of(Topics.JOBS));
      while (running.get()) {
        var records = jobs.poll(Duration.ofMillis(50));
        for (ConsumerRecord<String, byte[]> record : records) {
          ScoringJob job = Json.read(record.value(), ScoringJob.class);
          double[] cosine = new double[job.rowCount()];
          double[] goldScores = new double[job.rowCount()];
          double shift = job.version().equals("v1") ? 0 : 0.0005;
          for (int i = 0; i < cosine.length; i++) {
            long row = job.rowStart() + i;
            goldScores[i] = (row % 26) / 5.0;
            cosine[i] = 0.1 + 0.17 * goldScores[i] + ((row * 7919) % 1000) / 20000.0 + shift;
          }
          ShardResult result =
              ShardResult.answering(job)
                  .values(
                      sendGold
                          ? Map.of("cosine", cosine, "gold", goldScores)
                          : Map.of("cosine", cosine))
                  .workerId("stand-in")
                  .executionProvider("cpu")
                  .durationMs(0)
                  .attempt(job.attempt())
                  .build();
          producer.send(new ProducerRecord<>(Topics.RESULTS, job.model(), Json.write(result)));
          lastResultAt.put(job.runId(), System.nanoTime());
          results.incrementAndGet();
        }
        if (!records.isEmpty()) {
          producer.flush();
          jobs.commitSync();
        }
      }
    }
  }

  private SubsetRef subset(String name, int count) throws Exception {
    Path file = workDir.resolve(name);
    if (!Files.exists(file)) {
      List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        pairs.add(new GoldenSubsetWriter.Pair(i, "a" + i, "b" + i, (i % 26) / 5.0));
      }
      GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs, 64L << 20);
    }
    String uri = file.toUri().toString();
    return new SubsetRef(uri, Storage.withDefaults().sha256(uri), null, Map.of());
  }

  private StagedWeightEvent event(String model, String version, SubsetRef subset) throws Exception {
    Path artifact = workDir.resolve("stand-in-" + version + ".onnx");
    if (!Files.exists(artifact)) {
      Files.writeString(artifact, "stand-in weights " + version);
    }
    Path tokenizer = workDir.resolve("stand-in-tokenizer.json");
    if (!Files.exists(tokenizer)) {
      Files.writeString(tokenizer, "{}");
    }
    String a = artifact.toUri().toString();
    String t = tokenizer.toUri().toString();
    return StagedWeightEvent.builder()
        .eventId("bench-" + model + "-" + version + "-" + System.nanoTime())
        .model(model)
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(new ArtifactRef(a, Storage.withDefaults().sha256(a)))
        .tokenizer(new ArtifactRef(t, Storage.withDefaults().sha256(t)))
        .goldenSubset(subset)
        .createdAt(Instant.now())
        .build();
  }
}
