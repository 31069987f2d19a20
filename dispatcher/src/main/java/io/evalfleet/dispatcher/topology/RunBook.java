package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RunCancelled;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.signing.FlagSigner;
import io.evalfleet.common.signing.SignedFlag;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.RowColumns;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One task's view of the dispatcher's state stores and outputs. Everything written here (stores,
 * jobs, flags, baselines, dead letters) commits in the task's transaction, or not at all.
 */
final class RunBook {
  private static final Logger log = LoggerFactory.getLogger(RunBook.class);

  final Dispatching dispatching;
  private final ProcessorContext<String, byte[]> context;
  private final KeyValueStore<String, RunState> runs;
  private final KeyValueStore<String, ShardState> shards;

  /**
   * The task's runs, and its shards in flight or paused, as the stores hold them: this processor is
   * their only writer, so it reads them from memory (rebuilt from the stores whenever the task is
   * initialised) and writes through.
   */
  private final Map<String, RunState> runCache = new LinkedHashMap<>();

  private final Map<String, Map<String, ShardState>> openShards = new HashMap<>();
  private final KeyValueStore<String, ShardResult> results;
  private final KeyValueStore<String, BaselineRecord> baselines;
  private final KeyValueStore<String, FirstVersions> firstVersions;
  private final KeyValueStore<String, Long> decided;

  /**
   * Per run followed by this task: since when, at how many rows, and whether progress changed since
   * last published.
   */
  private final Map<String, ProgressMark> progress = new HashMap<>();

  private static final class ProgressMark {
    final Instant since;
    final long rowsAtStart;
    boolean changed = true;

    ProgressMark(Instant since, long rowsAtStart) {
      this.since = since;
      this.rowsAtStart = rowsAtStart;
    }
  }

  RunBook(ProcessorContext<String, byte[]> context, Dispatching dispatching) {
    this.context = context;
    this.dispatching = dispatching;
    this.runs = context.getStateStore(DispatcherTopology.RUNS);
    this.shards = context.getStateStore(DispatcherTopology.SHARDS);
    this.results = context.getStateStore(DispatcherTopology.SHARD_RESULTS);
    this.baselines = context.getStateStore(DispatcherTopology.BASELINES);
    this.firstVersions = context.getStateStore(DispatcherTopology.FIRST_VERSIONS);
    this.decided = context.getStateStore(DispatcherTopology.DECIDED);
    try (KeyValueIterator<String, RunState> it = runs.all()) {
      it.forEachRemaining(entry -> runCache.put(entry.key, entry.value));
    }
    try (KeyValueIterator<String, ShardState> it = shards.all()) {
      it.forEachRemaining(
          entry -> {
            index(entry.key, entry.value);
            RunState run = runCache.get(runIdOf(entry.key));
            if (run != null) {
              run.count(entry.value);
            }
          });
    }
  }

  /** The run in progress under {@code runId}, or null. */
  RunState run(String runId) {
    return runCache.get(runId);
  }

  /** Whether the run was decided within {@code dispatcher.decided-look-back}. */
  boolean isDecided(String runId) {
    return decided.get(runId) != null;
  }

  /** The production baseline of a model, if it has one. */
  Optional<BaselineRecord> productionBaseline(String model) {
    return Optional.ofNullable(baselines.get(model));
  }

  /**
   * Makes {@code baseline} its model's production baseline in the store (what {@code
   * evalfleet.baselines} says, or what this task pins); returns the one it replaces, if any.
   */
  Optional<BaselineRecord> followBaseline(BaselineRecord baseline) {
    BaselineRecord before = baselines.get(baseline.model());
    baselines.put(baseline.model(), baseline);
    return Optional.ofNullable(before);
  }

  /** Forgets a model's production baseline (a tombstone on {@code evalfleet.baselines}). */
  void dropBaseline(String model) {
    baselines.delete(model);
  }

  /** The runs of a model staged while it had no baseline, or null when there are none. */
  FirstVersions firstVersions(String model) {
    return firstVersions.get(model);
  }

