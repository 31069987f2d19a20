package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staged events from clients evalfleet does not control, with their own partitioners and keys, each
 * get exactly one flag. Real non-Java producers from Debian's packages publish at their default
 * settings to the topics as {@code evalfleet topics} creates them (3 partitions per model-keyed
 * topic) while a dispatcher and two workers run as processes: librdkafka's kcat and
 * confluent-kafka-python (CRC32 {@code consistent_random}, not the Java client's murmur2),
 * kafka-python (murmur2), records with a null key and records keyed by something other than the
 * model name. Each lane stages the first version of ten models of its own, so that every partition
 * of the staged topic is hit and each event's expected flag is WARN (pinned as the model's
 * baseline).
 */
class ClientMatrixIT {
  static final String PYTHON = "/usr/bin/python3";
  static final String KCAT = "/usr/bin/kcat";
  private static final int MODELS = 10;
  private static final int STAGED_PARTITIONS = 3;

  /** How one client publishes: the program, and what it keys each record by. */
  enum Lane {
    KCAT_DEFAULTS("kcat", "model"),
    CONFLUENT_KAFKA_DEFAULTS("confluent-kafka", "model"),
    KAFKA_PYTHON_DEFAULTS("kafka-python", "model"),
    NULL_KEY("kafka-python", "null"),
    WRONG_KEY("confluent-kafka", "event-id");

    final String client;
    final String keying;

    Lane(String client, String keying) {
      this.client = client;
      this.keying = keying;
    }

    String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Whether the lane's records carry a key chosen by a partitioner other than the Java client's
     * murmur2.
     */
    boolean strayFromJavaPartitioning() {
      return this != KAFKA_PYTHON_DEFAULTS;
    }
  }

  @TempDir Path dir;

