package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.monitor.MonitorSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * A fleet of real processes for fault and load tests: one broker, dispatchers and workers started
 * from the packaged jar, the demo's MiniLM model, and ways to stage events and read what came out.
 */
final class FleetHarness implements AutoCloseable {
  /** Short enough that a killed worker's partitions move on within seconds. */
  private static final List<String> FAST_FAILOVER =
      List.of("-D", "kafka.session.timeout.ms=6000", "-D", "kafka.heartbeat.interval.ms=1000");

  final Path dir;
  final BrokerProcess broker;
  final FleetConfig config;
  private final DemoAssets assets;
  private final List<FleetProcess> processes = new ArrayList<>();
  private DemoAssets.ModelFiles minilm;

  private FleetHarness(Path dir, BrokerProcess broker) {
    this.dir = dir;
    this.broker = broker;
    this.config =
        FleetConfig.defaults()
            .with(Map.of(FleetConfig.BOOTSTRAP_SERVERS.key(), broker.bootstrapServers()));
    this.assets = new DemoAssets(dir.resolve("assets"));
  }

  static FleetHarness start(Path dir, int jobPartitions) throws Exception {
    Files.createDirectories(dir.resolve("broker"));
    Files.createDirectories(dir.resolve("logs"));
    return new FleetHarness(dir, BrokerProcess.start(dir.resolve("broker"), jobPartitions));
  }

  /**
   * A dispatcher cutting runs into small jobs (40 rows), so that every run has several in flight.
   */
  /** A free TCP port on this host, e.g. for a role's metrics endpoint. */
  static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  FleetProcess dispatcher(String name, String... settings) throws Exception {
    return dispatcherWithHeap(name, "512m", settings);
  }

