package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RunCancelled;
import io.evalfleet.common.contract.SequentialDecision;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Early stopping through a real fleet (embedded Kafka, the dispatcher, two workers, the bundled
 * policy with its sequential decisions): a byte-level GPT scored on 3,000 rows of English text
 * becomes the baseline; its tempered copy (a few percent more NLL on every row) stops RED on a
 * prefix of the seeded row order, its other jobs never scored in full.
 */
class SequentialFleetIT {
  static final int ROWS = 3000;
  static final Duration WAIT = Duration.ofMinutes(5);

  @TempDir static Path dir;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static DemoAssets assets;
  static SubsetRef subset;

  @BeforeAll
  static void startFleet() throws Exception {
    assets = new DemoAssets(dir);
    subset = assets.englishRows(ROWS);
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.SHARD_ROWS.key(), "100",
                    FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(), "4",
                    FleetConfig.REUSE_SCORES.key(), "false",
                    FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                    FleetConfig.INTRA_OP_THREADS.key(), "1"));
    fleet = LocalFleet.start(config, 2, dir.resolve("cache"));
    flags = new FlagWatcher(fleet.config(), true);
    submitter = new Submitter(fleet.config());
  }

  @AfterAll
  static void stopFleet() throws Exception {
    if (submitter != null) {
      submitter.close();
    }
    if (flags != null) {
      flags.close();
    }
    if (fleet != null) {
      fleet.close();
    }
  }

  static StagedWeightEvent event(String version, DemoAssets.CausalModel which) throws Exception {
    DemoAssets.ModelFiles files = assets.causalModel(which);
    return StagedWeightEvent.builder()
        .eventId("gpt-" + version + "-" + UUID.randomUUID())
        .model("gpt")
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

  static DriftFlag stage(StagedWeightEvent event) throws Exception {
    submitter.submit(event);
    return flags.await(event.eventId(), WAIT);
  }

  @Test
  void aRegressedCandidateStopsRedOnAPrefixAndItsRemainingJobsAreCancelled() throws Exception {
    DriftFlag base = stage(event("base", DemoAssets.CausalModel.BYTEGPT_BASE));
    assertThat(base.flag()).isEqualTo(Flag.WARN);
    assertThat(base.sequential().stopped()).isEqualTo(SequentialDecision.Stop.END);
    assertThat(base.coverage().rowsScored()).isEqualTo(ROWS);

    DriftFlag tempered = stage(event("tempered", DemoAssets.CausalModel.BYTEGPT_TEMPERED));
    System.out.printf(
        "tempered: %s after %d of %d rows, %d looks: %s%n",
        tempered.flag(),
        tempered.sequential().rowsScored(),
        tempered.sequential().rowsTotal(),
        tempered.sequential().looks(),
        tempered.metrics().get(MetricNames.PERPLEXITY).evidence());

    assertThat(tempered.flag()).isEqualTo(Flag.RED);
    assertThat(tempered.baselineVersion()).isEqualTo("base");
    assertThat(tempered.sequential().stopped()).isEqualTo(SequentialDecision.Stop.RED);
    assertThat(tempered.sequential().rowsTotal()).isEqualTo(ROWS);
    assertThat(tempered.sequential().rowsScored()).isLessThan(ROWS);
    assertThat(tempered.coverage().rowsScored()).isEqualTo(tempered.sequential().rowsScored());
    assertThat(tempered.metrics().get(MetricNames.PERPLEXITY).relativeDelta()).isPositive();
    assertThat(cancellations()).contains(tempered.runId());
  }

  /** The run ids on {@code evalfleet.runs.cancelled}. */
  static List<String> cancellations() {
    List<String> runs = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> reader =
        KafkaClients.committedReader(fleet.config(), "it-cancelled")) {
      List<TopicPartition> partitions =
          reader.partitionsFor(Topics.RUNS_CANCELLED, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (runs.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
          runs.add(Json.read(record.value(), RunCancelled.class).runId());
        }
      }
    }
    return runs;
  }
}
