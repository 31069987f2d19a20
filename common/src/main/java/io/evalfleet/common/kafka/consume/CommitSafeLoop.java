package io.evalfleet.common.kafka.consume;

import io.evalfleet.common.kafka.ContiguousOffsets;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer-group member that does not lose a record: each record polled from the topic goes to
 * the role's {@link RecordHandler} on the role's executor, and its offset is committed only once
 * the handler said {@link Delivery#done()} for it and for every record before it in its partition
 * (see {@link ContiguousOffsets}). A record the handler gives back ({@link Delivery#again()}) is
 * consumed again, from its offset.
 *
 * <p>Back-pressure: when {@code pauseAt} records are held (handed out and not finished) the
 * assigned partitions are paused, polling going on so that the member stays in the group, until no
 * more than {@code resumeAt} are held.
 *
 * <p>Deliveries: a loop built with {@link Builder#countDeliveries()} lets a handler count each
 * start of a record in the partition's committed offset metadata ({@link Delivery#start()}), so
 * that a record that stops every process it is delivered to can be recognised by the next one; what
 * to do with a record delivered too often is the role's policy, decided in its handler.
 *
 * <p>Closing: {@link #close(Duration)} stops polling, lets the records in progress finish for up to
 * the given time, commits what is finished and closes the consumer. Records still waiting in the
 * executor are left to the partition's next owner. The executor is the caller's, and not shut down
 * here.
 *
 * <p>Threading: {@link #run()} owns the consumer and must be called on one thread (the poll
 * thread); handlers report through {@link Delivery} from any thread; {@link #close(Duration)} may
 * be called from any thread.
 */
public final class CommitSafeLoop<K, V> implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(CommitSafeLoop.class);
  private static final Duration CLOSE_CONSUMER = Duration.ofSeconds(5);
  private static final long COUNT_WAIT_SECONDS = 30;

  private final Consumer<K, V> consumer;
  private final String topic;
  private final String name;
  private final FleetRole role;
  private final RecordHandler<K, V> handler;
  private final Executor executor;
  private final int pauseAt;
  private final int resumeAt;
  private final Duration pollTimeout;
  private final boolean countDeliveries;
  private final boolean synchronousCommits;
  private final Counter assignedRebalances;
  private final Counter revokedRebalances;
  private final Counter lostRebalances;

  private final Map<TopicPartition, ContiguousOffsets> offsets = new HashMap<>();

  /**
   * Per partition, how often each unfinished offset was started, as committed in the offset
   * metadata.
   */
  private final Map<TopicPartition, DeliveryCounts> counts = new HashMap<>();

  private final ConcurrentLinkedQueue<Start> starts = new ConcurrentLinkedQueue<>();

  /**
   * Records whose work ended (whatever the outcome): they did not stop the process, so they are not
   * counted against.
   */
  private final ConcurrentLinkedQueue<Finish> ended = new ConcurrentLinkedQueue<>();

  private final ConcurrentLinkedQueue<Finish> finished = new ConcurrentLinkedQueue<>();

  /**
   * Partitions taken away by a rebalance: their records still waiting in the executor are skipped.
   */
  private final Set<TopicPartition> revoked = ConcurrentHashMap.newKeySet();

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile Duration drainTimeout = Duration.ofSeconds(30);

  /** Read by the metrics thread, written by the poll thread only. */
  private volatile int inFlight;

  private volatile boolean paused;
  private volatile int assigned;

  /**
   * @param done false when the record must be consumed again
   */
  private record Finish(TopicPartition partition, long offset, boolean done) {}

  /**
   * A handler about to work on a record: answered with the record's deliveries, this one counted.
   */
  private record Start(
      TopicPartition partition, long offset, CompletableFuture<Integer> deliveries) {}

  private CommitSafeLoop(Builder<K, V> builder) {
    this.consumer = builder.consumer;
    this.topic = builder.topic;
    this.name = builder.name == null ? builder.topic : builder.name;
    this.role = builder.role;
    this.handler = builder.handler;
    this.executor = builder.executor;
    this.pauseAt = builder.pauseAt;
    this.resumeAt = builder.resumeAt;
    this.pollTimeout = builder.pollTimeout;
    this.countDeliveries = builder.countDeliveries;
    this.synchronousCommits = builder.synchronousCommits;
    LoopMeters meters = builder.meters;
    MeterRegistry registry = builder.registry;
    if (meters.inFlight() != null) {
      meters.inFlight().gauge(registry, () -> inFlight);
    }
    if (meters.assigned() != null) {
      meters.assigned().gauge(registry, () -> assigned);
    }
    if (meters.paused() != null) {
      meters.paused().gauge(registry, () -> paused ? assigned : 0);
    }
    boolean rebalances = meters.rebalances() != null;
    this.assignedRebalances = rebalances ? meters.rebalances().counter(registry, "assigned") : null;
    this.revokedRebalances = rebalances ? meters.rebalances().counter(registry, "revoked") : null;
    this.lostRebalances = rebalances ? meters.rebalances().counter(registry, "lost") : null;
  }

  /** A loop over {@code topic} whose records {@code handler} handles. */
  public static <K, V> Builder<K, V> builder(
      Consumer<K, V> consumer, String topic, RecordHandler<K, V> handler) {
    return new Builder<>(consumer, topic, handler);
  }

  /** Records handed to the handler and not finished yet. */
  public int inFlight() {
    return inFlight;
  }

  /**
   * Subscribes and polls until {@link #close(Duration)}, then drains, commits and closes the
   * consumer. Throws what the consumer threw when it fails for good (after logging it); the
   * consumer is closed either way.
   */
  @Override
  public void run() {
    try {
      consumer.subscribe(List.of(topic), new Rebalance());
      while (running.get()) {
        drainStarts();
        drainFinished();
        flowControl();
        for (ConsumerRecord<K, V> record : consumer.poll(nextPollTimeout())) {
          submit(record);
        }
        commit(synchronousCommits);
      }
      drain();
    } catch (WakeupException e) {
      if (running.get()) {
        throw e;
      }
      drain();
    } catch (RuntimeException e) {
      Optional<KafkaDenial> denial = KafkaDenial.of(e);
      if (denial.isPresent()) {
        // No retry lets the principal in: one line that says what to grant, then stop for good.
        log.error("{} stopped: {}", name, denial.get().message(AclOperation.READ, role));
      } else {
        log.error("{} poll loop failed", name, e);
      }
      throw e;
    } finally {
      try {
        consumer.close(CloseOptions.timeout(CLOSE_CONSUMER));
      } finally {
        stopped.countDown();
      }
    }
  }

  /**
   * How long the next poll may block. A handler's {@link Delivery#start()} waits for this thread to
   * count it, which happens between polls: while records are in flight, polls are kept short
   * ({@link #START_POLL}) so that a job starts within milliseconds instead of a whole poll timeout
   * after it was fetched.
   */
  private Duration nextPollTimeout() {
    return countDeliveries && inFlight > 0 && pollTimeout.compareTo(START_POLL) > 0
        ? START_POLL
        : pollTimeout;
  }

  /** The longest poll while a handler may be waiting for its start to be counted. */
  static final Duration START_POLL = Duration.ofMillis(10);

  /**
   * Stops taking records, lets the records in progress finish for up to {@code timeout}, commits
   * and leaves the group; returns once the loop ended (or {@code timeout} plus 10 s passed).
   */
  public void close(Duration timeout) throws InterruptedException {
    drainTimeout = timeout;
    running.set(false);
    consumer.wakeup();
    stopped.await(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
  }

  private void drain() {
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    revoked.addAll(offsets.keySet()); // records not started yet are left to the next owner
    while (inFlight > 0 && System.nanoTime() < deadline) {
      drainStarts();
      drainFinished();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    drainFinished();
    try {
      commit(true);
    } catch (RuntimeException e) {
      log.warn(
          "{} cannot commit its offsets on closing (the unfinished records will be consumed again): {}",
          name,
          e.toString());
    }
  }

  private void submit(ConsumerRecord<K, V> record) {
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    offsets.computeIfAbsent(partition, tp -> new ContiguousOffsets()).started(record.offset());
    inFlight++;
    RecordDelivery delivery = new RecordDelivery(partition, record.offset());
    try {
      executor.execute(
          () -> {
            try {
              if (revoked.contains(partition)) {
                delivery
                    .again(); // its new owner handles it; this offset is no longer ours to commit
                return;
              }
              handler.handle(record, delivery);
            } catch (RuntimeException e) {
              log.error(
                  "{} record at {}-{}@{} will be consumed again: {}",
                  name,
                  record.topic(),
                  record.partition(),
                  record.offset(),
                  e.toString());
              delivery.again();
            }
          });
    } catch (RejectedExecutionException e) {
      log.error(
          "{} record at {}-{}@{} will be consumed again: the executor refused it ({})",
          name,
          record.topic(),
          record.partition(),
          record.offset(),
          e.toString());
      delivery.again();
    }
  }

  /**
   * Counts the deliveries that handlers announced and commits them with the partition's position.
   */
  private void drainStarts() {
    if (!countDeliveries) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    Finish end;
    while ((end = ended.poll()) != null) {
      DeliveryCounts counted = counts.get(end.partition());
      ContiguousOffsets tracker = offsets.get(end.partition());
      if (counted != null && tracker != null) {
        counted.finished(end.offset());
        // Durably: a record handled here must not be blamed when this process dies on the next one.
        long position = tracker.firstUnfinished();
        if (position >= 0) {
          commits.put(
              end.partition(),
              new OffsetAndMetadata(position, metadata(end.partition(), position)));
        }
      }
    }
    Start start;
    Map<Start, Integer> answered = new LinkedHashMap<>();
    while ((start = starts.poll()) != null) {
      ContiguousOffsets tracker = offsets.get(start.partition());
      if (tracker == null) {
        start
            .deliveries()
            .complete(1); // revoked: the record is skipped or its result is a duplicate
        continue;
      }
      int count =
          counts.computeIfAbsent(start.partition(), this::committedCounts).started(start.offset());
      long position = tracker.firstUnfinished();
      if (position >= 0) {
        commits.put(
            start.partition(),
            new OffsetAndMetadata(position, metadata(start.partition(), position)));
      }
      answered.put(start, count);
    }
    if (!commits.isEmpty()) {
      try {
        commitSync(commits);
      } catch (RuntimeException e) {
        log.warn("{} cannot record deliveries in the offset metadata: {}", name, e.toString());
      }
    }
    // Only now may the records be worked on: a delivery that kills the process is already on
    // record.
    answered.forEach((announced, count) -> announced.deliveries().complete(count));
  }

  /**
   * The deliveries counted by earlier owners of a partition, from its committed offset's metadata.
   */
  private DeliveryCounts committedCounts(TopicPartition partition) {
    try {
      OffsetAndMetadata committed = consumer.committed(Set.of(partition)).get(partition);
      return DeliveryCounts.decode(committed == null ? null : committed.metadata());
    } catch (RuntimeException e) {
      log.warn(
          "{} cannot read deliveries from the offset metadata of {}: {}",
          name,
          partition,
          e.toString());
      return new DeliveryCounts();
    }
  }

  private String metadata(TopicPartition partition, long position) {
    DeliveryCounts counted = counts.get(partition);
    return counted == null ? "" : counted.encode(position);
  }

  private void drainFinished() {
    Finish finish;
    while ((finish = finished.poll()) != null) {
      inFlight--;
      ContiguousOffsets partition = offsets.get(finish.partition());
      if (partition == null) {
        continue; // revoked meanwhile: the new owner consumes it again if it was not committed
      }
      if (finish.done()) {
        partition.completed(finish.offset());
      } else if (running.get()) {
        // Its offset stays uncommitted; rewind so that it (and what follows) is delivered again.
        consumer.seek(finish.partition(), finish.offset());
      }
    }
  }

  /** Pauses at {@code pauseAt} records held, resumes at {@code resumeAt}: memory stays bounded. */
  private void flowControl() {
    if (!paused && inFlight >= pauseAt) {
      consumer.pause(consumer.assignment());
      paused = true;
    } else if (paused && inFlight <= resumeAt) {
      consumer.resume(consumer.paused());
      paused = false;
    } else if (paused) {
      // Partitions assigned since the pause arrive unpaused.
      consumer.pause(consumer.assignment());
    }
  }

  private void commit(boolean sync) {
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    offsets.forEach(
        (partition, tracker) -> {
          long next = tracker.advance();
          if (next >= 0) {
            commits.put(partition, new OffsetAndMetadata(next, metadata(partition, next)));
          }
        });
    if (commits.isEmpty()) {
      return;
    }
    if (!sync) {
      consumer.commitAsync(
          commits,
          (done, e) -> {
            if (e != null) {
              log.warn(
                  "{} offset commit failed (the records will be consumed again): {}",
                  name,
                  e.toString());
            }
          });
    } else if (synchronousCommits) {
      try {
        commitSync(commits);
      } catch (RuntimeException e) {
        log.warn(
            "{} offset commit failed (the records will be consumed again): {}", name, e.toString());
      }
    } else {
      commitSync(commits);
    }
  }

  /**
   * Commits once more when the first try was interrupted by {@link #close}'s wakeup, which is meant
   * for the poll and must not cost the commit: the offsets were already taken from their trackers.
   */
  private void commitSync(Map<TopicPartition, OffsetAndMetadata> commits) {
    try {
      consumer.commitSync(commits);
    } catch (WakeupException e) {
      consumer.commitSync(commits);
    }
  }

  private static void count(Counter counter) {
    if (counter != null) {
      counter.increment();
    }
  }

  private final class RecordDelivery implements Delivery {
    private final TopicPartition partition;
    private final long offset;
    private final AtomicBoolean over = new AtomicBoolean();

    RecordDelivery(TopicPartition partition, long offset) {
      this.partition = partition;
      this.offset = offset;
    }

    @Override
    public int start() {
      if (!countDeliveries) {
        return 1;
      }
      var start = new Start(partition, offset, new CompletableFuture<>());
      starts.add(start);
      try {
        return start.deliveries().get(COUNT_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 1;
      } catch (ExecutionException | TimeoutException e) {
        return 1; // not counted: handled as usual
      }
    }

    @Override
    public void ended() {
      if (countDeliveries) {
        CommitSafeLoop.this.ended.add(new Finish(partition, offset, true));
      }
    }

    @Override
    public void done() {
      if (over.compareAndSet(false, true)) {
        finished.add(new Finish(partition, offset, true));
      }
    }

    @Override
    public void again() {
      if (over.compareAndSet(false, true)) {
        finished.add(new Finish(partition, offset, false));
      }
    }
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      count(revokedRebalances);
      assigned = Math.max(0, assigned - partitions.size());
      drainFinished();
      try {
        commit(true);
      } finally {
        // Records of revoked partitions still waiting are skipped; one already running finishes
        // anyway
        // (its result must be idempotent). Their offsets belong to the new owner now.
        revoked.addAll(partitions);
        partitions.forEach(offsets::remove);
        partitions.forEach(counts::remove);
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      count(assignedRebalances);
      assigned += partitions.size();
      revoked.removeAll(partitions);
      if (paused) {
        consumer.pause(partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      count(lostRebalances);
      assigned = Math.max(0, assigned - partitions.size());
      revoked.addAll(partitions);
      partitions.forEach(offsets::remove);
      partitions.forEach(counts::remove);
    }
  }

  /**
   * How a {@link CommitSafeLoop} runs. Defaults: handlers run on the poll thread, no back-pressure,
   * polls of 100 ms, no delivery counting, offsets committed asynchronously while polling (and
   * synchronously on a rebalance and on closing), no meters.
   */
  public static final class Builder<K, V> {
    private final Consumer<K, V> consumer;
    private final String topic;
    private final RecordHandler<K, V> handler;
    private String name;
    private FleetRole role;
    private Executor executor = Runnable::run;
    private boolean executorGiven;
    private int pauseAt = Integer.MAX_VALUE;
    private int resumeAt = Integer.MAX_VALUE - 1;
    private Duration pollTimeout = Duration.ofMillis(100);
    private boolean countDeliveries;
    private boolean synchronousCommits;
    private MeterRegistry registry;
    private LoopMeters meters = LoopMeters.none();

    private Builder(Consumer<K, V> consumer, String topic, RecordHandler<K, V> handler) {
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.topic = Objects.requireNonNull(topic, "topic");
      this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** Who the loop is in its log lines ("worker w-1", "notifier"); the topic by default. */
    public Builder<K, V> name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * The fleet role whose principal the consumer runs as: a denial by the cluster names it in the
     * command that grants the role's ACLs.
     */
    public Builder<K, V> role(FleetRole role) {
      this.role = Objects.requireNonNull(role, "role");
      return this;
    }

    /**
     * Runs the handler; not shut down by the loop. By default the handler runs on the poll thread.
     */
    public Builder<K, V> executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      this.executorGiven = true;
      return this;
    }

    /**
     * Pauses the partitions at {@code pauseAt} records held and resumes them at {@code resumeAt}.
     */
    public Builder<K, V> backpressure(int pauseAt, int resumeAt) {
      if (pauseAt < 1 || resumeAt < 0 || resumeAt >= pauseAt) {
        throw new IllegalArgumentException(
            "back-pressure must resume below where it pauses, both positive: pauseAt "
                + pauseAt
                + ", resumeAt "
                + resumeAt);
      }
      this.pauseAt = pauseAt;
      this.resumeAt = resumeAt;
      return this;
    }

    public Builder<K, V> pollTimeout(Duration pollTimeout) {
      if (pollTimeout == null || pollTimeout.isNegative() || pollTimeout.isZero()) {
        throw new IllegalArgumentException("poll timeout must be positive, got " + pollTimeout);
      }
      this.pollTimeout = pollTimeout;
      return this;
    }

    /**
     * Keeps each record's deliveries in the committed offset metadata: see {@link
     * Delivery#start()}.
     */
    public Builder<K, V> countDeliveries() {
      this.countDeliveries = true;
      return this;
    }

    /**
     * Commits with {@code commitSync} after every poll too, logging a failure instead of throwing
     * it.
     */
    public Builder<K, V> synchronousCommits() {
      this.synchronousCommits = true;
      return this;
    }

    public Builder<K, V> meters(MeterRegistry registry, LoopMeters meters) {
      this.registry = Objects.requireNonNull(registry, "registry");
      this.meters = Objects.requireNonNull(meters, "meters");
      return this;
    }

    public CommitSafeLoop<K, V> build() {
      if (countDeliveries && !executorGiven) {
        throw new IllegalStateException(
            "a loop that counts deliveries needs an executor of its own: a handler on the"
                + " poll thread would wait for itself to count its delivery");
      }
      if (registry == null && !meters.equals(LoopMeters.none())) {
        throw new IllegalStateException("meters need a registry");
      }
      return new CommitSafeLoop<>(this);
    }
  }
}