  /** Stores a model's first versions; an empty list is deleted. */
  void saveFirstVersions(String model, FirstVersions first) {
    if (first.isEmpty()) {
      firstVersions.delete(model);
    } else {
      firstVersions.put(model, first);
    }
  }

  /** Keeps an accepted shard result (in {@code shard-results}) until its run is assembled. */
  void recordShardResult(ShardResult result) {
    results.put(result.jobId(), result);
  }

  /**
   * Stores a run whose own fields changed (its stage, baseline, notes); its counters over shards
   * change in memory only, since they are derived from the shards it stores.
   */
  void save(RunState run) {
    runs.put(run.runId(), run);
    runCache.put(run.runId(), run);
  }

  ShardState shard(String jobId) {
    Map<String, ShardState> open = openShards.get(runIdOf(jobId));
    ShardState shard = open == null ? null : open.get(jobId);
    return shard != null ? shard : shards.get(jobId);
  }

  void saveShard(String jobId, ShardState shard) {
    shards.put(jobId, shard);
    index(jobId, shard);
  }

  /** The run's shards in flight or paused. */
  List<ShardState> openShards(String runId) {
    Map<String, ShardState> open = openShards.get(runId);
    return open == null ? List.of() : new ArrayList<>(open.values());
  }

  private void index(String jobId, ShardState shard) {
    String runId = runIdOf(jobId);
    boolean open =
        shard.status() == ShardState.Status.IN_FLIGHT || shard.status() == ShardState.Status.PAUSED;
    if (open) {
      openShards.computeIfAbsent(runId, r -> new HashMap<>()).put(jobId, shard);
    } else if (openShards.containsKey(runId)) {
      openShards.get(runId).remove(jobId);
    }
  }

  private static String runIdOf(String jobId) {
    return jobId.substring(0, jobId.lastIndexOf('/'));
  }

  /**
   * Asks Kafka Streams to commit at the end of this pass instead of at the next commit interval:
   * under exactly-once, what was forwarded (a flag, a new run's first jobs) is readable only once
   * its transaction commits. One request per event, so a busy dispatcher commits no more often.
   */
  void commitSoon() {
    context.commit();
  }

  /** Wall-clock time, as Kafka Streams sees it (a test driver advances it). */
  Instant now() {
    return Instant.ofEpochMilli(context.currentSystemTimeMs());
  }

  String taskId() {
    return context.taskId().toString();
  }

  /**
   * Publishes the job of a shard at its current attempt; {@code kind} is first, retry or resent.
   */
  void publishJob(RunState run, ShardState shard, String kind) {
    ScoringJob job = job(run, shard);
    forward(DispatcherTopology.JOBS_SINK, job.jobId(), Json.write(job), null);
    dispatching.jobsPublished(kind).increment();
  }

  /** The job of a shard at its current attempt. */
  static ScoringJob job(RunState run, ShardState shard) {
    var event = run.event();
    return ScoringJob.builder()
        .jobId(ScoringJob.jobId(run.runId(), shard.index()))
        .runId(run.runId())
        .eventId(event.eventId())
        .model(event.model())
        .version(event.version())
        .task(event.task())
        .artifact(event.artifact())
        .tokenizer(event.tokenizer())
        .goldenSubset(event.goldenSubset())
        .maxSeqLen(event.maxSeqLen())
        .stride(event.stride())
        .shardIndex(shard.index())
        .shardCount(run.shardsTotal())
        .rowStart(shard.rowStart())
        .rowCount(shard.rowCount())
        .metrics(event.task().spec().rowValues())
        .attempt(shard.attempt())
        .deadline(run.deadline())
        .embedding(event.embedding())
        .reference(run.shiftReference().map(BaselineRecord::artifact).orElse(null))
        .retrieval(run.retrievalStep(shard.index()))
        .order(run.order().orElse(null))
        .build();
  }

  /**
   * Tells the workers that {@code run}'s jobs still out need not be scored (on {@code
   * evalfleet.runs.cancelled}, keyed by run id); it publishes no more of them.
   */
  void cancel(RunState run) {
    RunCancelled cancelled =
        new RunCancelled(
            run.runId(),
            run.event().model(),
            run.sequential()
                .map(
                    s ->
                        "stopped "
                            + s.stopped()
                            + " after "
                            + s.rowsScored()
                            + " of "
                            + s.rowsTotal()
                            + " rows")
                .orElse("decided"),
            now());
    forward(DispatcherTopology.CANCELLED_SINK, run.runId(), Json.write(cancelled), null);
  }

