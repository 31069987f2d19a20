package io.evalfleet.dispatcher.run;

import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.SchemaVersion;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.dispatcher.plan.Shard;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The progress of one evaluation run: its jobs not yet published, published and unanswered, and
 * answered. Owned by the dispatcher's loop thread.
 */
public final class Run {
  private final String runId;
  private final StagedWeightEvent event;
  private final Instant startedAt;
  private final Instant deadline;
  private final List<Shard> shards;
  private final long rowsTotal;
  private final ArrayDeque<ScoringJob> unpublished = new ArrayDeque<>();
  /** Jobs published and unanswered, by job id, with when they were (last) sent. */
  private final Map<String, Sent> inFlight = new LinkedHashMap<>();
  private final Map<String, ShardResult> results = new LinkedHashMap<>();
  /** Jobs paused until their dependency may be back, with when they may be published. */
  private final List<Sent> waiting = new java.util.ArrayList<>();
  private final Map<Integer, Integer> unavailableRetries = new java.util.HashMap<>();
  /** Why shards are still waiting (an unavailable dependency, workers that do not answer), if known. */
  private String whyWaiting;
  /** Jobs sent for the last time: a late answer is still taken, but they are not sent again. */
  private final Set<String> lastAttemptSent = new java.util.HashSet<>();
  private final Set<String> providers = new TreeSet<>();
  private final Set<String> runtimes = new TreeSet<>();
  private final Set<String> hardware = new TreeSet<>();
  private final Set<String> signatures = new TreeSet<>();
  private final Map<String, String> notComparable = new LinkedHashMap<>();
  private final List<String> notes = new java.util.ArrayList<>();
  private io.evalfleet.dispatcher.baseline.BaselineRecord namedBaseline;

  private record Sent(ScoringJob job, Instant at) {}

  public Run(String runId, StagedWeightEvent event, List<Shard> shards, Instant startedAt, Instant deadline) {
    this.runId = runId;
    this.event = event;
    this.shards = List.copyOf(shards);
    this.startedAt = startedAt;
    this.deadline = deadline;
    this.rowsTotal = shards.stream().mapToLong(Shard::count).sum();
    for (Shard shard : shards) {
      unpublished.add(job(shard, 1));
    }
  }

