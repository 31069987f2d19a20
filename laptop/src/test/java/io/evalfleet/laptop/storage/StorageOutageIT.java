package io.evalfleet.laptop.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store a run reads from stops in the middle of the run: that is an unavailable dependency, not
 * bad input. Shards that meet it are sent again after a pause; if the store comes back before the
 * deadline the run ends with the flag it would have had, and if it does not, the run ends
 * INCOMPLETE naming the store. Never ERROR. A real broker, real models and real Parquet, read
 * through Hadoop's FileSystem API from a store the test stops ({@link OutageFileSystem}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StorageOutageIT {
  static final Duration RUN_DEADLINE = Duration.ofSeconds(40);

  @TempDir static Path dir;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static KafkaConsumer<String, byte[]> results;
  static DemoAssets.ModelFiles model;
  static SubsetRef subset;

  @BeforeAll
  static void startFleet() throws Exception {
    DemoAssets assets = new DemoAssets(dir.resolve("assets"));
    DemoAssets.ModelFiles local = assets.model(DemoAssets.Model.MINILM_FP32);
    model = new DemoAssets.ModelFiles(onStore(local.onnx()), onStore(local.tokenizer()));
    SubsetRef pairs = assets.goldenSubset();
    subset =
        new SubsetRef(
            OutageFileSystem.uriOf(Path.of(URI.create(pairs.uri()))),
            pairs.sha256(),
            null,
            Map.of());
    fleet =
        LocalFleet.start(
            FleetConfig.defaults()
                .with(
                    Map.of(
                        FleetConfig.INTRA_OP_THREADS.key(), "1",
                        FleetConfig.SHARD_ROWS.key(), "8",
                        FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(), "1",
                        FleetConfig.RUN_DEADLINE.key(), RUN_DEADLINE.toString(),
                        FleetConfig.STORAGE_BREAKER_OPEN.key(), "PT2S",
                        FleetConfig.REUSE_SCORES.key(), "false",
                        FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString())),
            1,
            dir.resolve("cache"));
    flags = new FlagWatcher(fleet.config(), true);
    submitter = new Submitter(fleet.config());
    results = KafkaClients.reader(fleet.config(), "outage-results");
    List<TopicPartition> partitions =
        results.partitionsFor(Topics.RESULTS, Duration.ofSeconds(10)).stream()
            .map(p -> new TopicPartition(Topics.RESULTS, p.partition()))
            .toList();
    results.assign(partitions);
    results.seekToBeginning(partitions);

    StagedWeightEvent first = event("v1");
    submitter.submit(first);
    assertThat(flags.await(first.eventId(), Duration.ofMinutes(2)).flag())
        .as("the first version, scored normally")
        .isEqualTo(Flag.WARN);
  }

  @AfterEach
  void storeBackUp() {
    OutageFileSystem.start();
  }

  @AfterAll
  static void stopFleet() throws Exception {
    results.close();
    submitter.close();
    flags.close();
    fleet.close();
  }

  @Test
  @Order(1)
  void aShortOutageMidRunIsRetriedAndTheRunEndsAsItWouldHave() throws Exception {
    StagedWeightEvent event = event("v2");
    List<ShardResult> seen = stageAndStopTheStoreMidRun(event);
    awaitResults(
        seen,
        RunState.runIdOf(event.eventId()),
        r -> r.failed() && r.error().kind() == FailureKind.UNAVAILABLE,
        "a shard that met the stopped store");
    Thread.sleep(3_000); // the outage: the store stays down while shards keep meeting it
    OutageFileSystem.start();

    DriftFlag flag = flags.await(event.eventId(), RUN_DEADLINE.plusSeconds(30));
    assertThat(flag.flag())
        .as("the same model and rows as the baseline: %s", flag.reasons())
        .isEqualTo(Flag.GREEN);
    assertThat(flag.coverage().rowsScored()).isEqualTo(flag.coverage().rowsTotal());
    assertThat(seen)
        .filteredOn(ShardResult::failed)
        .extracting(r -> r.error().message())
        .allMatch(m -> m.contains("storage unavailable"), "names the store");
  }

  @Test
  @Order(2)
  void anOutagePastTheDeadlineEndsIncompleteNamingTheStoreNeverError() throws Exception {
    StagedWeightEvent event = event("v3");
    stageAndStopTheStoreMidRun(event);
    StagedWeightEvent stagedDuringOutage = event("v4");
    submitter.submit(stagedDuringOutage);

    DriftFlag flag = flags.await(event.eventId(), RUN_DEADLINE.plusSeconds(30));
    assertThat(flag.flag()).as("%s", flag.reasons()).isEqualTo(Flag.INCOMPLETE);
    assertThat(flag.reasons())
        .anyMatch(r -> r.contains("deadline") && r.contains("storage unavailable"));
    assertThat(flag.coverage().rowsScored()).isPositive().isLessThan(flag.coverage().rowsTotal());

    DriftFlag notPreflighted =
        flags.await(stagedDuringOutage.eventId(), RUN_DEADLINE.plusSeconds(30));
    assertThat(notPreflighted.flag()).as("%s", notPreflighted.reasons()).isEqualTo(Flag.INCOMPLETE);
    assertThat(notPreflighted.reasons())
        .anyMatch(
            r ->
                r.contains("before pre-flight could read the event's files")
                    && r.contains("storage unavailable"));
    flags.poll(Duration.ofSeconds(1));
    assertThat(flags.count(event.eventId())).isEqualTo(1);
    assertThat(flags.count(stagedDuringOutage.eventId())).isEqualTo(1);
  }

  /**
   * Stages {@code event}, waits until one of its shards is scored, then stops the store; returns
   * the results seen.
   */
  private static List<ShardResult> stageAndStopTheStoreMidRun(StagedWeightEvent event)
      throws Exception {
    submitter.submit(event);
    List<ShardResult> seen = new ArrayList<>();
    awaitResults(seen, RunState.runIdOf(event.eventId()), r -> !r.failed(), "a first shard scored");
    OutageFileSystem.stop();
    return seen;
  }

  private static void awaitResults(
      List<ShardResult> seen,
      String runId,
      java.util.function.Predicate<ShardResult> wanted,
      String what) {
    await(what)
        .atMost(RUN_DEADLINE)
        .pollInSameThread()
        .pollInterval(Duration.ZERO)
        .until(
            () -> {
              results
                  .poll(Duration.ofMillis(20))
                  .forEach(
                      record -> {
                        ShardResult result = Json.read(record.value(), ShardResult.class);
                        if (result.runId().equals(runId)) {
                          seen.add(result);
                        }
                      });
              return seen.stream().anyMatch(wanted);
            });
  }

  private static StagedWeightEvent event(String version) {
    return StagedWeightEvent.builder()
        .eventId("outage-" + version + "-" + UUID.randomUUID())
        .model("outage-minilm")
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(model.onnx())
        .tokenizer(model.tokenizer())
        .goldenSubset(subset)
        .quantizationBits(32)
        .maxSeqLen(256)
        .hardwareProfile("cpu")
        .createdAt(Instant.now())
        .build();
  }

  private static ArtifactRef onStore(ArtifactRef local) {
    return new ArtifactRef(
        OutageFileSystem.uriOf(Path.of(URI.create(local.uri()))), local.sha256());
  }
}