  /** Sends a shard result on to the task that owns its model (see {@link Collector}). */
  void reroute(Record<String, byte[]> result) {
    forward(
        DispatcherTopology.REROUTED_RESULTS_SINK, result.key(), result.value(), result.headers());
  }

  /**
   * Makes {@code baseline} its model's production baseline here and publishes it on {@code
   * evalfleet.baselines}.
   */
  void pinBaseline(BaselineRecord baseline) {
    baselines.put(baseline.model(), baseline);
    forward(DispatcherTopology.BASELINES_SINK, baseline.model(), Json.write(baseline), null);
  }

  /** Publishes the one flag of a run, forgets the run's state and remembers that it was decided. */
  void publish(String runId, DriftFlag unsigned, String key) {
    FlagSigner signer = dispatching.signer;
    DriftFlag flag = unsigned;
    if (signer == null) {
      forward(DispatcherTopology.FLAGS_SINK, key, Json.write(flag), null);
    } else {
      // The key id goes inside the signed bytes, so that a header naming another key is caught.
      flag = unsigned.toBuilder().signingKeyId(signer.keyId()).build();
      SignedFlag signed = signer.sign(Json.write(flag));
      forward(DispatcherTopology.FLAGS_SINK, key, signed.value(), FlagSigner.headers(signed));
      // Off the stream thread: a slow store must not hold the transaction this flag is part of.
      DriftFlag archived = flag;
      dispatching.decisions.execute(() -> archiveSigned(archived, signed));
    }
    commitSoon();
    decided.put(runId, context.currentSystemTimeMs());
    forget(runId);
    // Rejected events may carry any key: they share one tag value, so the series stay bounded.
    FleetMeter.FLAGS
        .counter(
            dispatching.registry,
            flag.version() == null ? "(rejected)" : flag.model(),
            flag.flag().name())
        .increment();
    if (flag.stagedAt() != null && flag.decidedAt() != null) {
      FleetMeter.RUN_DURATION
          .timer(dispatching.registry, flag.flag().name())
          .record(Duration.between(flag.stagedAt(), flag.decidedAt()));
    }
    log.info(
        "flag {} for {} {} ({}): {}",
        flag.flag(),
        flag.model(),
        flag.version() == null ? "(version unknown)" : flag.version(),
        runId,
        String.join("; ", flag.reasons()));
  }

  /**
   * Keeps a signed flag beside its version's lockfile, for {@code baseline promote} to verify after
   * the compacted topic dropped it; only flags with a lockfile, so that the two stay of one run. A
   * failure to write is logged: the flag on the topic stays the verdict.
   */
  private void archiveSigned(DriftFlag flag, SignedFlag signed) {
    if (flag.lockfile() == null || flag.model() == null || flag.version() == null) {
      return;
    }
    try {
      dispatching.archive.writeSignedFlag(flag.model(), flag.version(), signed);
    } catch (IOException | RuntimeException e) {
      log.warn(
          "cannot archive the signed flag of {} {} ({}): baseline promote will refuse it: {}",
          flag.model(),
          flag.version(),
          flag.runId(),
          e.toString());
    }
  }

  /**
   * Notes that a run's progress moved; published by {@link #publishProgress}, at once when it is
   * complete.
   */
  void progressed(RunState run) {
    progress.computeIfAbsent(run.runId(), r -> new ProgressMark(now(), run.coverage().rowsScored()))
            .changed =
        true;
    if (run.complete()) {
      publishProgress(run);
    }
  }

  /** Publishes the progress of every run whose progress moved since it was last published. */
  void publishProgress() {
    progress.forEach(
        (runId, mark) -> {
          RunState run = runCache.get(runId);
          if (mark.changed && run != null) {
            publishProgress(run);
          }
        });
  }

