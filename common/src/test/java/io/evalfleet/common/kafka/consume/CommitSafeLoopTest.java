package io.evalfleet.common.kafka.consume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.metrics.FleetMeter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The loop's commit and flow-control rules, with Kafka's own mock consumer and a handler that
 * leaves each record open until the test finishes it.
 */
class CommitSafeLoopTest {
  static final String TOPIC = "work";
  static final TopicPartition P0 = new TopicPartition(TOPIC, 0);

  /** The timeouts of the polls, in order (the first thousand since last cleared). */
  final List<Duration> pollTimeouts = new CopyOnWriteArrayList<>();

  final MockConsumer<String, String> consumer =
      new MockConsumer<>("earliest") {
        @Override
        public synchronized ConsumerRecords<String, String> poll(Duration timeout) {
          if (pollTimeouts.size() < 1_000) {
            pollTimeouts.add(timeout);
          }
          return super.poll(timeout);
        }
      };
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** The deliveries handed to the handler, by offset, for the test to finish. */
  final Map<Long, Delivery> open = new ConcurrentHashMap<>();

  /** What {@link Delivery#start()} answered, by offset. */
  final Map<Long, Integer> counted = new ConcurrentHashMap<>();

  final AtomicInteger handled = new AtomicInteger();
  ExecutorService executor;
  CommitSafeLoop<String, String> loop;
  Thread thread;

