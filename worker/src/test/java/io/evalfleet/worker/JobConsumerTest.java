package io.evalfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.task.Task;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The poll loop's flow control and commit rules, with Kafka's own mock clients and a controllable
 * scorer.
 */
class JobConsumerTest {
  static final TopicPartition P0 = new TopicPartition(Topics.JOBS, 0);
  static final ArtifactRef REF = new ArtifactRef("/m.onnx", "a".repeat(64));

  final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
  MockProducer<String, byte[]> producer =
      new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  ExecutorService executor;
  final Semaphore release = new Semaphore(0);
  final AtomicInteger started = new AtomicInteger();
  JobConsumer jobs;
  Thread loop;

  static byte[] job(int shard) {
    return Json.write(
        ScoringJob.builder()
            .jobId(ScoringJob.jobId("run-1", shard))
            .runId("run-1")
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

  ShardResult answer(ScoringJob job) {
    started.incrementAndGet();
    try {
      release.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return ShardResult.answering(job)
        .values(Map.of("cosine", new double[job.rowCount()]))
        .workerId("w")
        .executionProvider("cpu")
        .durationMs(1)
        .attempt(1)
        .build();
  }

  void start(int capacity, int records) {
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          for (int i = 0; i < records; i++) {
            consumer.addRecord(new ConsumerRecord<>(Topics.JOBS, 0, i, "k" + i, job(i)));
          }
        });
    startConsumer(capacity);
  }

  /** As the worker wires it: {@code capacity} scoring threads. */
  void startConsumer(int capacity) {
    startConsumer(capacity, job -> new Isolation.Answered(answer(job)));
  }

  /** With {@code isolation} scoring the suspect jobs (3 deliveries without an answer). */
  void startConsumer(int capacity, Isolation isolation) {
    executor = Executors.newFixedThreadPool(capacity);
    jobs =
        new JobConsumer(
            consumer,
            producer,
            this::answer,
            executor,
            capacity,
            3,
            isolation,
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    loop = new Thread(jobs);
    loop.start();
  }

  /**
   * A job at offset 0 that {@code stopped} workers took without answering, and a job at offset 1
   * that none took.
   */
  void startWithSuspect(int stopped, Isolation isolation) {
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          // What the workers left before they stopped scoring the job at offset 0.
          consumer.commitSync(
              Map.of(
                  P0,
                  new org.apache.kafka.clients.consumer.OffsetAndMetadata(0, "d=0:" + stopped)));
          consumer.addRecord(new ConsumerRecord<>(Topics.JOBS, 0, 0, "k0", job(0)));
          consumer.addRecord(new ConsumerRecord<>(Topics.JOBS, 0, 1, "k1", job(1)));
        });
    release.release(2);
    startConsumer(1, isolation);
  }

