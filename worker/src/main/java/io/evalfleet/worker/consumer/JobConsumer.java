package io.evalfleet.worker.consumer;

import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.kafka.ContiguousOffsets;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.worker.isolation.Isolation;
import io.evalfleet.scoring.JobScorer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's consumer-group membership on {@code evalfleet.jobs}. The poll loop never blocks on
 * scoring: each fetched job goes straight to an executor of {@code capacity} threads, where it runs
 * or waits its turn, so a thread that finishes takes the next job at once. At most
 * {@code 2 × capacity} jobs are held: then the assigned partitions are paused (polling goes on,
 * keeping the member alive) until no more than {@code capacity} are left. A job's offset is committed only after its result has been
 * acknowledged by the broker, and only up to the highest contiguous completed offset.
 *
 * <p>A job that stops the workers it is delivered to (a native crash, the out-of-memory killer)
 * would otherwise stop every worker in turn: before a job is scored, the delivery is counted in the
 * partition's committed offset metadata, which survives the worker. A job delivered {@code
 * maxDeliveries} times without an answer is a suspect, not a culprit: workers also die of causes of
 * their own (a node that crash-loops, a spot instance taken back). Its next delivery is scored
 * alone, by the {@link Isolation} (a process of its own): its answer is the job's answer; a death
 * of that process while this worker lives is evidence, and the job is answered with a {@code
 * crashed} failure naming it; an isolation cut short by this worker stopping blames nothing, and the
 * job is delivered again with its deliveries still counted.
 *
 * <p>Threading: {@link #run()} owns the consumer; scoring threads only publish results and report
 * starts and completions through queues. {@link #close(Duration)} may be called from any thread.
 */
public final class JobConsumer implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(JobConsumer.class);
  private static final Duration POLL = Duration.ofMillis(100);

  private final Consumer<String, byte[]> consumer;
  private final Producer<String, byte[]> producer;
  private final JobScorer scorer;
  private final ExecutorService executor;
  private final int capacity;
  private final int maxDeliveries;
  private final Isolation isolation;
  private final Map<TopicPartition, ContiguousOffsets> offsets = new HashMap<>();
  /** Per partition, how often each unfinished offset was started, as committed in the offset metadata. */
  private final Map<TopicPartition, Deliveries> deliveries = new HashMap<>();
  private final ConcurrentLinkedQueue<Start> starts = new ConcurrentLinkedQueue<>();
  /** Records whose scoring ended (whatever the outcome): they did not stop the worker, so they are not counted against. */
  private final ConcurrentLinkedQueue<Completion> scored = new ConcurrentLinkedQueue<>();
  /** Partitions taken away by a rebalance: their jobs still waiting in the executor are skipped. */
  private final Set<TopicPartition> revoked = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<Completion> completions = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
  private volatile Duration drainTimeout = Duration.ofSeconds(30);
  /** Read by the metrics thread, written by the poll loop only. */
  private volatile int inFlight;
  private volatile boolean paused;
  private volatile int assigned;
  private final MeterRegistry registry;

  /** @param published false when the result could not be published: the job must be consumed again */
  private record Completion(TopicPartition partition, long offset, boolean published) {}

  /** A scoring thread about to score a record: answered with the record's deliveries, this one counted. */
  private record Start(TopicPartition partition, long offset, java.util.concurrent.CompletableFuture<Integer> deliveries) {}

  /**
   * A consumer whose suspect jobs (3 deliveries without an answer) are scored again by {@code scorer}
   * in this process, for tests and embedded use.
   *
   * @param executor runs scoring with {@code capacity} threads and an unbounded queue (this class bounds
   *     what it submits). Not shut down here.
   */
  public JobConsumer(Consumer<String, byte[]> consumer, Producer<String, byte[]> producer, JobScorer scorer,
      ExecutorService executor, int capacity) {
    this(consumer, producer, scorer, executor, capacity, 3, job -> new Isolation.Answered(scorer.score(job)),
        new SimpleMeterRegistry());
  }

  /**
   * @param maxDeliveries deliveries of a job without an answer after which its next delivery is scored by
   *     {@code isolation} instead of {@code scorer}
   * @param isolation scores suspect jobs alone; not closed here
   */
  public JobConsumer(Consumer<String, byte[]> consumer, Producer<String, byte[]> producer, JobScorer scorer,
      ExecutorService executor, int capacity, int maxDeliveries, Isolation isolation, MeterRegistry registry) {
    this.registry = registry;
    FleetMeter.WORKER_JOBS_IN_FLIGHT.gauge(registry, () -> inFlight);
    FleetMeter.WORKER_CAPACITY.gauge(registry, () -> capacity);
    FleetMeter.PARTITIONS_ASSIGNED.gauge(registry, () -> assigned);
    FleetMeter.PARTITIONS_PAUSED.gauge(registry, () -> paused ? assigned : 0);
    for (String kind : List.of("assigned", "revoked", "lost")) {
      FleetMeter.REBALANCES.counter(registry, kind);
    }
    FleetMeter.DEAD_LETTERS.counter(registry, Topics.JOBS);
    for (String outcome : List.of("answered", "died", "abandoned", "failed")) {
      FleetMeter.ISOLATED_SCORINGS.counter(registry, outcome);
    }
    this.consumer = consumer;
    this.producer = producer;
    this.scorer = scorer;
    this.executor = executor;
    this.capacity = capacity;
    this.maxDeliveries = maxDeliveries;
    this.isolation = isolation;
  }

  @Override
  public void run() {
    try {
      consumer.subscribe(List.of(Topics.JOBS), new Rebalance());
      while (running.get()) {
        drainStarts();
        drainCompletions();
        flowControl();
        for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL)) {
          submit(record);
        }
        commit(false);
      }
      drain();
    } catch (WakeupException e) {
      if (running.get()) {
        throw e;
      }
      drain();
    } catch (RuntimeException e) {
      log.error("worker poll loop failed", e);
      throw e;
    } finally {
      try {
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
      } finally {
        stopped.countDown();
      }
    }
  }

  /** Stops taking jobs, lets running jobs finish for up to {@code timeout}, commits and leaves the group. */
  public void close(Duration timeout) throws InterruptedException {
    drainTimeout = timeout;
    running.set(false);
    consumer.wakeup();
    stopped.await(timeout.toMillis() + 10_000, TimeUnit.MILLISECONDS);
  }

  private void drain() {
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    revoked.addAll(offsets.keySet()); // jobs not started yet are left to the next owner
    while (inFlight > 0 && System.nanoTime() < deadline) {
      drainCompletions();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    drainCompletions();
    commit(true);
  }

  private void submit(ConsumerRecord<String, byte[]> record) {
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    offsets.computeIfAbsent(partition, tp -> new ContiguousOffsets()).started(record.offset());
    inFlight++;
    executor.execute(() -> {
      // Exactly one completion per record: from the result's acknowledgement, or from here.
      java.util.function.Consumer<Boolean> done = published ->
          completions.add(new Completion(partition, record.offset(), published));
      try {
        if (revoked.contains(partition)) {
          done.accept(false); // its new owner will score it; this offset is no longer ours to commit
          return;
        }
        process(record, done);
      } catch (RuntimeException e) {
        log.error("job at {}-{}@{} will be consumed again: {}", record.topic(), record.partition(), record.offset(),
            e.toString());
        done.accept(false);
      }
    });
  }

  /**
   * Scores the job and sends its result. The result is acknowledged asynchronously, so the scoring
   * thread goes on to the next job instead of waiting for the broker; {@code done} hears whether it
   * was published (an unacknowledged result leaves its offset uncommitted: the job is consumed again).
   */
  private void process(ConsumerRecord<String, byte[]> record, java.util.function.Consumer<Boolean> done) {
    ScoringJob job;
    try {
      job = Json.read(record.value(), ScoringJob.class);
    } catch (ContractViolation e) {
      log.error("unreadable job at {}-{}@{} sent to {}: {}", record.topic(), record.partition(), record.offset(),
          Topics.DLQ, e.getMessage());
      DeadLetters.send(producer, record, e);
      FleetMeter.DEAD_LETTERS.counter(registry, record.topic()).increment();
      UnreadableJob.failure(record.value(), e).ifPresent(failure -> KafkaClients.sendAndWait(producer,
          new ProducerRecord<>(Topics.RESULTS, failure.model(), Json.write(failure.result())),
          "the failure of " + failure.result().jobId()));
      done.accept(true);
      return;
    }
    log.debug("scoring job {} attempt {} from {}-{}@{}", job.jobId(), job.attempt(), record.topic(), record.partition(),
        record.offset());
    int delivered = starting(new TopicPartition(record.topic(), record.partition()), record.offset());
    ShardResult result;
    if (delivered > maxDeliveries) {
      result = scoredAlone(job, delivered - 1);
      if (result == null) {
        // Not scored, and not answered: its deliveries stay counted and it is delivered again.
        done.accept(false);
        return;
      }
    } else {
      result = scorer.score(job);
    }
    scored.add(new Completion(new TopicPartition(record.topic(), record.partition()), record.offset(), true));
    if (result.failed()) {
      log.warn("job {} failed: {}", job.jobId(), result.error().message());
    }
    record(job, result);
    // Keyed by model: the results reach the dispatcher task that owns the model's runs.
    producer.send(new ProducerRecord<>(Topics.RESULTS, job.model(), Json.write(result)), (metadata, e) -> {
      if (e != null) {
        log.error("the result of {} was not published and the job will be consumed again: {}", job.jobId(), e.toString());
      }
      done.accept(e == null);
    });
  }

  /**
   * Counts the delivery of a record about to be scored, durably (in the committed offset metadata),
   * and returns how often it was delivered, this time included. Waits for the poll thread.
   */
  private int starting(TopicPartition partition, long offset) {
    var start = new Start(partition, offset, new java.util.concurrent.CompletableFuture<>());
    starts.add(start);
    try {
      return start.deliveries().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return 1; // not counted: scored as usual
    }
  }

  /**
   * Scores a suspect job alone and returns its answer: the isolated scoring's own result, a {@code
   * crashed} failure naming the evidence when the isolated scoring died, a {@code bug} failure when it
   * could not be done; null when it was cut short by this worker stopping.
   */
  private ShardResult scoredAlone(ScoringJob job, int unanswered) {
    log.warn("job {} was delivered to {} workers that stopped without answering it; scoring it alone", job.jobId(),
        unanswered);
    Isolation.Outcome outcome = isolation.score(job);
    String suspect = "job " + job.jobId() + " (rows " + job.rowStart() + "-" + (job.rowStart() + job.rowCount() - 1)
        + ") was delivered to " + unanswered + " workers that stopped without answering it";
    if (outcome instanceof Isolation.Answered answered) {
      FleetMeter.ISOLATED_SCORINGS.counter(registry, "answered").increment();
      log.info("job {} scored alone answered{}: no evidence that it stops the workers that score it", job.jobId(),
          answered.result().failed() ? " with a failure" : "");
      return answered.result();
    }
    if (outcome instanceof Isolation.Died died) {
      FleetMeter.ISOLATED_SCORINGS.counter(registry, "died").increment();
      return failure(job, io.evalfleet.common.failure.FailureKind.CRASHED, suspect
          + "; scored alone in a process of its own, it stopped that process too: " + died.evidence()
          + "; it is not scored again");
    }
    if (outcome instanceof Isolation.Failed failed) {
      FleetMeter.ISOLATED_SCORINGS.counter(registry, "failed").increment();
      return failure(job, io.evalfleet.common.failure.FailureKind.BUG, suspect + ", and it could not be scored alone: "
          + failed.why());
    }
    FleetMeter.ISOLATED_SCORINGS.counter(registry, "abandoned").increment();
    log.info("scoring job {} alone was cut short ({}); it will be delivered again", job.jobId(),
        ((Isolation.Abandoned) outcome).why());
    return null;
  }

  private ShardResult failure(ScoringJob job, io.evalfleet.common.failure.FailureKind kind, String message) {
    log.error(message);
    return new ShardResult(io.evalfleet.common.contract.SchemaVersion.CURRENT, job.jobId(), job.runId(),
        job.shardIndex(), job.rowStart(), job.rowCount(), Map.of(), workerIdOf(), null, null, null, 0, job.attempt(),
        new io.evalfleet.common.contract.ShardError(kind, message));
  }

  private String workerIdOf() {
    return scorer instanceof io.evalfleet.scoring.ShardScorer router ? router.workerId() : null;
  }

  /** Counts the deliveries that scoring threads announced and commits them with the partition's position. */
  private void drainStarts() {
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    Completion done;
    while ((done = scored.poll()) != null) {
      Deliveries counted = deliveries.get(done.partition());
      ContiguousOffsets tracker = offsets.get(done.partition());
      if (counted != null && tracker != null) {
        counted.finished(done.offset());
        // Durably: a job scored here must not be blamed when this worker dies on the next one.
        long position = tracker.firstUnfinished();
        if (position >= 0) {
          commits.put(done.partition(), new OffsetAndMetadata(position, metadata(done.partition(), position)));
        }
      }
    }
    Start start;
    Map<Start, Integer> answered = new java.util.LinkedHashMap<>();
    while ((start = starts.poll()) != null) {
      ContiguousOffsets tracker = offsets.get(start.partition());
      if (tracker == null) {
        start.deliveries().complete(1); // revoked: the job is skipped or its result is a duplicate
        continue;
      }
      int count = deliveries.computeIfAbsent(start.partition(), this::committedDeliveries).started(start.offset());
      long position = tracker.firstUnfinished();
      if (position >= 0) {
        commits.put(start.partition(), new OffsetAndMetadata(position, metadata(start.partition(), position)));
      }
      answered.put(start, count);
    }
    if (!commits.isEmpty()) {
      try {
        consumer.commitSync(commits);
      } catch (RuntimeException e) {
        log.warn("cannot record job deliveries in the offset metadata: {}", e.toString());
      }
    }
    // Only now may the jobs be scored: a delivery that kills the worker is already on record.
    answered.forEach((announced, count) -> announced.deliveries().complete(count));
  }

  /** The deliveries counted by earlier owners of a partition, from its committed offset's metadata. */
  private Deliveries committedDeliveries(TopicPartition partition) {
    try {
      OffsetAndMetadata committed = consumer.committed(Set.of(partition)).get(partition);
      return Deliveries.decode(committed == null ? null : committed.metadata());
    } catch (RuntimeException e) {
      log.warn("cannot read job deliveries from the offset metadata of {}: {}", partition, e.toString());
      return new Deliveries();
    }
  }

  private String metadata(TopicPartition partition, long position) {
    Deliveries counted = deliveries.get(partition);
    return counted == null ? "" : counted.encode(position);
  }

  private void record(ScoringJob job, ShardResult result) {
    String task = job.task().wireName();
    FleetMeter.JOB_DURATION.timer(registry, task, result.failed() ? "failed" : "scored")
        .record(Duration.ofMillis(result.durationMs()));
    if (result.failed()) {
      return;
    }
    FleetMeter.ROWS_SCORED.counter(registry, task).increment(result.rowCount());
    double[] tokens = result.values().get(io.evalfleet.common.task.MetricNames.TOKENS);
    if (tokens != null) {
      FleetMeter.TOKENS_SCORED.counter(registry, task).increment(java.util.Arrays.stream(tokens).sum());
    }
    if (result.paddingRatio() != null) {
      FleetMeter.PADDING_RATIO.summary(registry, task).record(result.paddingRatio());
    }
  }

  private void drainCompletions() {
    Completion completion;
    while ((completion = completions.poll()) != null) {
      inFlight--;
      ContiguousOffsets partition = offsets.get(completion.partition());
      if (partition == null) {
        continue; // revoked meanwhile: the new owner scores it again if it was not committed
      }
      if (completion.published()) {
        partition.completed(completion.offset());
      } else if (running.get()) {
        // Its offset stays uncommitted; rewind so that it (and what follows) is delivered again.
        consumer.seek(completion.partition(), completion.offset());
      }
    }
  }

  /** Pauses at {@code 2 × capacity} jobs held, resumes at {@code capacity}: memory stays bounded. */
  private void flowControl() {
    if (!paused && inFlight >= 2 * capacity) {
      consumer.pause(consumer.assignment());
      paused = true;
    } else if (paused && inFlight <= capacity) {
      consumer.resume(consumer.paused());
      paused = false;
    } else if (paused) {
      // Partitions assigned since the pause arrive unpaused.
      consumer.pause(consumer.assignment());
    }
  }

  private void commit(boolean sync) {
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    offsets.forEach((partition, tracker) -> {
      long next = tracker.advance();
      if (next >= 0) {
        commits.put(partition, new OffsetAndMetadata(next, metadata(partition, next)));
      }
    });
    if (commits.isEmpty()) {
      return;
    }
    if (sync) {
      consumer.commitSync(commits);
    } else {
      consumer.commitAsync(commits, (done, e) -> {
        if (e != null) {
          log.warn("offset commit failed (the jobs will be redelivered and their results deduplicated): {}", e.toString());
        }
      });
    }
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      FleetMeter.REBALANCES.counter(registry, "revoked").increment();
      assigned = Math.max(0, assigned - partitions.size());
      drainCompletions();
      commit(true);
      // Jobs of revoked partitions still waiting are skipped; one already running publishes its
      // result anyway (results are idempotent by job id). Their offsets belong to the new owner now.
      revoked.addAll(partitions);
      partitions.forEach(offsets::remove);
      partitions.forEach(deliveries::remove);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      FleetMeter.REBALANCES.counter(registry, "assigned").increment();
      assigned += partitions.size();
      revoked.removeAll(partitions);

      if (paused) {
        consumer.pause(partitions);
      }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      FleetMeter.REBALANCES.counter(registry, "lost").increment();
      assigned = Math.max(0, assigned - partitions.size());
      revoked.addAll(partitions);
      partitions.forEach(offsets::remove);
      partitions.forEach(deliveries::remove);
    }
  }
}
