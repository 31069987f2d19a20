package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.DispatcherRole;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import io.evalfleet.worker.WorkerRole;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the dispatcher keeps outside its memory: a successor (with no local state) finishes a run
 * its predecessor left, an event staged again gets no second flag, and an identical evaluation
 * reuses the archived scores, with a lockfile for each version.
 */
class DispatcherStateIT {
  @TempDir Path dir;

  /** The first {@code rows} golden pairs as a subset of one row group. */
  SubsetRef pairs(int rows) throws Exception {
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(
        new org.apache.hadoop.fs.Path(file.toUri()),
        DemoAssets.readPairs().subList(0, rows),
        1 << 20);
    return new SubsetRef(
        file.toUri().toString(),
        Storage.withDefaults().sha256(file.toUri().toString()),
        null,
        Map.of());
  }

  /** An event staging the demo's fp32 MiniLM. */
  StagedWeightEvent event(
      String eventId,
      String model,
      String version,
      SubsetRef subset,
      String baseline,
      String commit)
      throws Exception {
    DemoAssets.ModelFiles files = new DemoAssets(dir).model(DemoAssets.Model.MINILM_FP32);
    return StagedWeightEvent.builder()
        .eventId(eventId)
        .model(model)
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .baseline(baseline)
        .commit(commit)
        .createdAt(Instant.now())
        .build();
  }

