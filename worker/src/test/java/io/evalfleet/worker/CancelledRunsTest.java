package io.evalfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RunCancelled;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.task.Task;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The jobs of a run decided before its end: the worker follows {@code evalfleet.runs.cancelled} and
 * commits such a job without scoring it (its scorer, which loads the model, is never called) and
 * without answering it.
 */
class CancelledRunsTest {
  static final TopicPartition JOBS = new TopicPartition(Topics.JOBS, 0);
  static final TopicPartition CANCELLED = new TopicPartition(Topics.RUNS_CANCELLED, 0);
  static final ArtifactRef REF = new ArtifactRef("/m.onnx", "a".repeat(64));

  final MockConsumer<String, byte[]> jobsConsumer = new MockConsumer<>("earliest");
  final MockConsumer<String, byte[]> follower = new MockConsumer<>("earliest");
  final MockProducer<String, byte[]> producer =
      new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final List<String> scored = Collections.synchronizedList(new ArrayList<>());
  ExecutorService executor;
  JobConsumer jobs;
  CancelledRuns cancelled;
  Thread loop;
  Thread following;

  static byte[] job(String runId, int shard) {
    return Json.write(
        ScoringJob.builder()
            .jobId(ScoringJob.jobId(runId, shard))
            .runId(runId)
            .eventId("ev")
            .model("m")
            .version("v")
            .task(Task.EMBEDDING)
            .artifact(REF)
            .tokenizer(REF)
            .goldenSubset(new SubsetRef("/s.parquet", "b".repeat(64), null, Map.of()))
            .shardIndex(shard)
            .shardCount(5)
            .rowStart(shard * 10L)
            .rowCount(10)
            .metrics(List.of("cosine"))
            .attempt(1)
            .deadline(Instant.now())
            .build());
  }

  ShardResult score(ScoringJob job) {
    scored.add(job.jobId());
    return ShardResult.answering(job)
        .values(Map.of("cosine", new double[job.rowCount()]))
        .workerId("w")
        .executionProvider("cpu")
        .durationMs(1)
        .attempt(1)
        .build();
  }

  void follow(List<ConsumerRecord<String, byte[]>> records) {
    follower.updatePartitions(
        Topics.RUNS_CANCELLED,
        List.of(new PartitionInfo(Topics.RUNS_CANCELLED, 0, null, null, null)));
    follower.updateBeginningOffsets(Map.of(CANCELLED, 0L));
    follower.schedulePollTask(() -> records.forEach(follower::addRecord));
    cancelled = new CancelledRuns(follower);
    following = new Thread(cancelled);
    following.start();
  }

  static ConsumerRecord<String, byte[]> cancellation(long offset, String runId) {
    return new ConsumerRecord<>(
        Topics.RUNS_CANCELLED,
        0,
        offset,
        runId,
        Json.write(
            new RunCancelled(runId, "m", "stopped RED after 100 of 2000 rows", Instant.now())));
  }

  @AfterEach
  void stop() throws Exception {
    if (jobs != null) {
      jobs.close(Duration.ofSeconds(5));
      loop.join(10_000);
    }
    if (cancelled != null) {
      cancelled.close();
      following.join(10_000);
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  static void await(String what, BooleanSupplier condition) {
    Awaitility.await(what)
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(5))
        .until(condition::getAsBoolean);
  }

  @Test
  void aJobOfACancelledRunIsCommittedWithoutBeingScoredOrAnswered() throws Exception {
    follow(List.of(cancellation(0, "run-stopped")));
    await("the cancellation is followed", () -> cancelled.isCancelled("run-stopped"));
    jobsConsumer.updateBeginningOffsets(Map.of(JOBS, 0L));
    jobsConsumer.schedulePollTask(
        () -> {
          jobsConsumer.rebalance(List.of(JOBS));
          jobsConsumer.addRecord(
              new ConsumerRecord<>(Topics.JOBS, 0, 0, "k0", job("run-stopped", 3)));
          jobsConsumer.addRecord(new ConsumerRecord<>(Topics.JOBS, 0, 1, "k1", job("run-on", 0)));
          jobsConsumer.addRecord(
              new ConsumerRecord<>(Topics.JOBS, 0, 2, "k2", job("run-stopped", 4)));
        });
    executor = Executors.newFixedThreadPool(1);
    jobs =
        new JobConsumer(
                jobsConsumer,
                producer,
                this::score,
                executor,
                1,
                3,
                job -> new Isolation.Answered(score(job)),
                registry)
            .skipping(cancelled::isCancelled);
    loop = new Thread(jobs);
    loop.start();

    await(
        "every offset committed",
        () -> {
          var offsets = jobsConsumer.committed(Set.of(JOBS)).get(JOBS);
          return offsets != null && offsets.offset() == 3;
        });
    assertThat(scored).containsExactly(ScoringJob.jobId("run-on", 0));
    assertThat(producer.history())
        .singleElement()
        .satisfies(
            record ->
                assertThat(Json.read(record.value(), ShardResult.class).runId())
                    .isEqualTo("run-on"));
    assertThat(FleetMeter.JOBS_SKIPPED.counter(registry, "cancelled").count()).isEqualTo(2.0);
  }

  @Test
  void aTombstoneForgetsACancelledRun() throws Exception {
    follow(
        List.of(
            cancellation(0, "run-a"),
            cancellation(1, "run-b"),
            new ConsumerRecord<>(Topics.RUNS_CANCELLED, 0, 2, "run-a", null)));
    await("run-b cancelled", () -> cancelled.isCancelled("run-b"));
    await("run-a forgotten", () -> !cancelled.isCancelled("run-a"));
    assertThat(cancelled.isCancelled("run-c")).isFalse();
  }
}
