package io.evalfleet.dispatcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.SchemaVersion;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.kafka.ContiguousOffsets;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.task.CausalLmTask;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.archive.BaselineSnapshot;
import io.evalfleet.dispatcher.archive.EvaluationArchive;
import io.evalfleet.dispatcher.archive.EvaluationLock;
import io.evalfleet.dispatcher.archive.ScoreKey;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.baseline.BaselineStore;
import io.evalfleet.dispatcher.decision.Decider;
import io.evalfleet.dispatcher.decision.MetricVector;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.Verdict;
import io.evalfleet.dispatcher.plan.ShardPlanner;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.evalfleet.dispatcher.run.DecidedRuns;
import io.evalfleet.dispatcher.run.Run;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
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
 * Turns staged-weight events into bounded scoring jobs, collects their results and publishes
 * exactly one drift flag per event.
 *
 * <p>One thread ({@link #run()}) owns the consumer of {@code evalfleet.weights.staged} and
 * {@code evalfleet.results} and all run state; pre-flight checks (which hash files) run on the
 * given executor and hand their outcome back through a queue, so polling never blocks on storage.
 * Jobs are published under flow control: at most {@code dispatcher.max-jobs-in-flight-per-run}
 * unanswered jobs per run and {@code dispatcher.max-jobs-in-flight} in all, runs served in turn.
 */
public final class Dispatcher implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  private static final int MAX_ATTEMPTS = 3;

  private final Consumer<String, byte[]> consumer;
  private final Producer<String, byte[]> producer;
  private final BaselineStore baselines;
  private final Preflight preflight;
  private final ExecutorService preflightExecutor;
  private final ShardPlanner planner;
  private final Decider decider;
  private final Policy policy;
  private final EvaluationArchive archive;
  /**
   * Writes shard results to the archive as they arrive, in order, off the loop thread: best effort,
   * so that a successor after a crash scores only what was not checkpointed.
   */
  private final ExecutorService checkpointer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread thread = new Thread(r, "evalfleet-checkpoints");
    thread.setDaemon(true);
    return thread;
  });
  /** Reader of the baselines topic, polled without waiting on every loop. Owned by the caller. */
  private final Consumer<String, byte[]> baselineReader;
  /**
   * Per model and production version, its production snapshots' metric values (the band), read
   * from the archive once per baseline; bounded, since models come and go.
   */
  private final Cache<String, Map<String, List<Double>>> bandHistory = Caffeine.newBuilder().maximumSize(1_000).build();
  private final Clock clock;
  private final int maxInFlightPerRun;
  private final int maxInFlight;
  private final Duration runDeadline;
  private final Duration jobTimeout;
  private final boolean reuseScores;

  private final Map<String, Run> active = new LinkedHashMap<>();
  private final Set<String> preflighting = new LinkedHashSet<>();
  private final DecidedRuns decided;
  private final ConcurrentLinkedQueue<Runnable> fromPreflight = new ConcurrentLinkedQueue<>();
  /** Staged events are committed only once decided, so that a crash re-reads every undecided one. */
  private final Map<TopicPartition, ContiguousOffsets> stagedOffsets = new HashMap<>();
  private final Map<String, Source> sourceOfRun = new HashMap<>();
  /** Pre-flights waiting for storage to come back, run by the loop when due. */
  private final List<DelayedPreflight> delayedPreflights = new ArrayList<>();

  private record Source(TopicPartition partition, long offset) {}
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch stopped = new CountDownLatch(1);
  /** Written by the loop thread, read by the metrics thread. */
  private volatile int inFlight;
  private volatile int runsActive;
  private final MeterRegistry registry;

  public Dispatcher(FleetConfig config, Consumer<String, byte[]> consumer, Producer<String, byte[]> producer,
      BaselineStore baselines, Consumer<String, byte[]> baselineReader, DecidedRuns decided, Preflight preflight, ExecutorService preflightExecutor,
      Policy policy, EvaluationArchive archive, Clock clock, MeterRegistry registry) {
    this.registry = registry;
    FleetMeter.RUNS_ACTIVE.gauge(registry, () -> runsActive);
    FleetMeter.DISPATCHER_JOBS_IN_FLIGHT.gauge(registry, () -> inFlight);
    int limit = config.get(FleetConfig.MAX_IN_FLIGHT);
    FleetMeter.DISPATCHER_JOBS_LIMIT.gauge(registry, () -> limit);
    for (String kind : List.of("first", "retry", "resent")) {
      FleetMeter.JOBS_PUBLISHED.counter(registry, kind);
    }
    for (String source : List.of(Topics.STAGED, Topics.RESULTS)) {
      FleetMeter.DEAD_LETTERS.counter(registry, source);
    }
    FleetMeter.RESULTS_DUPLICATE.counter(registry);
    this.consumer = consumer;
    this.archive = archive;
    this.baselineReader = baselineReader;
    this.decided = decided;
    this.producer = producer;
    this.baselines = baselines;
    this.preflight = preflight;
    this.preflightExecutor = preflightExecutor;
    this.clock = clock;
    this.planner = new ShardPlanner(config.get(FleetConfig.SHARD_ROWS));
    this.policy = policy;
    this.decider = new Decider(policy);
    this.maxInFlightPerRun = config.get(FleetConfig.MAX_IN_FLIGHT_PER_RUN);
    this.maxInFlight = config.get(FleetConfig.MAX_IN_FLIGHT);
    this.runDeadline = config.get(FleetConfig.RUN_DEADLINE);
    this.jobTimeout = config.get(FleetConfig.JOB_TIMEOUT);
    this.reuseScores = config.get(FleetConfig.REUSE_SCORES);
  }

  @Override
  public void run() {
    try {
      consumer.subscribe(List.of(Topics.STAGED, Topics.RESULTS), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          consumer.commitSync(committable());
          partitions.forEach(stagedOffsets::remove);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
      });
      while (running.get()) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(100))) {
          if (record.topic().equals(Topics.STAGED)) {
            onStaged(record);
          } else {
            onResult(record);
          }
        }
        Runnable step;
        while ((step = fromPreflight.poll()) != null) {
          step.run();
        }
        baselines.refresh(baselineReader);
        startDuePreflights();
        publishJobs();
        resendOverdueJobs();
        expireRuns();
        runsActive = active.size() + preflighting.size();
        Map<TopicPartition, OffsetAndMetadata> offsets = committable();
        if (!offsets.isEmpty()) {
          consumer.commitAsync(offsets, null);
        }
      }
      consumer.commitSync(committable());
    } catch (WakeupException e) {
      if (running.get()) {
        throw e;
      }
    } catch (RuntimeException e) {
      log.error("dispatcher loop failed", e);
      throw e;
    } finally {
      checkpointer.shutdown();
      try {
        checkpointer.awaitTermination(5, TimeUnit.SECONDS);
        consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        stopped.countDown();
      }
    }
  }

  public void close(Duration timeout) throws InterruptedException {
    running.set(false);
    consumer.wakeup();
    stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs in progress (pre-flight included), for status displays. */
  public int activeRuns() {
    return active.size() + preflighting.size();
  }

  /**
   * Offsets safe to commit: every result read so far (a run cut short by a crash is re-run from its
   * staged event, which re-sends its jobs), and staged events up to the first one not yet decided.
   */
  private Map<TopicPartition, OffsetAndMetadata> committable() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition partition : consumer.assignment()) {
      if (partition.topic().equals(Topics.RESULTS)) {
        offsets.put(partition, new OffsetAndMetadata(consumer.position(partition)));
      }
    }
    stagedOffsets.forEach((partition, tracker) -> {
      if (!consumer.assignment().contains(partition)) {
        return;
      }
      long next = tracker.advance();
      if (next >= 0) {
        offsets.put(partition, new OffsetAndMetadata(next));
      }
    });
    return offsets;
  }

  private void completed(Source source) {
    ContiguousOffsets tracker = stagedOffsets.get(source.partition());
    if (tracker != null) {
      tracker.completed(source.offset());
    }
  }

  private void onStaged(ConsumerRecord<String, byte[]> record) {
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    stagedOffsets.computeIfAbsent(partition, p -> new ContiguousOffsets()).started(record.offset());
    Source source = new Source(partition, record.offset());
    StagedWeightEvent event;
    try {
      if (record.value() != null && record.value().length > StagedWeightEvent.MAX_BYTES) {
        throw new ContractViolation("", "message is " + record.value().length + " bytes; a staged event may be at most "
            + StagedWeightEvent.MAX_BYTES);
      }
      event = Json.read(record.value(), StagedWeightEvent.class);
    } catch (ContractViolation e) {
      rejectMalformed(record, source, e);
      return;
    }
    String runId = Run.runIdOf(event.eventId());
    if (active.containsKey(runId) || preflighting.contains(runId) || decided.contains(runId)) {
      log.info("event {} is already being evaluated or decided ({}); ignoring the duplicate", event.eventId(), runId);
      completed(new Source(partition, record.offset()));
      return;
    }
    sourceOfRun.put(runId, source);
    preflighting.add(runId);
    preflight(runId, event, record, clock.instant(), 0);
  }

  /**
   * Pre-flights an event on the pre-flight executor and hands the outcome back to the loop: the run
   * starts, or a rejected event ends in ERROR (and its record goes to the dead-letter topic), or, when
   * storage is unavailable, pre-flight is tried again later, until the run's deadline ends it as
   * INCOMPLETE naming the dependency.
   */
  private void preflight(String runId, StagedWeightEvent event, ConsumerRecord<String, byte[]> record,
      Instant stagedAt, int retriesSoFar) {
    preflightExecutor.execute(() -> {
      try {
        Preflight.Checked checked = preflight.check(event);
        Optional<EvaluationArchive.ArchivedScores> reusable = archivedScores(event);
        List<ShardResult> checkpointed = checkpoints(runId);
        fromPreflight.add(() -> start(runId, event, checked, reusable, checkpointed, stagedAt));
      } catch (Preflight.Rejected | java.io.IOException | RuntimeException e) {
        if (!(e instanceof Preflight.Rejected) && Failures.kindOf(e) == FailureKind.UNAVAILABLE) {
          String why = e.getMessage() != null ? e.getMessage() : e.toString();
          fromPreflight.add(() -> preflightLater(runId, event, record, stagedAt, retriesSoFar, why));
          return;
        }
        String reason = e instanceof Preflight.Rejected ? e.getMessage()
            : "pre-flight failed: " + Failures.describe(e);
        fromPreflight.add(() -> {
          preflighting.remove(runId);
          DeadLetters.send(producer, record, e);
          FleetMeter.DEAD_LETTERS.counter(registry, record.topic()).increment();
          decide(runId, event, stagedAt, Flag.ERROR, Map.of(), List.of(reason), null, null, List.of());
        });
      }
    });
  }

  /** Pre-flight could not reach storage: try again after a pause, or end the run at its deadline. */
  private void preflightLater(String runId, StagedWeightEvent event, ConsumerRecord<String, byte[]> record,
      Instant stagedAt, int retriesSoFar, String failure) {
    Instant deadline = stagedAt.plus(runDeadline);
    Instant now = clock.instant();
    if (!now.isBefore(deadline)) {
      preflighting.remove(runId);
      decide(runId, event, stagedAt, Flag.INCOMPLETE, Map.of(), List.of("deadline " + deadline + " passed before"
          + " pre-flight could read the event's files: " + failure), null, null, List.of());
      return;
    }
    Instant backoff = now.plus(unavailableBackoff(retriesSoFar));
    Instant next = backoff.isBefore(deadline) ? backoff : deadline;
    log.warn("pre-flight of {} {} ({}): {}; trying again at {}", event.model(), event.version(), runId,
        failure, next);
    delayedPreflights.add(new DelayedPreflight(next, () -> preflight(runId, event, record, stagedAt, retriesSoFar + 1)));
  }

  private record DelayedPreflight(Instant at, Runnable start) {}

  private void startDuePreflights() {
    Instant now = clock.instant();
    for (Iterator<DelayedPreflight> it = delayedPreflights.iterator(); it.hasNext(); ) {
      DelayedPreflight delayed = it.next();
      if (!delayed.at().isAfter(now)) {
        it.remove();
        delayed.start().run();
      }
    }
  }

  /** Scores archived by an identical earlier evaluation, if any. Runs on the pre-flight executor. */
  private Optional<EvaluationArchive.ArchivedScores> archivedScores(StagedWeightEvent event) {
    if (!reuseScores) {
      return Optional.empty();
    }
    try {
      return archive.scores(ScoreKey.of(event));
    } catch (java.io.IOException | RuntimeException e) {
      log.warn("cannot look up archived scores of {} {} (scoring it instead): {}", event.model(), event.version(), e.toString());
      return Optional.empty();
    }
  }

  /** Shard results a stopped dispatcher checkpointed for this run. Runs on the pre-flight executor. */
  private List<ShardResult> checkpoints(String runId) {
    try {
      return archive.checkpoints(runId);
    } catch (java.io.IOException | RuntimeException e) {
      log.warn("cannot read the checkpoints of {} (scoring every shard): {}", runId, e.toString());
      return List.of();
    }
  }

  private void start(String runId, StagedWeightEvent event, Preflight.Checked checked,
      Optional<EvaluationArchive.ArchivedScores> reusable, List<ShardResult> checkpointed, Instant stagedAt) {
    preflighting.remove(runId);
    GoldenSubsetFile subset = checked.footer();
    var shards = planner.plan(subset.rowGroupSizes());
    Run run = new Run(runId, event, shards, stagedAt, stagedAt.plus(runDeadline));
    Optional<String> refused = gates(run, checked.layout());
    if (refused.isPresent()) {
      decide(runId, event, stagedAt, Flag.ERROR, Map.of(), List.of(refused.get()), null, null, List.of());
      return;
    }
    if (reusable.isPresent()) {
      log.info("run {} for {} {}: reusing the scores of an identical evaluation ({})", runId, event.model(),
          event.version(), reusable.get().uri());
      concludeWith(run, MetricVector.of(event.task(), reusable.get().rows(), subset.rowCount()), reusable.get());
      return;
    }
    long adopted = checkpointed.stream().filter(run::adopt).count();
    active.put(runId, run);
    log.info("run {} for {} {}: {} rows in {} shards{}", runId, event.model(), event.version(), subset.rowCount(),
        shards.size(), adopted == 0 ? "" : ", " + adopted + " of them already scored before a restart");
    if (run.complete()) {
      conclude(run);
    }
  }

  /**
   * Pre-flight gates against the baseline, before anything is scored: an adapter trained on another
   * base model is not comparable (ERROR); under a changed tokenizer, perplexity counts tokens of
   * another vocabulary, so bits per byte is compared instead (ERROR when the subset has no text).
   */
  private Optional<String> gates(Run run, SubsetLayout layout) {
    StagedWeightEvent event = run.event();
    Optional<BaselineRecord> found = baselines.production(event.model());
    if (found.isPresent() && !event.baseline().equals(StagedWeightEvent.PRODUCTION)
        && !event.baseline().equals(found.get().version())) {
      found = archivedVersion(event.model(), event.baseline()); // unknown versions fail when the run concludes
      found.ifPresent(run::namedBaseline);
    }
    if (found.isEmpty()) {
      return Optional.empty();
    }
    BaselineRecord baseline = found.get();
    if (event.baseModelSha256() != null) {
      String baselineBase = baseline.baseModelSha256() != null ? baseline.baseModelSha256() : baseline.artifactSha256();
      if (!event.baseModelSha256().equals(baselineBase)) {
        return Optional.of("adapter gate: version " + event.version() + " is an adapter on base model "
            + short12(event.baseModelSha256()) + ", but baseline version " + baseline.version() + " is built on "
            + short12(baselineBase) + "; an adapter is only comparable with a baseline on the same base model");
      }
    }
    String tokenizer = event.tokenizer() == null ? null : event.tokenizer().sha256();
    if (tokenizer != null && baseline.tokenizerSha256() != null && !tokenizer.equals(baseline.tokenizerSha256())) {
      String change = "tokenizer changed (baseline " + short12(baseline.tokenizerSha256()) + ", candidate "
          + short12(tokenizer) + ")";
      if (event.task() == Task.CAUSAL_LM) {
        if (!layout.has(CausalLmTask.TEXT)) {
          return Optional.of("tokenizer gate: " + change + " and the golden subset holds token ids, not text:"
              + " neither perplexity nor bits per byte can be compared with the baseline");
        }
        run.exclude(MetricNames.PERPLEXITY, change + ": perplexity counts tokens of different vocabularies;"
            + " bits per byte is compared instead");
      } else {
        run.note(change + "; embeddings are compared as the models' outputs on the same texts");
      }
    }
    return Optional.empty();
  }

  /** An embedding event's conventions, defaults filled in; null for other tasks. */
  private static EmbeddingConventions conventionsOf(StagedWeightEvent event) {
    return event.task() == Task.EMBEDDING ? EmbeddingConventions.orDefaults(event.embedding()) : null;
  }

  private static String short12(String sha256) {
    return sha256.substring(0, 12);
  }

  private void publishJobs() {
    Instant now = clock.instant();
    active.values().forEach(run -> run.releaseDue(now));
    boolean published = true;
    while (published && inFlight < maxInFlight) {
      published = false;
      for (Run run : active.values()) {
        if (inFlight >= maxInFlight) {
          break;
        }
        if (run.hasUnpublished() && run.inFlightCount() < maxInFlightPerRun) {
          send(run.publishNext(clock.instant()));
          FleetMeter.JOBS_PUBLISHED.counter(registry, "first").increment();
          inFlight++;
          published = true;
        }
      }
    }
  }

  /**
   * A job lost on its way (a failed send, a worker that skipped it) would otherwise hold its run
   * until the deadline; one unanswered past {@code dispatcher.job-timeout} is sent again with the
   * next attempt number. A shard that had its attempts is not sent again: its run waits for a late
   * answer until its deadline, which ends it INCOMPLETE saying so (silence is not bad input). A
   * worker that died mid-job needs no help here: its uncommitted job is redelivered by the group.
   */
  private void resendOverdueJobs() {
    Instant now = clock.instant();
    for (Run run : List.copyOf(active.values())) {
      for (ScoringJob overdue : run.overdue(now.minus(jobTimeout))) {
        if (overdue.attempt() >= MAX_ATTEMPTS) {
          String why = "shard " + overdue.shardIndex() + " got no result in " + MAX_ATTEMPTS + " attempts of "
              + jobTimeout.toSeconds() + " s each (workers down, stuck, or slower than dispatcher.job-timeout)";
          log.warn("run {}: {}; waiting for a late answer until the deadline {}", run.runId(), why, run.deadline());
          run.stopResending(overdue, why);
          continue;
        }
        ScoringJob again = run.resend(overdue, now);
        log.warn("job {} unanswered after {} s; sending attempt {}", again.jobId(), jobTimeout.toSeconds(), again.attempt());
        send(again);
        FleetMeter.JOBS_PUBLISHED.counter(registry, "resent").increment();
      }
    }
  }

  private void send(ScoringJob job) {
    producer.send(new ProducerRecord<>(Topics.JOBS, job.jobId(), Json.write(job)), (meta, e) -> {
      if (e != null) {
        log.error("cannot publish job {}: {}", job.jobId(), e.toString());
      }
    });
  }

  private void onResult(ConsumerRecord<String, byte[]> record) {
    ShardResult result;
    try {
      result = Json.read(record.value(), ShardResult.class);
    } catch (ContractViolation e) {
      log.error("unreadable shard result at {}-{}@{} sent to {}: {}", record.topic(), record.partition(),
          record.offset(), Topics.DLQ, e.getMessage());
      DeadLetters.send(producer, record, e);
      FleetMeter.DEAD_LETTERS.counter(registry, record.topic()).increment();
      return;
    }
    Run run = active.get(result.runId());
    if (run == null || !run.accept(result)) {
      FleetMeter.RESULTS_DUPLICATE.counter(registry).increment();
      log.debug("ignoring result {} (duplicate, or its run is decided)", result.jobId());
      return;
    }
    inFlight--;
    if (!result.failed()) {
      checkpointer.execute(() -> {
        try {
          archive.checkpoint(result);
        } catch (java.io.IOException | RuntimeException e) {
          log.debug("cannot checkpoint {} (a successor would score it again): {}", result.jobId(), e.toString());
        }
      });
    }
    if (result.failed()) {
      ShardError error = result.error();
      switch (error.kind()) {
        case UNAVAILABLE -> {
          // Not the job's fault: sent again after a pause, as often as the run's deadline allows; a
          // run still waiting at its deadline ends INCOMPLETE naming the dependency.
          Duration pause = unavailableBackoff(run.unavailableRetries(result.shardIndex()));
          log.warn("job {}: {}; sending it again in {} s", result.jobId(), error.message(), pause.toSeconds());
          run.retryAt(run.sameJob(result), clock.instant().plus(pause), error.message());
          FleetMeter.JOBS_PUBLISHED.counter(registry, "retry").increment();
          return;
        }
        case RESOURCE_EXHAUSTED -> {
          if (result.attempt() < MAX_ATTEMPTS) {
            log.warn("job {} attempt {} ran out of a resource, dispatching again: {}", result.jobId(),
                result.attempt(), error.message());
            run.retry(run.jobFor(result));
            FleetMeter.JOBS_PUBLISHED.counter(registry, "retry").increment();
            return;
          }
        }
        case BAD_INPUT, BUG -> { }
      }
      String attempts = error.kind().retriable() ? " in " + result.attempt() + " attempts" : "";
      fail(run, "shard " + result.shardIndex() + " (rows " + result.rowStart() + "-"
          + (result.rowStart() + result.rowCount() - 1) + ") could not be scored" + attempts + ": "
          + (error.kind() == FailureKind.BAD_INPUT ? "" : error.kind().description() + ": ") + error.message());
      return;
    }
    if (run.complete()) {
      conclude(run);
    }
  }

  /** 1, 2, 4 ... seconds, at most 30: long enough for a circuit breaker to close again. */
  private static Duration unavailableBackoff(int retriesSoFar) {
    return Duration.ofSeconds(Math.min(30, 1L << Math.min(retriesSoFar, 5)));
  }

  private void conclude(Run run) {
    MetricVector vector;
    try {
      vector = MetricVector.of(run.event().task(), run.results());
    } catch (RuntimeException e) {
      fail(run, "cannot compute the metric vector: " + e.getMessage());
      return;
    }
    concludeWith(run, vector, null);
  }

  /** Decides a run whose rows are all scored (or were reused from the archive), archives it and flags it. */
  private void concludeWith(Run run, MetricVector vector, EvaluationArchive.ArchivedScores reused) {
    StagedWeightEvent event = run.event();
    EvaluationArchive.Provenance provenance = reused != null ? reused.provenance()
        : new EvaluationArchive.Provenance(run.runtimes(), run.providers(), run.hardware(),
            run.signatures().size() == 1 ? run.signatures().get(0) : null, run.runId());
    if (run.signatures().size() > 1) {
      fail(run, "workers reported different signatures for one model: " + String.join(" | ", run.signatures()));
      return;
    }
    var production = baselines.production(event.model());
    Verdict outcome;
    String baselineVersion = null;
    if (production.isEmpty()) {
      if (!event.baseline().equals(StagedWeightEvent.PRODUCTION)) {
        fail(run, "baseline version '" + event.baseline() + "' of model " + event.model()
            + " is not known: the model has no production baseline yet");
        return;
      }
      outcome = decider.withoutBaseline(vector, "no production baseline for model " + event.model()
          + ": nothing to compare with; version " + event.version() + " is now pinned as its production baseline");
      pin(new BaselineRecord(event.model(), event.version(), run.runId(), event.artifact().sha256(),
          event.goldenSubset().sha256(), event.tokenizer() == null ? null : event.tokenizer().sha256(),
          event.baseModelSha256(), provenance.modelSignature(), vector.metrics(), vector.rowValues(), event.commit(),
          clock.instant(), conventionsOf(event)), "first");
    } else {
      BaselineRecord baseline = production.get();
      if (!event.baseline().equals(StagedWeightEvent.PRODUCTION) && !event.baseline().equals(baseline.version())) {
        Optional<BaselineRecord> named = run.namedBaseline().or(() -> archivedVersion(event.model(), event.baseline()));
        if (named.isEmpty()) {
          fail(run, "baseline version '" + event.baseline() + "' of model " + event.model() + " is not known: it is"
              + " not the production baseline (version " + baseline.version() + ") and has no lockfile in "
              + archive.root());
          return;
        }
        baseline = named.get();
      }
      if (java.util.Collections.disjoint(baseline.metrics().keySet(), vector.metrics().keySet())) {
        fail(run, "baseline version " + baseline.version() + " has metrics " + baseline.metrics().keySet()
            + " and this run " + vector.metrics().keySet() + ": they were evaluated as different tasks");
        return;
      }
      if (!baseline.subsetSha256().equals(event.goldenSubset().sha256())) {
        fail(run, "baseline version " + baseline.version() + " was scored on golden subset "
            + short12(baseline.subsetSha256()) + ", this run on " + short12(event.goldenSubset().sha256())
            + ": metrics on different subsets are not comparable");
        return;
      }
      baselineVersion = baseline.version();
      String signature = provenance.modelSignature();
      boolean signatureChanged = baseline.modelSignature() != null && signature != null
          && !baseline.modelSignature().equals(signature);
      boolean tokenizerChanged = run.notComparable().containsKey(MetricNames.PERPLEXITY);
      if (signatureChanged && !tokenizerChanged) {
        outcome = decider.signatureChanged(vector, baseline.version(), baseline.modelSignature(), signature);
      } else {
        EmbeddingConventions candidateConventions = conventionsOf(event);
        if (candidateConventions != null && baseline.embedding() != null
            && !candidateConventions.equals(baseline.embedding())) {
          run.note("embedding conventions changed: baseline " + baseline.embedding().describe() + "; candidate "
              + candidateConventions.describe() + " (the scores compare what each version is configured to produce)");
        }
        if (signatureChanged) {
          run.note("the model's signature changed with its tokenizer (baseline " + baseline.modelSignature()
              + "; candidate " + signature + ")");
        }
        try {
          outcome = decider.compare(vector, baseline.version(), baseline.rowValues(),
              bandHistory(event.model(), baseline.version()), run.notComparable());
        } catch (IllegalArgumentException e) {
          fail(run, "cannot compare with baseline version " + baseline.version() + ": " + e.getMessage());
          return;
        }
      }
    }
    active.remove(run.runId());
    List<String> reasons = new ArrayList<>(run.notes());
    reasons.addAll(outcome.reasons());
    String lockfile = archive(run, vector, reused, provenance, outcome, baselineVersion, reasons);
    decide(run.runId(), event, run.startedAt(), outcome.flag(), outcome.metrics(), reasons, baselineVersion,
        reused != null ? run.reusedCoverage() : run.coverage(),
        provenance.executionProviders(), policy.policyVersion(), lockfile);
  }

  /**
   * Keeps the run's per-row scores and writes its lockfile; returns the lockfile's location, or null
   * (with a reason added) when the archive cannot be written: the flag is published regardless.
   */
  private String archive(Run run, MetricVector vector, EvaluationArchive.ArchivedScores reused,
      EvaluationArchive.Provenance provenance, Verdict outcome, String baselineVersion, List<String> reasons) {
    StagedWeightEvent event = run.event();
    try {
      String scores = reused != null ? reused.uri()
          : archive.writeScores(ScoreKey.of(event), vector.rowValues(), provenance);
      if (reused != null) {
        reasons.add("scores reused from an identical earlier evaluation (same artifact, tokenizer, golden subset,"
            + " evaluator and windowing): " + reused.uri());
      }
      Map<String, EvaluationLock.LockedMetric> locked = new LinkedHashMap<>();
      outcome.metrics().forEach((name, m) -> locked.put(name, new EvaluationLock.LockedMetric(m.value(),
          m.relativeDelta(), m.ciLow(), m.ciHigh(), m.ciConfidence(), m.status())));
      EvaluationLock lock = new EvaluationLock(EvaluationLock.CURRENT, event.model(), event.version(), event.eventId(),
          run.runId(), event.commit(), event.task().wireName(), event.artifact(),
          event.tokenizer() == null ? null : event.tokenizer().sha256(), event.goldenSubset().uri(),
          event.goldenSubset().sha256(), io.evalfleet.common.task.Evaluator.VERSION, provenance.onnxRuntime(),
          provenance.executionProviders(), provenance.hardware(), event.hardwareProfile(), event.quantizationBits(),
          event.maxSeqLen(), event.stride(), event.baseModelSha256(), provenance.modelSignature(),
          policy.policyVersion(), baselineVersion, outcome.flag(), locked, scores, reused != null,
          clock.instant(), conventionsOf(event));
      return archive.writeLock(lock);
    } catch (java.io.IOException | RuntimeException e) {
      log.error("cannot archive run {} in {}: {}", run.runId(), archive.root(), e.toString());
      reasons.add("the evaluation could not be archived in " + archive.root() + " (" + e.getMessage()
          + "): no lockfile, and its scores cannot be reused");
      return null;
    }
  }

  /**
   * An evaluated version named as the baseline of an event, read from its lockfile and archived
   * scores; empty when it was never evaluated (or its scores are gone).
   */
  private Optional<BaselineRecord> archivedVersion(String model, String version) {
    try {
      Optional<EvaluationLock> lock = archive.lock(model, version);
      if (lock.isEmpty() || lock.get().scores() == null) {
        return Optional.empty();
      }
      EvaluationLock found = lock.get();
      Map<String, Double> metrics = new LinkedHashMap<>();
      found.metrics().forEach((name, m) -> metrics.put(name, m.value()));
      return Optional.of(new BaselineRecord(model, version, found.runId(), found.artifact().sha256(),
          found.goldenSubsetSha256(), found.tokenizerSha256(), found.baseModelSha256(), found.modelSignature(), metrics,
          archive.readScores(found.scores()), found.commit(), found.decidedAt(), found.embedding()));
    } catch (java.io.IOException | RuntimeException e) {
      log.warn("cannot read version {} of {} from the archive: {}", version, model, e.toString());
      return Optional.empty();
    }
  }

  /** Makes {@code record} the production baseline and adds it to the model's history. */
  private void pin(BaselineRecord record, String reason) {
    baselines.pin(record);
    try {
      archive.recordBaseline(new BaselineSnapshot(record.model(), record.version(), record.commit(), record.runId(),
          record.artifactSha256(), record.subsetSha256(), record.metrics(), reason, record.recordedAt()));
    } catch (java.io.IOException | RuntimeException e) {
      log.error("cannot add baseline {} {} to the history in {}: {}", record.model(), record.version(), archive.root(),
          e.toString());
    }
    bandHistory.asMap().keySet().removeIf(key -> key.startsWith(record.model() + "@"));
  }

  /** Per metric, its values in the model's production snapshots, oldest first: the band's data. */
  private Map<String, List<Double>> bandHistory(String model, String productionVersion) {
    String key = model + "@" + productionVersion;
    return bandHistory.get(key, k -> {
      Map<String, List<Double>> values = new LinkedHashMap<>();
      try {
        for (BaselineSnapshot snapshot : archive.baselineHistory(model)) {
          snapshot.metrics().forEach((metric, value) -> values.computeIfAbsent(metric, m -> new ArrayList<>()).add(value));
        }
      } catch (java.io.IOException | RuntimeException e) {
        log.warn("cannot read the baseline history of {} (deciding without a band): {}", model, e.toString());
      }
      return values;
    });
  }

  private void fail(Run run, String reason) {
    active.remove(run.runId());
    inFlight -= run.inFlightCount();
    decide(run.runId(), run.event(), run.startedAt(), Flag.ERROR, Map.of(), List.of(reason), null, run.coverage(),
        run.providers());
  }

  private void expireRuns() {
    Instant now = clock.instant();
    for (Iterator<Run> it = active.values().iterator(); it.hasNext(); ) {
      Run run = it.next();
      if (now.isAfter(run.deadline())) {
        it.remove();
        inFlight -= run.inFlightCount();
        var coverage = run.coverage();
        String reason = String.format("deadline %s passed with %d of %d shards (%d of %d rows) scored", run.deadline(),
            coverage.shardsDone(), coverage.shardsTotal(), coverage.rowsScored(), coverage.rowsTotal());
        if (run.whyWaiting().isPresent()) {
          reason += "; shards were waiting: " + run.whyWaiting().get();
        }
        decide(run.runId(), run.event(), run.startedAt(), Flag.INCOMPLETE, Map.of(), List.of(reason), null, coverage,
            run.providers());
      }
    }
  }

  private void rejectMalformed(ConsumerRecord<String, byte[]> record, Source source, ContractViolation violation) {
    String eventId = StagedWeightEvent.eventIdOf(record.value(), record.topic(), record.partition(), record.offset());
    String model = record.key();
    try {
      JsonNode tree = record.value() == null || record.value().length > StagedWeightEvent.MAX_BYTES ? null
          : Json.mapper().readTree(record.value());
      if (tree != null && tree.path("model").isTextual()) {
        model = tree.path("model").asText();
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not JSON at all: the record's key names the model, if anything does
    }
    String runId = Run.runIdOf(eventId);
    if (decided.contains(runId)) {
      completed(source);
      return;
    }
    sourceOfRun.put(runId, source);
    DeadLetters.send(producer, record, violation);
    FleetMeter.DEAD_LETTERS.counter(registry, record.topic()).increment();
    String reason = "staged event rejected: " + violation.getMessage();
    log.warn("{} (event {}, {}-{}@{})", reason, eventId, record.topic(), record.partition(), record.offset());
    publish(runId, new DriftFlag(SchemaVersion.CURRENT, runId, eventId, model, null, null, Flag.ERROR, Map.of(),
        List.of(reason), null, List.of(), null, clock.instant(), null), model);
  }

  private void decide(String runId, StagedWeightEvent event, Instant stagedAt, Flag flag, Map<String, MetricValue> metrics,
      List<String> reasons, String baselineVersion, io.evalfleet.common.contract.Coverage coverage, List<String> providers) {
    decide(runId, event, stagedAt, flag, metrics, reasons, baselineVersion, coverage, providers, null, null);
  }

  private void decide(String runId, StagedWeightEvent event, Instant stagedAt, Flag flag, Map<String, MetricValue> metrics,
      List<String> reasons, String baselineVersion, io.evalfleet.common.contract.Coverage coverage, List<String> providers,
      String policyVersion, String lockfile) {
    Instant now = clock.instant();
    DriftFlag driftFlag = new DriftFlag(SchemaVersion.CURRENT, runId, event.eventId(), event.model(), event.version(),
        baselineVersion, flag, metrics, new ArrayList<>(reasons), coverage, providers, stagedAt, now,
        Duration.between(stagedAt, now).toMillis(), policyVersion, lockfile);
    publish(runId, driftFlag, event.model());
  }

  private void publish(String runId, DriftFlag flag, String key) {
    KafkaClients.sendAndWait(producer, new ProducerRecord<>(Topics.DRIFT_FLAGS, key, Json.write(flag)),
        "the flag of " + runId);
    decided.add(runId);
    checkpointer.execute(() -> {
      try {
        archive.dropCheckpoints(runId);
      } catch (java.io.IOException | RuntimeException e) {
        log.debug("cannot drop the checkpoints of {}: {}", runId, e.toString());
      }
    });
    Source source = sourceOfRun.remove(runId);
    if (source != null) {
      completed(source);
    }
    // Rejected events may carry any key: they share one tag value, so the series stay bounded.
    FleetMeter.FLAGS.counter(registry, flag.version() == null ? "(rejected)" : flag.model(), flag.flag().name()).increment();
    if (flag.stagedAt() != null && flag.decidedAt() != null) {
      FleetMeter.RUN_DURATION.timer(registry, flag.flag().name())
          .record(Duration.between(flag.stagedAt(), flag.decidedAt()));
    }
    log.info("flag {} for {} {} ({}): {}", flag.flag(), flag.model(), flag.version() == null ? "(version unknown)" : flag.version(), runId, String.join("; ", flag.reasons()));
  }
}