  void records(int count) {
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          for (int i = 0; i < count; i++) {
            consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, i, "k" + i, "v" + i));
          }
        });
  }

  void start(CommitSafeLoop.Builder<String, String> builder) {
    loop = builder.build();
    thread = new Thread(loop, "test-poll");
    thread.start();
  }

  /** A handler that keeps each record open; with {@code count}, it first counts the delivery. */
  CommitSafeLoop.Builder<String, String> loop(boolean count) {
    executor = Executors.newFixedThreadPool(4);
    var builder =
        CommitSafeLoop.<String, String>builder(
                consumer,
                TOPIC,
                (record, delivery) -> {
                  if (count) {
                    counted.put(record.offset(), delivery.start());
                  }
                  handled.incrementAndGet();
                  open.put(record.offset(), delivery);
                })
            .executor(executor)
            .meters(
                registry,
                new LoopMeters(
                    FleetMeter.WORKER_JOBS_IN_FLIGHT,
                    FleetMeter.PARTITIONS_ASSIGNED,
                    FleetMeter.PARTITIONS_PAUSED,
                    FleetMeter.REBALANCES));
    return count ? builder.countDeliveries() : builder;
  }

  @AfterEach
  void stop() throws Exception {
    open.values().forEach(Delivery::done);
    if (loop != null) {
      loop.close(Duration.ofSeconds(5));
      thread.join(10_000);
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

  static void holds(String what, BooleanSupplier condition, Duration period) {
    Awaitility.await(what)
        .during(period)
        .atMost(period.plusSeconds(5))
        .pollInterval(Duration.ofMillis(5))
        .until(condition::getAsBoolean);
  }

  OffsetAndMetadata committed() {
    return consumer.committed(Set.of(P0)).get(P0);
  }

  Long committedOffset() {
    OffsetAndMetadata committed = committed();
    return committed == null ? null : committed.offset();
  }

  double gauge(FleetMeter meter) {
    return registry.find(meter.meterName()).gauge().value();
  }

  @Test
  void aDenialByTheClusterEndsTheLoopAtOnceInsteadOfPollingOn() {
    consumer.setPollException(new GroupAuthorizationException("denied", "evalfleet-workers"));
    loop = loop(false).role(FleetRole.WORKER).build();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    thread = new Thread(loop, "test-poll");
    thread.setUncaughtExceptionHandler((t, e) -> failure.set(e));
    thread.start();

    await("the loop ended", () -> !thread.isAlive());
    assertThat(failure.get()).isInstanceOf(GroupAuthorizationException.class);
    assertThat(pollTimeouts).hasSize(1);
    assertThat(consumer.closed()).isTrue();
  }

  @Test
  void pollsBrieflyWhileARecordIsInFlightSoThatItsStartIsCountedAtOnce() {
    Duration configured = Duration.ofSeconds(1);
    records(1);
    start(loop(true).pollTimeout(configured));
    await("the start counted", () -> counted.containsKey(0L));
    pollTimeouts.clear();
    await("a poll while the record is in flight", () -> pollTimeouts.size() >= 3);
    assertThat(pollTimeouts).allMatch(t -> t.equals(CommitSafeLoop.START_POLL));
    open.get(0L).done();
    await("the record committed", () -> Long.valueOf(1).equals(committedOffset()));
    pollTimeouts.clear();
    await("a poll with nothing in flight", () -> pollTimeouts.size() >= 3);
    // a snapshot: the loop may still be polling, and a sub-list of a list that changes under it
    // throws ConcurrentModificationException
    List<Duration> polled = List.copyOf(pollTimeouts);
    assertThat(polled.subList(1, polled.size())).allMatch(t -> t.equals(configured));
  }

  @Test
  void pollsWithItsOwnTimeoutWhenDeliveriesAreNotCounted() {
    Duration configured = Duration.ofSeconds(1);
    records(1);
    start(loop(false).pollTimeout(configured));
    await("the record handed out", () -> open.containsKey(0L));
    pollTimeouts.clear();
    await("polls while the record is in flight", () -> pollTimeouts.size() >= 3);
    assertThat(pollTimeouts).allMatch(t -> t.equals(configured));
  }

  @Test
  void commitsOnlyTheContiguousFinishedOffsets() {
    records(3);
    start(loop(false));
    await("all three handed out", () -> open.size() == 3);
    open.get(2L).done();
    open.get(1L).done();
    holds(
        "nothing committed past the unfinished first record",
        () -> committedOffset() == null,
        Duration.ofMillis(200));
    open.get(0L).done();
    await("all three committed at once", () -> Long.valueOf(3).equals(committedOffset()));
    assertThat(committed().metadata()).as("a loop that does not count keeps no metadata").isEmpty();
  }

  @Test
  void aRecordGivenBackIsNeverCommittedAndIsReadAgainFromItsOffset() {
    records(3);
    start(loop(false));
    await("all three handed out", () -> open.size() == 3);
    open.get(0L).done();
    open.get(1L).again();
    open.get(2L).done();
    await("the first is committed", () -> Long.valueOf(1).equals(committedOffset()));
    await("the loop seeks back to the record given back", () -> consumer.position(P0) == 1);
    holds(
        "never past the record given back",
        () -> Long.valueOf(1).equals(committedOffset()),
        Duration.ofMillis(200));
  }

  @Test
  void aHandlerThatThrowsHasItsRecordConsumedAgain() {
    records(2);
    executor = Executors.newFixedThreadPool(1);
    start(
        CommitSafeLoop.<String, String>builder(
                consumer,
                TOPIC,
                (record, delivery) -> {
                  if (record.offset() == 0) {
                    throw new IllegalStateException("cannot handle " + record.value());
                  }
                  delivery.done();
                })
            .executor(executor));
    await("the loop seeks back to the record that failed", () -> consumer.position(P0) == 0);
    holds("nothing committed", () -> committedOffset() == null, Duration.ofMillis(200));
  }

  @Test
  void aRecordFinishedTwiceCountsOnce() {
    records(2);
    start(loop(false));
    await("both handed out", () -> open.size() == 2);
    open.get(0L).done();
    open.get(0L).again(); // ignored: the record was already finished
    await("the first is committed", () -> Long.valueOf(1).equals(committedOffset()));
    assertThat(gauge(FleetMeter.WORKER_JOBS_IN_FLIGHT)).isEqualTo(1);
  }

  @Test
  void pausesThePartitionsWhenFullAndResumesWhenDrained() {
    records(4);
    start(loop(false).backpressure(3, 2));
    await("all four handed out (one poll fetches them)", () -> open.size() == 4);
    await("the partition is paused", () -> consumer.paused().contains(P0));
    assertThat(gauge(FleetMeter.PARTITIONS_PAUSED)).isEqualTo(1);
    open.get(0L).done();
    holds(
        "still paused above the resume mark",
        () -> consumer.paused().contains(P0),
        Duration.ofMillis(200));
    open.get(1L).done();
    await("the partition is resumed", () -> consumer.paused().isEmpty());
    assertThat(gauge(FleetMeter.PARTITIONS_ASSIGNED)).isEqualTo(1);
  }

  @Test
  void countsEachDeliveryInTheCommittedMetadataBeforeTheHandlerGoesOn() {
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          // Two earlier owners stopped while handling the record at offset 0.
          consumer.commitSync(Map.of(P0, new OffsetAndMetadata(0, "d=0:2")));
          consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, 0, "k0", "v0"));
          consumer.addRecord(new ConsumerRecord<>(TOPIC, 0, 1, "k1", "v1"));
        });
    start(loop(true));
    await("both handed out", () -> open.size() == 2);
    assertThat(counted).containsEntry(0L, 3).containsEntry(1L, 1);
    assertThat(committed().metadata())
        .as("on record before the handler went on")
        .isEqualTo("d=0:3,1:1");
    assertThat(committedOffset()).isZero();
    open.get(1L).ended();
    open.get(1L).done();
    await("the second record's count is forgotten", () -> "d=0:3".equals(committed().metadata()));
    assertThat(committedOffset()).as("never past the first").isZero();
    open.get(0L).ended();
    open.get(0L).done();
    await(
        "both committed, nothing left to count",
        () -> Long.valueOf(2).equals(committedOffset()) && "d=".equals(committed().metadata()));
  }

  @Test
  void aRecordNeverEndedKeepsItsCountForTheNextOwner() {
    records(1);
    start(loop(true));
    await("handed out", () -> open.size() == 1);
    open.get(0L).again(); // cut short: neither answered nor forgiven
    holds(
        "its delivery stays on record",
        () -> "d=0:1".equals(committed().metadata()),
        Duration.ofMillis(200));
    assertThat(committedOffset()).isZero();
  }

  @Test
  void aCountingLoopNeedsAnExecutorOfItsOwn() {
    assertThatThrownBy(
            () ->
                CommitSafeLoop.<String, String>builder(consumer, TOPIC, (r, d) -> d.done())
                    .countDeliveries()
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("executor");
    assertThatThrownBy(
            () ->
                CommitSafeLoop.<String, String>builder(consumer, TOPIC, (r, d) -> d.done())
                    .backpressure(2, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("resumeAt 2");
  }

  @Test
  void aRevokedPartitionHasItsFinishedOffsetsCommittedAndItsWaitingRecordsSkipped() {
    records(3);
    executor = Executors.newFixedThreadPool(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger ran = new AtomicInteger();
    start(
        CommitSafeLoop.<String, String>builder(
                consumer,
                TOPIC,
                (record, delivery) -> {
                  ran.incrementAndGet();
                  if (record.offset() == 0) {
                    try {
                      release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                  delivery.done();
                })
            .executor(executor)
            .meters(registry, new LoopMeters(null, null, null, FleetMeter.REBALANCES)));
    await("the first record runs", () -> ran.get() == 1);
    consumer.schedulePollTask(() -> consumer.rebalance(List.of()));
    await(
        "the partition is revoked",
        () ->
            registry
                    .find(FleetMeter.REBALANCES.meterName())
                    .tag("kind", "revoked")
                    .counter()
                    .count()
                == 1);
    release.countDown();
    holds(
        "the records waiting behind it are left to the next owner",
        () -> ran.get() == 1,
        Duration.ofMillis(200));
    assertThat(committedOffset()).as("nothing was finished when the partition went").isNull();
  }

  @Test
  void closeLetsTheRunningRecordsFinishAndCommitsThem() throws Exception {
    records(1);
    start(loop(false));
    await("handed out", () -> open.size() == 1);
    CountDownLatch closed = new CountDownLatch(1);
    Thread closer =
        new Thread(
            () -> {
              try {
                loop.close(Duration.ofSeconds(5));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              closed.countDown();
            });
    closer.start();
    holds(
        "close waits for the running record", () -> closed.getCount() == 1, Duration.ofMillis(200));
    open.get(0L).done();
    assertThat(closed.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(consumer.closed()).isTrue();
    loop = null;
  }
}
