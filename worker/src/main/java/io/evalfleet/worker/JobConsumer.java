package io.evalfleet.worker;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.consume.CommitSafeLoop;
import io.evalfleet.common.kafka.consume.Delivery;
import io.evalfleet.common.kafka.consume.LoopMeters;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.scoring.JobScorer;
import io.evalfleet.scoring.ShardScorer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's consumer-group membership on {@code evalfleet.jobs}: the worker's use of a {@link
 * CommitSafeLoop}. The poll loop never blocks on scoring: each fetched job goes straight to an
 * executor of {@code capacity} threads, where it runs or waits its turn, so a thread that finishes
 * takes the next job at once. At most {@code 2 × capacity} jobs are held: then the assigned
 * partitions are paused (polling goes on, keeping the member alive) until no more than {@code
 * capacity} are left. A job's offset is committed only after its result has been acknowledged by
 * the broker, and only up to the highest contiguous completed offset.
 *
 * <p>A job that stops the workers it is delivered to (a native crash, the out-of-memory killer)
 * would otherwise stop every worker in turn: before a job is scored, the delivery is counted in the
 * partition's committed offset metadata, which survives the worker. A job delivered {@code
 * maxDeliveries} times without an answer is a suspect, not a culprit: workers also die of causes of
 * their own (a node that crash-loops, a spot instance taken back). Its next delivery is scored
 * alone, by the {@link Isolation} (a process of its own): its answer is the job's answer; a death
 * of that process while this worker lives is evidence, and the job is answered with a {@code
 * crashed} failure naming it; an isolation cut short by this worker stopping blames nothing, and
 * the job is delivered again with its deliveries still counted.
 *
 * <p>A job that cannot be read is dead-lettered and, when it names its run, answered with a {@code
 * bad_input} failure so that the run does not wait for its deadline.
 *
 * <p>Threading: {@link #run()} owns the consumer; scoring threads only publish results and report
 * through the loop. {@link #close(Duration)} may be called from any thread.
 */
final class JobConsumer implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(JobConsumer.class);
  private static final Duration POLL = Duration.ofMillis(100);

  private final Producer<String, byte[]> producer;
  private final JobScorer scorer;
  private final int maxDeliveries;
  private final Isolation isolation;
  private final CommitSafeLoop<String, byte[]> loop;
  private final MeterRegistry registry;
  private final Counter deadLetters;
  private final Counter isolatedAnswered;
  private final Counter isolatedDied;
  private final Counter isolatedFailed;
  private final Counter isolatedAbandoned;
  private final Counter skippedCancelled;

  /** Runs whose jobs are skipped: decided before their end (see {@link CancelledRuns}). */
  private volatile Predicate<String> cancelledRuns = runId -> false;

  /** Meters tagged by task (and outcome), each registered when first used and then kept. */
  private final Map<String, Timer> durations = new ConcurrentHashMap<>();

  private final Map<String, Counter> rows = new ConcurrentHashMap<>();
  private final Map<String, Counter> tokens = new ConcurrentHashMap<>();
  private final Map<String, DistributionSummary> padding = new ConcurrentHashMap<>();

  /**
   * A consumer whose suspect jobs (3 deliveries without an answer) are scored again by {@code
   * scorer} in this process, for tests and embedded use.
   *
   * @param executor runs scoring with {@code capacity} threads and an unbounded queue (this class
   *     bounds what it submits). Not shut down here.
   */
  JobConsumer(
      Consumer<String, byte[]> consumer,
      Producer<String, byte[]> producer,
      JobScorer scorer,
      ExecutorService executor,
      int capacity) {
    this(
        consumer,
        producer,
        scorer,
        executor,
        capacity,
        3,
        job -> new Isolation.Answered(scorer.score(job)),
        new SimpleMeterRegistry());
  }

  /**
   * @param maxDeliveries deliveries of a job without an answer after which its next delivery is
   *     scored by {@code isolation} instead of {@code scorer}
   * @param isolation scores suspect jobs alone; not closed here
   */
  JobConsumer(
      Consumer<String, byte[]> consumer,
      Producer<String, byte[]> producer,
      JobScorer scorer,
      ExecutorService executor,
      int capacity,
      int maxDeliveries,
      Isolation isolation,
      MeterRegistry registry) {
    this.registry = registry;
    this.producer = producer;
    this.scorer = scorer;
    this.maxDeliveries = maxDeliveries;
    this.isolation = isolation;
    FleetMeter.WORKER_CAPACITY.gauge(registry, () -> capacity);
    this.deadLetters = FleetMeter.DEAD_LETTERS.counter(registry, Topics.JOBS);
    this.isolatedAnswered = FleetMeter.ISOLATED_SCORINGS.counter(registry, "answered");
    this.isolatedDied = FleetMeter.ISOLATED_SCORINGS.counter(registry, "died");
    this.isolatedAbandoned = FleetMeter.ISOLATED_SCORINGS.counter(registry, "abandoned");
    this.isolatedFailed = FleetMeter.ISOLATED_SCORINGS.counter(registry, "failed");
    this.skippedCancelled = FleetMeter.JOBS_SKIPPED.counter(registry, "cancelled");
    this.loop =
        CommitSafeLoop.builder(consumer, Topics.JOBS, this::process)
            .name("worker")
            .role(FleetRole.WORKER)
            .executor(executor)
            .backpressure(2 * capacity, capacity)
            .pollTimeout(POLL)
            .countDeliveries()
            .meters(
                registry,
                new LoopMeters(
                    FleetMeter.WORKER_JOBS_IN_FLIGHT,
                    FleetMeter.PARTITIONS_ASSIGNED,
                    FleetMeter.PARTITIONS_PAUSED,
                    FleetMeter.REBALANCES))
            .build();
  }

  /**
   * Skips the jobs of the runs {@code cancelled} names: committed without being scored (no model is
   * loaded). Set before {@link #run()}.
   */
  JobConsumer skipping(Predicate<String> cancelled) {
    this.cancelledRuns = cancelled;
    return this;
  }

  @Override
  public void run() {
    loop.run();
  }

  /**
   * Stops taking jobs, lets running jobs finish for up to {@code timeout}, commits and leaves the
   * group.
   */
  void close(Duration timeout) throws InterruptedException {
    loop.close(timeout);
  }

  /**
   * Scores the job and sends its result. The result is acknowledged asynchronously, so the scoring
   * thread goes on to the next job instead of waiting for the broker; the delivery hears whether it
   * was published (an unacknowledged result leaves its offset uncommitted: the job is consumed
   * again).
   */
  private void process(ConsumerRecord<String, byte[]> record, Delivery delivery) {
    ScoringJob job;
    try {
      job = Json.read(record.value(), ScoringJob.class);
    } catch (ContractViolation e) {
      log.error(
          "unreadable job at {}-{}@{} sent to {}: {}",
          record.topic(),
          record.partition(),
          record.offset(),
          Topics.DLQ,
          e.getMessage());
      DeadLetters.send(producer, record, e);
      deadLetters.increment();
      UnreadableJob.failure(record.value(), e)
          .ifPresent(
              failure ->
                  KafkaClients.sendAndWait(
                      producer,
                      new ProducerRecord<>(
                          Topics.RESULTS, failure.model(), Json.write(failure.result())),
                      "the failure of " + failure.result().jobId()));
      delivery.done();
      return;
    }
    if (cancelledRuns.test(job.runId())) {
      // Its run was decided before its end: no answer is awaited, and none is sent.
      skippedCancelled.increment();
      log.debug("skipping job {}: run {} is cancelled", job.jobId(), job.runId());
      delivery.done();
      return;
    }
    log.debug(
        "scoring job {} attempt {} from {}-{}@{}",
        job.jobId(),
        job.attempt(),
        record.topic(),
        record.partition(),
        record.offset());
    int delivered = delivery.start();
    ShardResult result;
    if (delivered > maxDeliveries) {
      result = scoredAlone(job, delivered - 1);
      if (result == null) {
        // Not scored, and not answered: its deliveries stay counted and it is delivered again.
        delivery.again();
        return;
      }
    } else {
      result = scorer.score(job);
    }
    delivery.ended();
    if (result.failed()) {
      log.warn("job {} failed: {}", job.jobId(), result.error().message());
    }
    record(job, result);
    // Keyed by model: the results reach the dispatcher task that owns the model's runs.
    producer.send(
        new ProducerRecord<>(Topics.RESULTS, job.model(), Json.write(result)),
        (metadata, e) -> {
          if (e != null) {
            log.error(
                "the result of {} was not published and the job will be consumed again: {}",
                job.jobId(),
                e.toString());
            delivery.again();
          } else {
            delivery.done();
          }
        });
  }

  /**
   * Scores a suspect job alone and returns its answer: the isolated scoring's own result, a {@code
   * crashed} failure naming the evidence when the isolated scoring died, a {@code bug} failure when
   * it could not be done; null when it was cut short by this worker stopping.
   */
  private ShardResult scoredAlone(ScoringJob job, int unanswered) {
    log.warn(
        "job {} was delivered to {} workers that stopped without answering it; scoring it alone",
        job.jobId(),
        unanswered);
    Isolation.Outcome outcome = isolation.score(job);
    String suspect =
        "job "
            + job.jobId()
            + " (rows "
            + job.rowStart()
            + "-"
            + (job.rowStart() + job.rowCount() - 1)
            + ") was delivered to "
            + unanswered
            + " workers that stopped without answering it";
    if (outcome instanceof Isolation.Answered answered) {
      isolatedAnswered.increment();
      log.info(
          "job {} scored alone answered{}: no evidence that it stops the workers that score it",
          job.jobId(),
          answered.result().failed() ? " with a failure" : "");
      return answered.result();
    }
    if (outcome instanceof Isolation.Died died) {
      isolatedDied.increment();
      return failure(
          job,
          FailureKind.CRASHED,
          suspect
              + "; scored alone in a process of its own, it stopped that process too: "
              + died.evidence()
              + "; it is not scored again");
    }
    if (outcome instanceof Isolation.Failed failed) {
      isolatedFailed.increment();
      return failure(
          job, FailureKind.BUG, suspect + ", and it could not be scored alone: " + failed.why());
    }
    isolatedAbandoned.increment();
    log.info(
        "scoring job {} alone was cut short ({}); it will be delivered again",
        job.jobId(),
        ((Isolation.Abandoned) outcome).why());
    return null;
  }

  private ShardResult failure(ScoringJob job, FailureKind kind, String message) {
    log.error(message);
    return ShardResult.answering(job)
        .values(Map.of())
        .workerId(workerIdOf())
        .attempt(job.attempt())
        .error(new ShardError(kind, message))
        .build();
  }

  private String workerIdOf() {
    return scorer instanceof ShardScorer router ? router.workerId() : null;
  }

  private void record(ScoringJob job, ShardResult result) {
    String task = job.task().wireName();
    String outcome = result.failed() ? "failed" : "scored";
    durations
        .computeIfAbsent(
            task + "/" + outcome, key -> FleetMeter.JOB_DURATION.timer(registry, task, outcome))
        .record(Duration.ofMillis(result.durationMs()));
    if (result.failed()) {
      return;
    }
    rows.computeIfAbsent(task, key -> FleetMeter.ROWS_SCORED.counter(registry, task))
        .increment(result.rowCount());
    double[] counted = result.values().get(MetricNames.TOKENS);
    if (counted != null) {
      tokens
          .computeIfAbsent(task, key -> FleetMeter.TOKENS_SCORED.counter(registry, task))
          .increment(Arrays.stream(counted).sum());
    }
    if (result.paddingRatio() != null) {
      padding
          .computeIfAbsent(task, key -> FleetMeter.PADDING_RATIO.summary(registry, task))
          .record(result.paddingRatio());
    }
  }
}