  @AfterEach
  void stop() throws Exception {
    release.release(100);
    if (jobs != null) {
      jobs.close(Duration.ofSeconds(5));
      loop.join(10_000);
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

  /**
   * Asserts that {@code condition} stays true for {@code period}: something that must not happen
   * does not.
   */
  static void holds(String what, BooleanSupplier condition, Duration period) {
    Awaitility.await(what)
        .during(period)
        .atMost(period.plusSeconds(5))
        .pollInterval(Duration.ofMillis(5))
        .until(condition::getAsBoolean);
  }

  Long committed() {
    var offsets = consumer.committed(Set.of(P0));
    return offsets.get(P0) == null ? null : offsets.get(P0).offset();
  }

  @Test
  void pausesPartitionsWhenTwiceTheCapacityIsHeldAndResumesWhenItDrains() throws Exception {
    start(1, 3);
    await("the first job runs", () -> started.get() == 1);
    await("the partition is paused", () -> consumer.paused().contains(P0));
    holds(
        "no second job while the only thread is busy",
        () -> started.get() == 1,
        Duration.ofMillis(100));
    release.release(3);
    await("all three results are published", () -> producer.history().size() == 3);
    await("the partition is resumed", () -> consumer.paused().isEmpty());
    await("every offset is committed", () -> Long.valueOf(3).equals(committed()));
    assertThat(producer.history())
        .allMatch(r -> r.topic().equals(Topics.RESULTS) && r.key().equals("m"));
  }

  @Test
  void resultsAreAcknowledgedOffTheScoringThreadAndAnUnacknowledgedResultIsNeverCommitted()
      throws Exception {
    producer = new MockProducer<>(false, null, new StringSerializer(), new ByteArraySerializer());
    release.release(3);
    start(1, 3);
    await(
        "all three results are sent while none is acknowledged",
        () -> producer.history().size() == 3);
    assertThat(committed())
        .as("nothing acknowledged, nothing committed past the first job")
        .isIn(null, 0L);
    assertThat(producer.completeNext()).isTrue();
    await("the first offset is committed", () -> Long.valueOf(1).equals(committed()));
    assertThat(
            producer.errorNext(new org.apache.kafka.common.errors.TimeoutException("broker gone")))
        .isTrue();
    assertThat(producer.completeNext()).isTrue();
    holds(
        "never past the job whose result was lost: it will be consumed again",
        () -> Long.valueOf(1).equals(committed()),
        Duration.ofMillis(200));
  }

  @Test
  void commitsOnlyAfterTheResultIsPublishedAndNeverPastARunningJob() throws Exception {
    start(2, 2);
    await("both jobs run", () -> started.get() == 2);
    holds(
        "nothing published, nothing committed past the first job",
        () -> committed() == null || committed() == 0,
        Duration.ofMillis(100));
    release.release(2);
    await("both offsets committed", () -> Long.valueOf(2).equals(committed()));
    assertThat(producer.history()).hasSize(2);
  }

  @Test
  void unreadableJobIsSkippedWithoutStoppingTheLoop() throws Exception {
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.addRecord(new ConsumerRecord<>(Topics.JOBS, 0, 0, "bad", "{oops".getBytes()));
          consumer.addRecord(new ConsumerRecord<>(Topics.JOBS, 0, 1, "k1", job(1)));
        });
    startConsumer(1);
    release.release(1);
    await(
        "the dead letter and the good job's result are published",
        () -> producer.history().size() == 2);
    await("both offsets committed", () -> Long.valueOf(2).equals(committed()));
    var deadLetter = producer.history().get(0);
    assertThat(deadLetter.topic()).isEqualTo(Topics.DLQ);
    assertThat(deadLetter.value()).isEqualTo("{oops".getBytes());
    assertThat(header(deadLetter, DeadLetters.ORIGINAL_TOPIC)).isEqualTo(Topics.JOBS);
    assertThat(header(deadLetter, DeadLetters.ORIGINAL_OFFSET)).isEqualTo("0");
    assertThat(header(deadLetter, DeadLetters.ERROR_CLASS))
        .isEqualTo(ContractViolation.class.getName());
    assertThat(header(deadLetter, DeadLetters.ERROR_MESSAGE)).contains("malformed JSON");
    assertThat(producer.history().get(1).topic()).isEqualTo(Topics.RESULTS);
  }