  FleetProcess dispatcherWithHeap(String name, String heap, String... settings) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-D",
                "dispatcher.shard-rows=40",
                "-D",
                "archive.root=" + dir.resolve("archive").toUri(),
                "-D",
                "dispatcher.state-dir=" + dir.resolve("state-" + name),
                "-D",
                "dispatcher.session-timeout=PT6S"));
    args.addAll(List.of(settings));
    return role(name, heap, List.of(), "dispatcher", args);
  }

  FleetProcess worker(String name, String heap, String... settings) throws Exception {
    return worker(name, name, heap, List.of(), settings);
  }

  /**
   * A worker with id {@code id} (its static group member id) logging to {@code logName}: a worker
   * restarted after a kill has the id of the one it replaces and a log of its own.
   */
  FleetProcess worker(
      String id, String logName, String heap, List<String> jvmArgs, String... settings)
      throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of(
                "-D",
                "worker.id=" + id,
                "-D",
                "worker.intra-op-threads=1",
                "--cache-dir",
                dir.resolve("cache-" + id).toString()));
    args.addAll(List.of(settings));
    return role(logName, heap, jvmArgs, "worker", args);
  }

  /** The notifier, writing reviews into this fleet's archive. */
  FleetProcess notifier(String name, String... settings) throws Exception {
    List<String> args =
        new ArrayList<>(List.of("-D", "archive.root=" + dir.resolve("archive").toUri()));
    args.addAll(List.of(settings));
    return role(name, "256m", List.of(), "notifier", args);
  }

  /**
   * A monitor of the demo's fp32 MiniLM on synthetic support-chat traffic of the last ten hours,
   * whose last two hours are shifted (the checks, every two seconds on the last hour, find drift),
   * against its first six hours.
   */
  FleetProcess monitor(String name, String... settings) throws Exception {
    DemoAssets.ModelFiles model = assets.model(DemoAssets.Model.MINILM_FP32);
    java.time.Instant start =
        java.time.Instant.now()
            .truncatedTo(java.time.temporal.ChronoUnit.HOURS)
            .minus(java.time.Duration.ofHours(9));
    String traffic =
        io.evalfleet.laptop.demo.SupportTraffic.write(
            dir.resolve("traffic-" + name), start, 11, 8, 3);
    var spec =
        MonitorSpec.builder()
            .model("support-embedder")
            .version("prod-1")
            .artifact(model.onnx())
            .tokenizer(model.tokenizer())
            .traffic(new io.evalfleet.monitor.MonitorSpec.Traffic(traffic, "message", "ts"))
            .window(java.time.Duration.ofHours(1))
            .sample(40)
            .referenceStart(start)
            .referenceEnd(start.plus(java.time.Duration.ofHours(6)))
            .interval(java.time.Duration.ofSeconds(2))
            .alpha(0.05)
            .permutations(99)
            .seed(7)
            .subset("support-chat")
            .build();
    Path file =
        java.nio.file.Files.write(
            dir.resolve(name + "-spec.json"), io.evalfleet.common.contract.Json.write(spec));
    List<String> args =
        new ArrayList<>(
            List.of(
                "-D",
                "archive.root=" + dir.resolve("archive").toUri(),
                "-D",
                "worker.intra-op-threads=1",
                "--spec",
                file.toString(),
                "--cache-dir",
                dir.resolve("cache-" + name).toString()));
    args.addAll(List.of(settings));
    return role(name, "384m", List.of(), "monitor", args);
  }

  private FleetProcess role(
      String name, String heap, List<String> jvmArgs, String command, List<String> settings)
      throws Exception {
    List<String> args = new ArrayList<>(List.of(command, "-b", broker.bootstrapServers()));
    args.addAll(FAST_FAILOVER);
    args.addAll(List.of("-D", "metrics.port=0")); // several roles share this host
    args.addAll(settings);
    FleetProcess process =
        FleetProcess.evalfleet(name, dir.resolve("logs"), heap, jvmArgs, args).start();
    processes.add(process);
    return process;
  }

  /**
   * {@code count} events staging the demo's fp32 MiniLM for one model, on the first {@code pairs}
   * golden pairs.
   */
  List<StagedWeightEvent> stage(String model, int count, int pairs) throws Exception {
    DemoAssets.ModelFiles files = assets.model(DemoAssets.Model.MINILM_FP32);
    SubsetRef subset =
        pairs >= DemoAssets.readPairs().size() ? assets.goldenSubset() : smallSubset(pairs);
    List<StagedWeightEvent> events = new ArrayList<>();
    try (Submitter submitter = new Submitter(config)) {
      for (int i = 1; i <= count; i++) {
        StagedWeightEvent event =
            StagedWeightEvent.builder()
                .eventId(model + "-event-" + i)
                .model(model)
                .version("v" + i)
                .task(Task.EMBEDDING)
                .artifact(files.onnx())
                .tokenizer(files.tokenizer())
                .goldenSubset(subset)
                .createdAt(Instant.now())
                .build();
        submitter.submit(event);
        events.add(event);
      }
    }
    return events;
  }

  /**
   * An ungraded pair subset of {@code rows} rows whose texts (both sides) are {@code text(row)}.
   */
  SubsetRef subset(String name, int rows, java.util.function.IntFunction<String> text)
      throws Exception {
    return subset(name, rows, text, text);
  }

  /** An ungraded pair subset of {@code rows} rows: {@code textA(row)} and {@code textB(row)}. */
  SubsetRef subset(
      String name,
      int rows,
      java.util.function.IntFunction<String> textA,
      java.util.function.IntFunction<String> textB)
      throws Exception {
    Path file = dir.resolve("assets").resolve(name + ".parquet");
    Files.createDirectories(file.getParent());
    io.evalfleet.common.subset.GoldenSubsetWriter.writeUngradedPairs(
        new org.apache.hadoop.fs.Path(file.toUri()), rows, textA, textB, 1 << 20);
    String uri = file.toUri().toString();
    return new SubsetRef(
        uri, io.evalfleet.common.storage.Storage.withDefaults().sha256(uri), null, Map.of());
  }

  /** Stages one version of the demo's fp32 MiniLM on {@code subset}. */
  StagedWeightEvent stage(String model, String version, SubsetRef subset) throws Exception {
    DemoAssets.ModelFiles files = assets.model(DemoAssets.Model.MINILM_FP32);
    StagedWeightEvent event =
        StagedWeightEvent.builder()
            .eventId(model + "-" + version)
            .model(model)
            .version(version)
            .task(Task.EMBEDDING)
            .artifact(files.onnx())
            .tokenizer(files.tokenizer())
            .goldenSubset(subset)
            .createdAt(Instant.now())
            .build();
    try (Submitter submitter = new Submitter(config)) {
      submitter.submit(event);
    }
    return event;
  }

  /**
   * An event staging the demo's fp32 MiniLM as {@code model} {@code version} on {@code subset}, not
   * published.
   */
  StagedWeightEvent event(String eventId, String model, String version, SubsetRef subset)
      throws Exception {
    if (minilm == null) { // copied out and hashed once, not per event
      minilm = assets.model(DemoAssets.Model.MINILM_FP32);
    }
    DemoAssets.ModelFiles files = minilm;
    return StagedWeightEvent.builder()
        .eventId(eventId)
        .model(model)
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .createdAt(Instant.now())
        .build();
  }

  /** The first {@code pairs} pairs of the demo's golden subset (graded). */
  SubsetRef goldenPairs(int pairs) throws Exception {
    return smallSubset(pairs);
  }

  /** Waits until {@code count} reaches {@code at least}. */
  static void awaitCount(
      String what, java.util.function.LongSupplier count, long atLeast, Duration timeout) {
    org.awaitility.Awaitility.await(what)
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> count.getAsLong() >= atLeast);
  }

  /** Whether the event has a flag by now. */
  boolean flagged(String eventId) {
    boolean[] found = {false};
    readAll(
        Topics.DRIFT_FLAGS,
        record -> found[0] |= Json.read(record.value(), DriftFlag.class).eventId().equals(eventId));
    return found[0];
  }

  /** The events that have a flag by now. */
  java.util.Set<String> flaggedEvents() {
    java.util.Set<String> flagged = new java.util.HashSet<>();
    readAll(
        Topics.DRIFT_FLAGS,
        record -> flagged.add(Json.read(record.value(), DriftFlag.class).eventId()));
    return flagged;
  }

  private SubsetRef smallSubset(int pairs) throws Exception {
    Path file = dir.resolve("assets").resolve("pairs-" + pairs + ".parquet");
    if (!Files.exists(file)) {
      io.evalfleet.common.subset.GoldenSubsetWriter.writePairs(
          new org.apache.hadoop.fs.Path(file.toUri()),
          DemoAssets.readPairs().subList(0, pairs),
          1 << 20);
    }
    String uri = file.toUri().toString();
    return new SubsetRef(
        uri, io.evalfleet.common.storage.Storage.withDefaults().sha256(uri), null, Map.of());
  }

  /**
   * Waits until every event has a flag, then a little longer for any second one, and asserts that
   * each has exactly one. Returns the flags by event id.
   */
  Map<String, DriftFlag> awaitExactlyOneFlagEach(List<StagedWeightEvent> events, Duration timeout)
      throws Exception {
    return awaitFlags(events, timeout, true);
  }

  /**
   * Like {@link #awaitExactlyOneFlagEach}; with {@code exclusive}, also asserts that no other event
   * has a flag.
   */
  Map<String, DriftFlag> awaitFlags(
      List<StagedWeightEvent> events, Duration timeout, boolean exclusive) throws Exception {
    try (FlagWatcher flags = new FlagWatcher(config, true)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      for (StagedWeightEvent event : events) {
        long left = deadline - System.nanoTime();
        try {
          flags.await(event.eventId(), Duration.ofNanos(Math.max(left, 1)));
        } catch (TimeoutException e) {
          throw new AssertionError(
              flags.seen().size()
                  + " of "
                  + events.size()
                  + " events flagged within "
                  + timeout
                  + "; first without: "
                  + event.eventId()
                  + logs(),
              e);
        }
      }
      flags.poll(Duration.ofSeconds(3));
      Map<String, DriftFlag> byEvent = new LinkedHashMap<>();
      for (StagedWeightEvent event : events) {
        assertThat(flags.count(event.eventId())).as("flags for %s", event.eventId()).isEqualTo(1);
        byEvent.put(event.eventId(), flags.seen().get(event.eventId()));
      }
      if (exclusive) {
        assertThat(flags.seen()).as("flags only for staged events").hasSize(events.size());
      }
      return byEvent;
    }
  }

  /** Every shard result published so far, in offset order per partition. */
  List<ShardResult> results() {
    List<ShardResult> results = new ArrayList<>();
    readAll(Topics.RESULTS, record -> results.add(Json.read(record.value(), ShardResult.class)));
    return results;
  }

  /** How many job messages were published so far (all attempts and re-sends). */
  long jobsPublished() {
    long[] count = {0};
    readAll(Topics.JOBS, record -> count[0]++);
    return count[0];
  }

  /**
   * Hands every record of {@code topic} published so far to {@code each}, in offset order per
   * partition.
   */
  void readAll(String topic, java.util.function.Consumer<ConsumerRecord<String, byte[]>> each) {
    try (KafkaConsumer<String, byte[]> reader = KafkaClients.reader(config, "fault-test-reader")) {
      List<TopicPartition> partitions =
          reader.partitionsFor(topic, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = reader.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> reader.position(p) < end.get(p))) {
        reader.poll(Duration.ofMillis(200)).forEach(each);
      }
    }
  }

  /** The tail of every process's log, for failure messages. */
  String logs() {
    StringBuilder out = new StringBuilder();
    for (FleetProcess process : processes) {
      try {
        out.append("\n--- ").append(process.name()).append(" ---\n").append(process.tail());
      } catch (java.io.IOException e) {
        out.append("\n--- ").append(process.name()).append(": log unreadable");
      }
    }
    return out.toString();
  }

  @Override
  public void close() throws Exception {
    for (FleetProcess process : processes) {
      process.close();
    }
    broker.close();
  }
}