  /** The run id of an event: derived from its event id alone, so a re-delivered event maps to the same run. */
  public static String runIdOf(String eventId) {
    var digest = io.evalfleet.common.storage.Storage.newDigest()
        .digest(eventId.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return "run-" + java.util.HexFormat.of().formatHex(digest, 0, 10);
  }

  private ScoringJob job(Shard shard, int attempt) {
    return new ScoringJob(SchemaVersion.CURRENT, ScoringJob.jobId(runId, shard.index()), runId, event.eventId(),
        event.model(), event.version(), event.task(), event.artifact(), event.tokenizer(), event.goldenSubset(),
        event.maxSeqLen(), event.stride(), shard.index(), shards.size(), shard.start(), shard.count(),
        event.task().spec().rowValues(), attempt, deadline, event.embedding());
  }

  public boolean hasUnpublished() {
    return !unpublished.isEmpty();
  }

  /** Takes the next job to publish and counts it as in flight since {@code now}. */
  public ScoringJob publishNext(Instant now) {
    ScoringJob job = unpublished.poll();
    inFlight.put(job.jobId(), new Sent(job, now));
    return job;
  }

  /** Queues a job again (after a retriable failure), at the front. */
  public void retry(ScoringJob job) {
    inFlight.remove(job.jobId());
    unpublished.addFirst(job);
  }

  /**
   * Queues a job again once {@code at} has come (its dependency was unavailable): it is neither in
   * flight nor publishable until then. {@code why} is remembered for the deadline's reason.
   */
  public void retryAt(ScoringJob job, Instant at, String why) {
    inFlight.remove(job.jobId());
    waiting.add(new Sent(job, at));
    unavailableRetries.merge(job.shardIndex(), 1, Integer::sum);
    whyWaiting = why;
  }

  /** Moves the jobs whose pause is over to the front of the queue. */
  public void releaseDue(Instant now) {
    for (var it = waiting.iterator(); it.hasNext(); ) {
      Sent pause = it.next();
      if (!pause.at().isAfter(now)) {
        it.remove();
        unpublished.addFirst(pause.job());
      }
    }
  }

  /** How often shard {@code shardIndex} was sent again because a dependency was unavailable. */
  public int unavailableRetries(int shardIndex) {
    return unavailableRetries.getOrDefault(shardIndex, 0);
  }

  /** Why shards of this run were still waiting when last heard of: the dependency or the silence, if any. */
  public java.util.Optional<String> whyWaiting() {
    return java.util.Optional.ofNullable(whyWaiting);
  }

  /**
   * Stops re-sending a job that has had its attempts: it stays in flight, so a late answer still
   * counts, and the run waits for it until its deadline.
   */
  public void stopResending(ScoringJob job, String why) {
    lastAttemptSent.add(job.jobId());
    whyWaiting = why;
  }

  /**
   * Takes a shard result scored for this run before (a checkpoint left by a dispatcher that
   * stopped): its job is not published again. Returns false, changing nothing, for a result that is
   * not one of this run's unpublished shards or does not cover its rows.
   */
  public boolean adopt(ShardResult result) {
    if (result.failed() || result.shardIndex() < 0 || result.shardIndex() >= shards.size()
        || results.containsKey(result.jobId())) {
      return false;
    }
    Shard shard = shards.get(result.shardIndex());
    if (!result.jobId().equals(ScoringJob.jobId(runId, shard.index())) || result.rowStart() != shard.start()
        || result.rowCount() != shard.count()) {
      return false;
    }
    if (!unpublished.removeIf(job -> job.jobId().equals(result.jobId()))) {
      return false;
    }
    keep(result);
    return true;
  }

  /** Jobs in flight that were sent before {@code sentBefore} and may be sent again, oldest first. */
  public List<ScoringJob> overdue(Instant sentBefore) {
    return inFlight.values().stream().filter(s -> s.at().isBefore(sentBefore))
        .filter(s -> !lastAttemptSent.contains(s.job().jobId())).map(Sent::job).toList();
  }

  /** The next attempt of an in-flight job, counted as sent at {@code now}; it stays in flight. */
  public ScoringJob resend(ScoringJob job, Instant now) {
    ScoringJob next = job(shards.get(job.shardIndex()), job.attempt() + 1);
    inFlight.put(next.jobId(), new Sent(next, now));
    return next;
  }

  /**
   * Records a result. Returns false (and changes nothing) for a duplicate or for a job this run
   * does not have in flight.
   */
  public boolean accept(ShardResult result) {
    if (results.containsKey(result.jobId()) || inFlight.remove(result.jobId()) == null) {
      return false;
    }
    if (!result.failed()) {
      keep(result);
    }
    return true;
  }

  /** Keeps a successful result with where it was scored. */
  private void keep(ShardResult result) {
    results.put(result.jobId(), result);
    if (result.executionProvider() != null) {
      providers.add(result.executionProvider());
    }
    if (result.environment() != null) {
      addIfPresent(runtimes, result.environment().onnxRuntime());
      addIfPresent(hardware, result.environment().hardware());
      addIfPresent(signatures, result.environment().modelSignature());
    }
  }

  /** The job of a result's shard, for a retry with the next attempt number. */
  public ScoringJob jobFor(ShardResult result) {
    return job(shards.get(result.shardIndex()), result.attempt() + 1);
  }

  /** The job of a result's shard with the same attempt number (a retry that does not count as an attempt). */
  public ScoringJob sameJob(ShardResult result) {
    return job(shards.get(result.shardIndex()), result.attempt());
  }

  public boolean complete() {
    return results.size() == shards.size();
  }

  public int inFlightCount() {
    return inFlight.size();
  }

  public Collection<ShardResult> results() {
    return results.values();
  }

  /** Full coverage without scoring anything: every row's score came from the archive. */
  public Coverage reusedCoverage() {
    return new Coverage(shards.size(), shards.size(), rowsTotal, rowsTotal);
  }

  public Coverage coverage() {
    long rows = results.values().stream().mapToLong(ShardResult::rowCount).sum();
    return new Coverage(results.size(), shards.size(), rows, rowsTotal);
  }

  public List<String> providers() {
    return List.copyOf(providers);
  }

  public List<String> runtimes() {
    return List.copyOf(runtimes);
  }

  public List<String> hardware() {
    return List.copyOf(hardware);
  }

  /** The model signatures the shards reported: one, unless workers disagree. */
  public List<String> signatures() {
    return List.copyOf(signatures);
  }

  /** Marks a metric as not comparable with the baseline (it is reported, but decides nothing). */
  public void exclude(String metric, String why) {
    notComparable.put(metric, why);
  }

  public Map<String, String> notComparable() {
    return Map.copyOf(notComparable);
  }

  /** The archived version the event named as its baseline, once read (so it is read once per run). */
  public java.util.Optional<io.evalfleet.dispatcher.baseline.BaselineRecord> namedBaseline() {
    return java.util.Optional.ofNullable(namedBaseline);
  }

  public void namedBaseline(io.evalfleet.dispatcher.baseline.BaselineRecord baseline) {
    this.namedBaseline = baseline;
  }

  /** Adds a sentence to the flag's reasons. */
  public void note(String sentence) {
    notes.add(sentence);
  }

  public List<String> notes() {
    return List.copyOf(notes);
  }

  private static void addIfPresent(Set<String> set, String value) {
    if (value != null) {
      set.add(value);
    }
  }

  public String runId() {
    return runId;
  }

  public StagedWeightEvent event() {
    return event;
  }

  public Instant startedAt() {
    return startedAt;
  }

  public Instant deadline() {
    return deadline;
  }
}