  @Test
  void undecidedEventIsEvaluatedByTheNextDispatcherAndFlaggedOnce() throws Exception {
    SubsetRef subset = pairs(40);
    StagedWeightEvent event = event("restart-1", "restart", "v1", subset, null, null);

    try (EmbeddedKafka kafka = EmbeddedKafka.start(6)) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(
                  Map.of(
                      FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers(),
                      FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                      FleetConfig.SHARD_ROWS.key(), "10",
                      FleetConfig.DISPATCHER_STATE_DIR.key(), dir.resolve("state-first").toString(),
                      FleetConfig.INTRA_OP_THREADS.key(), "1"));
      DispatcherRole first = new DispatcherRole(config, Clock.systemUTC()).start();
      try (Submitter submitter = new Submitter(config)) {
        submitter.submit(event);
      }
      // No worker yet: the run cannot finish.
      await("the first dispatcher publishes the run's jobs")
          .atMost(Duration.ofSeconds(60))
          .until(() -> jobsOnTopic(config) >= 4);
      first.close(Duration.ofSeconds(10));

      try (WorkerRole worker = new WorkerRole(config, "worker-1", dir.resolve("cache")).start();
          DispatcherRole second =
              new DispatcherRole(
                      config.with(
                          Map.of(
                              FleetConfig.DISPATCHER_STATE_DIR.key(),
                              dir.resolve("state-second").toString())),
                      Clock.systemUTC())
                  .start();
          FlagWatcher flags = new FlagWatcher(config, true)) {
        DriftFlag flag = flags.await(event.eventId(), Duration.ofMinutes(2));
        assertThat(flag.flag()).isEqualTo(Flag.WARN);
        assertThat(flag.coverage().rowsScored()).isEqualTo(40);
        flags.poll(Duration.ofSeconds(3));
        assertThat(flags.count(event.eventId())).as("flags for the event").isEqualTo(1);
      }
    }
  }

  @Test
  void anEventStagedAgainAfterADispatcherMovedGetsNoSecondFlag() throws Exception {
    SubsetRef subset = pairs(20);
    StagedWeightEvent event = event("again-1", "again", "v1", subset, null, null);

    try (EmbeddedKafka kafka = EmbeddedKafka.start(2)) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(
                  Map.of(
                      FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers(),
                      FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                      FleetConfig.DISPATCHER_STATE_DIR.key(), dir.resolve("state-a").toString(),
                      FleetConfig.INTRA_OP_THREADS.key(), "1"));
      try (WorkerRole worker = new WorkerRole(config, "worker-1", dir.resolve("cache")).start();
          FlagWatcher flags = new FlagWatcher(config, true);
          Submitter submitter = new Submitter(config)) {
        try (DispatcherRole dispatcher = new DispatcherRole(config, Clock.systemUTC()).start()) {
          submitter.submit(event);
          flags.await(event.eventId(), Duration.ofMinutes(2));
        }
        // Another instance, with no local state: it learns what was decided from the changelog.
        FleetConfig elsewhere =
            config.with(
                Map.of(FleetConfig.DISPATCHER_STATE_DIR.key(), dir.resolve("state-b").toString()));
        try (DispatcherRole dispatcher = new DispatcherRole(elsewhere, Clock.systemUTC()).start()) {
          submitter.submit(event);
          await("the second instance runs")
              .atMost(Duration.ofSeconds(60))
              .until(dispatcher::running);
          flags.poll(Duration.ofSeconds(5));
        }
        assertThat(flags.count(event.eventId()))
            .as("flags for the event staged twice")
            .isEqualTo(1);
      }
    }
  }

  @Test
  void identicalEvaluationReusesArchivedScoresAndBothVersionsHaveLockfiles() throws Exception {
    SubsetRef subset = pairs(30);
    StagedWeightEvent first = event("reuse-1", "reuse", "v1", subset, null, "abc123");
    StagedWeightEvent rebuilt = event("reuse-2", "reuse", "v2", subset, null, "def456");

    try (EmbeddedKafka kafka = EmbeddedKafka.start(2)) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(
                  Map.of(
                      FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers(),
                      FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                      FleetConfig.DISPATCHER_STATE_DIR.key(), dir.resolve("state").toString(),
                      FleetConfig.INTRA_OP_THREADS.key(), "1"));
      try (WorkerRole worker = new WorkerRole(config, "worker-1", dir.resolve("cache")).start();
          DispatcherRole dispatcher = new DispatcherRole(config, Clock.systemUTC()).start();
          FlagWatcher flags = new FlagWatcher(config, true);
          Submitter submitter = new Submitter(config)) {
        submitter.submit(first);
        DriftFlag baseline = flags.await(first.eventId(), Duration.ofMinutes(2));
        long jobsForFirst = jobsOnTopic(config);
        submitter.submit(rebuilt);
        DriftFlag again = flags.await(rebuilt.eventId(), Duration.ofMinutes(2));

        assertThat(baseline.flag()).isEqualTo(Flag.WARN);
        assertThat(again.flag())
            .as("same weights, same rows: " + again.reasons())
            .isEqualTo(Flag.GREEN);
        assertThat(again.reasons())
            .anyMatch(r -> r.startsWith("scores reused from an identical earlier evaluation"));
        assertThat(jobsOnTopic(config))
            .as("jobs published for the second version")
            .isEqualTo(jobsForFirst);
        assertThat(again.coverage().rowsScored()).isEqualTo(30);
        assertThat(again.coverage().shardsDone())
            .isEqualTo(again.coverage().shardsTotal())
            .isPositive();
        var spearman = again.metrics().get(io.evalfleet.common.task.MetricNames.SPEARMAN);
        assertThat(spearman.relativeDelta()).isZero();
        assertThat(spearman.ciLow()).isZero();
        assertThat(spearman.ciHigh()).isZero();

        var archive =
            new io.evalfleet.common.archive.EvaluationArchive(
                Storage.withDefaults(), dir.resolve("archive").toUri().toString());
        var lock1 = archive.lock("reuse", "v1").orElseThrow();
        var lock2 = archive.lock("reuse", "v2").orElseThrow();
        assertThat(lock1.scoresReused()).isFalse();
        assertThat(lock2.scoresReused()).isTrue();
        assertThat(lock2.scores()).isEqualTo(lock1.scores());
        assertThat(lock1.artifact()).isEqualTo(first.artifact());
        assertThat(lock1.commit()).isEqualTo("abc123");
        assertThat(lock1.onnxRuntime()).singleElement().asString().startsWith("onnxruntime 1.");
        assertThat(lock1.modelSignature())
            .contains("input_ids:INT64")
            .contains("last_hidden_state:FLOAT");
        assertThat(lock2.metrics().get("spearman").status()).isEqualTo(Flag.GREEN);
        assertThat(archive.baselineHistory("reuse"))
            .singleElement()
            .satisfies(s -> assertThat(s.reason()).isEqualTo("first"));
        assertThat(archive.readScores(lock1.scores()).get("cosine")).hasSize(30);

        // A version other than production can be named as the baseline: it is read from the
        // archive.
        submitter.submit(event("reuse-3", "reuse", "v3", subset, "v2", null));
        DriftFlag againstV2 = flags.await("reuse-3", Duration.ofMinutes(2));
        assertThat(againstV2.baselineVersion()).isEqualTo("v2");
        assertThat(againstV2.flag()).isEqualTo(Flag.GREEN);
        submitter.submit(event("reuse-4", "reuse", "v4", subset, "v0", null));
        DriftFlag unknown = flags.await("reuse-4", Duration.ofMinutes(2));
        assertThat(unknown.flag()).isEqualTo(Flag.ERROR);
        assertThat(unknown.reasons())
            .singleElement()
            .asString()
            .startsWith(
                "baseline version 'v0' of model reuse is not known: it is not the production baseline (version v1)");
      }
    }
  }

  private static long jobsOnTopic(FleetConfig config) {
    try (var reader = KafkaClients.reader(config, "restart-test")) {
      List<TopicPartition> partitions =
          reader.partitionsFor(Topics.JOBS).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      return reader.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }
}