  @Test
  void unreadableJobThatNamesItsRunFailsThatRun() throws Exception {
    byte[] broken =
        ("{\"schema_version\": 1, \"job_id\": \"run-9/00003\", \"run_id\": \"run-9\", \"model\": \"m9\","
                + " \"shard_index\": 3}")
            .getBytes();
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          consumer.addRecord(new ConsumerRecord<>(Topics.JOBS, 0, 0, "run-9/00003", broken));
        });
    startConsumer(1);
    await("dead letter and failed result published", () -> producer.history().size() == 2);
    ShardResult failure = Json.read(producer.history().get(1).value(), ShardResult.class);
    assertThat(producer.history().get(1).key())
        .as("keyed by model, like every result")
        .isEqualTo("m9");
    assertThat(failure.runId()).isEqualTo("run-9");
    assertThat(failure.shardIndex()).isEqualTo(3);
    assertThat(failure.error().kind()).isEqualTo(io.evalfleet.common.failure.FailureKind.BAD_INPUT);
    assertThat(failure.error().message()).contains("scoring job is unreadable", "': is required");
    assertThat(started.get()).as("nothing was scored").isZero();
  }

  @Test
  void aJobDeliveredToWorkersThatStoppedIsScoredAloneAndItsAnswerPublished() throws Exception {
    List<String> isolated = new java.util.concurrent.CopyOnWriteArrayList<>();
    startWithSuspect(
        3,
        job -> {
          isolated.add(job.jobId());
          return new Isolation.Answered(
              ShardResult.answering(job)
                  .values(Map.of("cosine", new double[job.rowCount()]))
                  .workerId("w")
                  .executionProvider("cpu")
                  .durationMs(1)
                  .attempt(1)
                  .build());
        });
    await("both jobs answered", () -> producer.history().size() == 2);
    assertThat(isolated)
        .as("only the suspect was scored alone")
        .containsExactly(ScoringJob.jobId("run-1", 0));
    ShardResult suspect = Json.read(producer.history().get(0).value(), ShardResult.class);
    assertThat(suspect.jobId()).isEqualTo(ScoringJob.jobId("run-1", 0));
    assertThat(suspect.failed())
        .as("three stopped workers are no evidence against the job")
        .isFalse();
    assertThat(started.get()).as("only the second job was scored in the worker").isEqualTo(1);
    await("both offsets committed", () -> Long.valueOf(2).equals(committed()));
    assertThat(consumer.committed(Set.of(P0)).get(P0).metadata())
        .as("nothing left to count")
        .isEqualTo("d=");
  }

  @Test
  void aJobDeliveredFewerTimesThanTheLimitIsScoredInTheWorker() throws Exception {
    AtomicInteger isolated = new AtomicInteger();
    startWithSuspect(
        2,
        job -> {
          isolated.incrementAndGet();
          return new Isolation.Died("never");
        });
    await("both jobs answered", () -> producer.history().size() == 2);
    assertThat(isolated.get()).isZero();
    assertThat(started.get()).isEqualTo(2);
  }

  @Test
  void aJobWhoseIsolatedScoringDiesIsAnsweredAsCrashedNamingTheEvidenceAndTheRows()
      throws Exception {
    startWithSuspect(3, job -> new Isolation.Died("ran out of memory (-Xmx256m), exit status 3"));
    await("both jobs answered", () -> producer.history().size() == 2);
    ShardResult crashed = Json.read(producer.history().get(0).value(), ShardResult.class);
    assertThat(crashed.jobId()).isEqualTo(ScoringJob.jobId("run-1", 0));
    assertThat(crashed.error().kind()).isEqualTo(io.evalfleet.common.failure.FailureKind.CRASHED);
    assertThat(crashed.error().message())
        .contains(
            "(rows 0-9) was delivered to 3 workers that stopped without answering it",
            "scored alone in a process of its own, it stopped that process too: ran out of memory (-Xmx256m), exit status 3");
    assertThat(Json.read(producer.history().get(1).value(), ShardResult.class).failed()).isFalse();
    assertThat(started.get()).as("only the second job was scored in the worker").isEqualTo(1);
    await("both offsets committed", () -> Long.valueOf(2).equals(committed()));
  }

  @Test
  void aJobWhoseIsolatedScoringCouldNotStartIsAnsweredAsABugNotBlamed() throws Exception {
    startWithSuspect(3, job -> new Isolation.Failed("cannot start a process: no java"));
    await("both jobs answered", () -> producer.history().size() == 2);
    ShardResult failed = Json.read(producer.history().get(0).value(), ShardResult.class);
    assertThat(failed.error().kind()).isEqualTo(io.evalfleet.common.failure.FailureKind.BUG);
    assertThat(failed.error().message())
        .contains("could not be scored alone: cannot start a process: no java");
  }

  @Test
  void aJobWhoseIsolatedScoringIsCutShortIsNeitherAnsweredNorForgiven() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    startWithSuspect(
        3,
        job -> {
          calls.incrementAndGet();
          return new Isolation.Abandoned("the worker is stopping");
        });
    await("the other job answered", () -> producer.history().size() == 1);
    assertThat(Json.read(producer.history().get(0).value(), ShardResult.class).jobId())
        .as("the cut-short scoring published nothing")
        .isEqualTo(ScoringJob.jobId("run-1", 1));
    assertThat(calls.get()).isEqualTo(1);
    await(
        "the other job's completion recorded",
        () -> "d=0:4".equals(consumer.committed(Set.of(P0)).get(P0).metadata()));
    assertThat(committed()).as("left uncommitted: it is delivered again").isZero();
  }

  static String header(
      org.apache.kafka.clients.producer.ProducerRecord<String, byte[]> record, String key) {
    return new String(
        record.headers().lastHeader(key).value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void closeLetsRunningJobsFinishAndCommitsThem() throws Exception {
    start(1, 1);
    await("the job runs", () -> started.get() == 1);
    CountDownLatch closed = new CountDownLatch(1);
    Thread closer =
        new Thread(
            () -> {
              try {
                jobs.close(Duration.ofSeconds(5));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              closed.countDown();
            });
    closer.start();
    holds("close waits for the running job", () -> closed.getCount() == 1, Duration.ofMillis(100));
    release.release(1);
    assertThat(closed.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(producer.history()).hasSize(1);
    jobs = null;
  }
}