  private void publishProgress(RunState run) {
    ProgressMark mark =
        progress.computeIfAbsent(
            run.runId(), r -> new ProgressMark(now(), run.coverage().rowsScored()));
    mark.changed = false;
    var coverage = run.coverage();
    Instant at = now();
    double seconds = Duration.between(mark.since, at).toMillis() / 1000.0;
    double rate = seconds <= 0 ? 0 : (coverage.rowsScored() - mark.rowsAtStart) / seconds;
    var event = run.event();
    RunProgress record =
        RunProgress.builder()
            .runId(run.runId())
            .eventId(event.eventId())
            .model(event.model())
            .version(event.version())
            .shardsDone(coverage.shardsDone())
            .shardsTotal(coverage.shardsTotal())
            .rowsScored(coverage.rowsScored())
            .rowsTotal(coverage.rowsTotal())
            .rowsPerSecond(rate)
            .stagedAt(run.stagedAt())
            .at(at)
            .build();
    forward(DispatcherTopology.PROGRESS_SINK, event.model(), Json.write(record), null);
  }

  /**
   * Copies a record that cannot be processed to the dead-letter topic, with where it came from and
   * why.
   */
  void deadLetter(
      String topic,
      int partition,
      long offset,
      String key,
      byte[] value,
      Headers original,
      Exception cause) {
    Headers headers =
        DeadLetters.from(topic, cause).copying(original).at(partition, offset).headers();
    forward(DispatcherTopology.DEAD_LETTERS_SINK, key, value, headers);
    dispatching.deadLetters(topic).increment();
  }

  private void forward(String sink, String key, byte[] value, Headers headers) {
    long now = context.currentSystemTimeMs();
    Record<String, byte[]> record =
        headers == null ? new Record<>(key, value, now) : new Record<>(key, value, now, headers);
    context.forward(record, sink);
  }

  /** Every run of this task. */
  List<RunState> allRuns() {
    return new ArrayList<>(runCache.values());
  }

  /** Visits the shards of a run, in shard order. */
  void forEachShard(String runId, BiConsumer<String, ShardState> visitor) {
    try (KeyValueIterator<String, ShardState> it =
        shards.prefixScan(runId + "/", Serdes.String().serializer())) {
      while (it.hasNext()) {
        KeyValue<String, ShardState> entry = it.next();
        visitor.accept(entry.key, entry.value);
      }
    }
  }

  /** Visits the accepted results of a run, as {@link #recordShardResult} kept them. */
  void forEachResult(String runId, Consumer<ShardResult> visitor) {
    try (KeyValueIterator<String, ShardResult> it =
        results.prefixScan(runId + "/", Serdes.String().serializer())) {
      it.forEachRemaining(entry -> visitor.accept(entry.value));
    }
  }

  /**
   * The values of a sequential run's completed prefix (shards {@code 0 .. prefixShards - 1}), at
   * their positions in its order, with their token sketches.
   */
  RowColumns prefixColumns(RunState run) {
    RowColumns columns = new RowColumns(run.prefixRows());
    forEachResult(
        run.runId(),
        result -> {
          if (result.shardIndex() < run.prefixShards()) {
            columns.add(result);
          }
        });
    return columns;
  }

  /** Drops a run's state: the run, its shards and its results. */
  void forget(String runId) {
    runs.delete(runId);
    runCache.remove(runId);
    openShards.remove(runId);
    progress.remove(runId);
    List<String> keys = new ArrayList<>();
    forEachShard(runId, (key, shard) -> keys.add(key));
    keys.forEach(
        key -> {
          shards.delete(key);
          results.delete(key);
        });
  }

  /** Forgets decided runs older than {@code dispatcher.decided-look-back}. */
  void expireDecided() {
    long oldest = context.currentSystemTimeMs() - dispatching.decidedLookBack.toMillis();
    List<String> expired = new ArrayList<>();
    try (KeyValueIterator<String, Long> it = decided.all()) {
      it.forEachRemaining(
          entry -> {
            if (entry.value < oldest) {
              expired.add(entry.key);
            }
          });
    }
    expired.forEach(decided::delete);
  }
}
