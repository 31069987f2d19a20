package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a task's jobs under flow control: at most {@code dispatcher.max-jobs-in-flight-per-run}
 * open (unanswered or paused) jobs per run and {@code dispatcher.max-jobs-in-flight} per task, runs
 * served in turn. On each wall-clock tick it also releases paused jobs, sends overdue ones again
 * and says which runs are past their deadline or due to be pre-flighted again ({@link #due}), for
 * the processor to hand to the steps that end or pre-flight runs.
 *
 * <p>The counts it keeps in memory are derived from the stores ({@link #reload}) when the task
 * starts and on every tick: this processor is the only writer of its task's stores.
 */
final class FlowControl {
  private static final Logger log = LoggerFactory.getLogger(FlowControl.class);

  private final RunBook book;
  private final Dispatching dispatching;
  private int open;
  private final Deque<String> publishable = new ArrayDeque<>();

  FlowControl(RunBook book) {
    this.book = book;
    this.dispatching = book.dispatching;
  }

  /** Recounts open jobs and runs with jobs to publish from the stores. */
  void reload() {
    open = 0;
    publishable.clear();
    int active = 0;
    for (RunState run : book.allRuns()) {
      open += run.open();
      active++;
      if (run.hasUnpublished()) {
        publishable.add(run.runId());
      }
    }
    dispatching.load(book.taskId(), active, open);
  }

  /** A run started scoring: its jobs may be published. */
  void started(RunState run) {
    if (run.hasUnpublished() && !publishable.contains(run.runId())) {
      publishable.add(run.runId());
    }
  }

  /** One of the task's jobs was answered (or its run ended): its slot is free. */
  void released(int jobs) {
    open = Math.max(0, open - jobs);
  }

  /** Publishes new jobs, runs in turn, while the limits allow. */
  void publish() {
    Instant now = book.now();
    int skipped = 0;
    while (open < dispatching.maxInFlight
        && !publishable.isEmpty()
        && skipped < publishable.size()) {
      String runId = publishable.poll();
      RunState run = book.run(runId);
      if (run == null || !run.hasUnpublished()) {
        continue;
      }
      if (run.open() >= dispatching.maxInFlightPerRun
          || run.waitsForCorpus()
          || waitsForFirstVersion(run)) {
        publishable.add(runId);
        skipped++;
        continue;
      }
      skipped = 0;
      int index = run.takeNextShard();
      String jobId = ScoringJob.jobId(runId, index);
      ShardState shard = book.shard(jobId);
      shard.sent(1, now);
      book.saveShard(jobId, shard);
      book.publishJob(run, shard, "first");
      open++;
      if (run.hasUnpublished()) {
        publishable.add(runId);
      }
    }
  }

  /**
   * Whether a run's jobs wait for the model's first staged version, its baseline-to-be, still being
   * scored. A retrieval run reads that version's doc and query embeddings (and the worker keeps
   * what it read), so it waits until every shard of that version is scored. A causal LM runs that
   * version beside itself for the token shift, so it waits until one of its shards is scored: its
   * model loads and runs. A first version that ends before that has this run pre-flighted again
   * against the next in line (see {@link Conclusion}), as if staged after it.
   */
  private boolean waitsForFirstVersion(RunState run) {
    RunState first = run.provisionalRun().map(book::run).orElse(null);
    if (first == null || first.complete()) {
      return false;
    }
    if (run.indexWaitsFor().isPresent()) {
      return true;
    }
    return run.shiftReference().isPresent() && first.coverage().shardsDone() == 0;
  }

  /** What the wall-clock tick finds due for a run. */
  enum Due {
    /** Past its deadline: it ends INCOMPLETE. */
    DEADLINE,
    /** Its pre-flight is to be tried again. */
    PREFLIGHT,
    /** It has jobs open: paused ones may be due, unanswered ones overdue ({@link #resend}). */
    OPEN_JOBS,
    NOTHING
  }

  /**
   * The wall-clock step for one run: past its deadline, pre-flight due again, or jobs open (paused
   * jobs due, jobs unanswered past {@code dispatcher.job-timeout}). After every run, the processor
   * recounts ({@link #reload}) and publishes.
   */
  Due due(RunState run, Instant now) {
    if (now.isAfter(run.deadline())) {
      return Due.DEADLINE;
    } else if (run.stage() == RunState.Stage.PREFLIGHT
        && run.preflightAt() != null
        && !run.preflightAt().isAfter(now)) {
      return Due.PREFLIGHT;
    } else if (run.stage() == RunState.Stage.SCORING && run.open() > 0) {
      return Due.OPEN_JOBS;
    }
    return Due.NOTHING;
  }

  /**
   * Releases paused jobs that are due and sends overdue ones again, or stops at their last attempt.
   */
  void resend(RunState run, Instant now) {
    Instant sentBefore = now.minus(dispatching.jobTimeout);
    boolean changed = false;
    for (ShardState shard : book.openShards(run.runId())) {
      String jobId = ScoringJob.jobId(run.runId(), shard.index());
      if (shard.status() == ShardState.Status.PAUSED && !shard.releaseAt().isAfter(now)) {
        shard.sent(shard.attempt(), now);
        book.publishJob(run, shard, "retry");
      } else if (shard.status() == ShardState.Status.IN_FLIGHT
          && !shard.lastAttempt()
          && shard.sentAt().isBefore(sentBefore)) {
        if (shard.attempt() >= Dispatching.MAX_ATTEMPTS) {
          String why =
              "shard "
                  + shard.index()
                  + " got no result in "
                  + Dispatching.MAX_ATTEMPTS
                  + " attempts of "
                  + dispatching.jobTimeout.toSeconds()
                  + " s each (workers down, stuck, or slower than dispatcher.job-timeout)";
          log.warn(
              "run {}: {}; waiting for a late answer until the deadline {}",
              run.runId(),
              why,
              run.deadline());
          shard.stopResending();
          run.whyWaiting(why);
        } else {
          shard.sent(shard.attempt() + 1, now);
          log.warn(
              "job {} unanswered after {} s; sending attempt {}",
              jobId,
              dispatching.jobTimeout.toSeconds(),
              shard.attempt());
          book.publishJob(run, shard, "resent");
        }
      } else {
        continue;
      }
      book.saveShard(jobId, shard);
      changed = true;
    }
    if (changed) {
      book.save(run);
    }
  }
}