  @Test
  void everyClientsEventsGetExactlyOneFlagEachWhateverItsPartitionerAndKey() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of(KCAT)), "kcat (Debian's kcat package) is not installed");
    Assumptions.assumeTrue(
        pythonHas("confluent_kafka") && pythonHas("kafka"),
        "Debian's python3-confluent-kafka and python3-kafka are not installed");
    long started = System.nanoTime();
    try (FleetHarness fleet = FleetHarness.start(dir, 12)) {
      try (Admin admin = fleet.broker.admin()) {
        assertThat(
                admin
                    .describeTopics(List.of(Topics.STAGED, Topics.RESULTS))
                    .allTopicNames()
                    .get(30, TimeUnit.SECONDS)
                    .values())
            .as("the model-keyed topics as `evalfleet topics` creates them")
            .allSatisfy(topic -> assertThat(topic.partitions()).hasSize(STAGED_PARTITIONS));
      }
      // every run is scored by the workers (none reuses another's archived scores), so each run's
      // results
      // must come back to the dispatcher task that holds it
      fleet.dispatcher("dispatcher", "-D", "dispatcher.reuse-scores=false");
      fleet.worker("worker-a", "384m");
      fleet.worker("worker-b", "384m");
      SubsetRef subset = fleet.goldenPairs(16);

      Map<Lane, List<StagedWeightEvent>> published = new LinkedHashMap<>();
      Map<Lane, Double> publishSecondsOf = new HashMap<>();
      long publishing = System.nanoTime();
      for (Lane lane : Lane.values()) {
        List<StagedWeightEvent> candidates = new ArrayList<>();
        // the null key lands on random partitions: more candidates, published until every partition
        // has one
        int count = lane == Lane.NULL_KEY ? 4 * MODELS : MODELS;
        for (int i = 0; i < count; i++) {
          String model = lane.label() + "-model-" + i;
          candidates.add(fleet.event(model + "-v1", model, "v1", subset));
        }
        long laneStarted = System.nanoTime();
        published.put(lane, publish(lane, fleet.broker.bootstrapServers(), candidates));
        publishSecondsOf.put(lane, (System.nanoTime() - laneStarted) / 1e9);
      }
      double publishSeconds = (System.nanoTime() - publishing) / 1e9;

      List<StagedWeightEvent> all = published.values().stream().flatMap(List::stream).toList();
      Map<String, DriftFlag> flags = fleet.awaitFlags(all, Duration.ofMinutes(5), true);
      double seconds = (System.nanoTime() - started) / 1e9;

      Map<String, Integer> partitionOf = stagedPartitions(fleet, published);
      StringBuilder figures = new StringBuilder();
      for (Map.Entry<Lane, List<StagedWeightEvent>> lane : published.entrySet()) {
        Set<Integer> partitions = new TreeSet<>();
        int offJava = 0;
        Set<String> models = new TreeSet<>();
        for (StagedWeightEvent event : lane.getValue()) {
          DriftFlag flag = flags.get(event.eventId());
          assertThat(flag.flag())
              .as("flag of %s (%s): %s", event.eventId(), lane.getKey(), flag.reasons())
              .isEqualTo(Flag.WARN);
          assertThat(flag.model()).isEqualTo(event.model());
          assertThat(flag.version()).isEqualTo(event.version());
          assertThat(flag.reasons())
              .as("reasons of %s", event.eventId())
              .anyMatch(reason -> reason.contains("pinned as its production baseline"));
          assertThat(partitionOf)
              .as("where %s was staged", event.eventId())
              .containsKey(event.eventId());
          int partition = partitionOf.get(event.eventId());
          partitions.add(partition);
          offJava += partition != javaPartition(event.model()) ? 1 : 0;
          models.add(event.model());
        }
        assertThat(models)
            .as("distinct models of %s", lane.getKey())
            .hasSizeGreaterThanOrEqualTo(MODELS);
        assertThat(partitions)
            .as("partitions %s staged to", lane.getKey())
            .hasSize(STAGED_PARTITIONS);
        if (lane.getKey().strayFromJavaPartitioning()) {
          assertThat(offJava)
              .as("%s events staged off the partition the Java client would choose", lane.getKey())
              .isPositive();
        }
        figures.append(
            String.format(
                Locale.ROOT,
                "%n  %-43s %2d events, %2d models, partitions %s, %2d off the Java"
                    + " client's partition, published in %.1f s",
                lane.getKey().label() + " (" + lane.getKey().client + ")",
                lane.getValue().size(),
                models.size(),
                partitions,
                offJava,
                publishSecondsOf.get(lane.getKey())));
      }
      System.out.printf(
          Locale.ROOT,
          "client matrix: %d events from %d lanes, each exactly one flag (WARN, pinned as"
              + " baseline); published in %.1f s, fleet start to last flag %.1f s%s%n",
          all.size(),
          published.size(),
          publishSeconds,
          seconds,
          figures);
    }
  }

  /** Publishes {@code candidates} through the lane's client; returns the events it published. */
  private List<StagedWeightEvent> publish(
      Lane lane, String bootstrap, List<StagedWeightEvent> candidates) throws Exception {
    StringBuilder input = new StringBuilder();
    for (StagedWeightEvent event : candidates) {
      String json = Json.writeString(event);
      assertThat(json).doesNotContain("\n", "\t");
      if (lane.client.equals("kcat")) {
        input.append(event.model()).append('\t').append(json).append('\n');
      } else {
        input
            .append(event.model())
            .append('\t')
            .append(event.eventId())
            .append('\t')
            .append(json)
            .append('\n');
      }
    }
    if (lane.client.equals("kcat")) {
      // kcat's defaults: librdkafka's consistent_random partitioner; -K splits each line into key
      // and value
      run(List.of(KCAT, "-b", bootstrap, "-t", Topics.STAGED, "-P", "-K", "\t"), input.toString());
      return candidates;
    }
    Path script = dir.resolve("produce.py");
    if (!Files.exists(script)) {
      try (InputStream in = ClientMatrixIT.class.getResourceAsStream("/clients/produce.py")) {
        Files.copy(in, script);
      }
    }
    String out =
        run(
            List.of(
                PYTHON,
                script.toString(),
                lane.client,
                lane.keying,
                bootstrap,
                Topics.STAGED,
                Integer.toString(MODELS)),
            input.toString());
    Map<String, StagedWeightEvent> byId = new HashMap<>();
    candidates.forEach(event -> byId.put(event.eventId(), event));
    List<StagedWeightEvent> published = new ArrayList<>();
    for (String line : out.strip().split("\n")) {
      published.add(byId.get(line.split("\t")[0]));
    }
    return published;
  }

  /**
   * The partition each event was staged to by its client: its first record on the staged topic with
   * the key its lane gave it (a record the dispatcher staged again, keyed by the model, does not
   * count).
   */
  private static Map<String, Integer> stagedPartitions(
      FleetHarness fleet, Map<Lane, List<StagedWeightEvent>> published) {
    Map<String, String> keyOf = new HashMap<>();
    published.forEach(
        (lane, events) ->
            events.forEach(
                event ->
                    keyOf.put(
                        event.eventId(),
                        switch (lane.keying) {
                          case "model" -> event.model();
                          case "event-id" -> event.eventId();
                          default -> null;
                        })));
    Map<String, Integer> partitionOf = new HashMap<>();
    Map<String, Long> timeOf = new HashMap<>();
    fleet.readAll(
        Topics.STAGED,
        record -> {
          StagedWeightEvent event = Json.read(record.value(), StagedWeightEvent.class);
          String id = event.eventId();
          if (keyOf.containsKey(id)
              && java.util.Objects.equals(keyOf.get(id), record.key())
              && record.timestamp() < timeOf.getOrDefault(id, Long.MAX_VALUE)) {
            timeOf.put(id, record.timestamp());
            partitionOf.put(id, record.partition());
          }
        });
    return partitionOf;
  }

  /** Where the Java client's default partitioner puts a record keyed by {@code model}. */
  static int javaPartition(String model) {
    return Utils.toPositive(Utils.murmur2(model.getBytes(StandardCharsets.UTF_8)))
        % STAGED_PARTITIONS;
  }

  static boolean pythonHas(String module) throws Exception {
    if (!Files.isExecutable(Path.of(PYTHON))) {
      return false;
    }
    Process process =
        new ProcessBuilder(PYTHON, "-c", "import " + module).redirectErrorStream(true).start();
    process.getInputStream().readAllBytes();
    return process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0;
  }

  /**
   * Runs {@code command} with {@code input} on its standard input; returns its standard output,
   * failing unless it exits 0.
   */
  static String run(List<String> command, String input) throws Exception {
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(input.getBytes(StandardCharsets.UTF_8));
    }
    var stderr =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> readQuietly(process.getErrorStream()));
    String out = readQuietly(process.getInputStream());
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(command + " did not finish within 120 s");
    }
    assertThat(process.exitValue())
        .as("exit status of %s; its output:%n%s%n%s", command, out, stderr.get())
        .isZero();
    return out;
  }

  private static String readQuietly(InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }
}
