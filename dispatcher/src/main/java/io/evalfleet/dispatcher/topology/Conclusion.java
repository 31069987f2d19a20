package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.SchemaVersion;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.RowColumns;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends runs. A complete run gets the baseline it is compared with (fixed when it was staged; for a
 * model's first versions, the first one staged, which it waits for), then its {@link Decision} is
 * computed off the stream thread, one run of the task at a time, and its flag published when the
 * decision comes back; a model's first version is pinned as its baseline, and the versions waiting
 * for it are decided next. A run that fails or runs out of time is flagged ERROR or INCOMPLETE with
 * why, and the next version in line takes its place as the first.
 */
final class Conclusion {
  private static final Logger log = LoggerFactory.getLogger(Conclusion.class);
  /**
   * Runs this small are decided on the stream thread, in well under a second (a transaction may
   * stay open 30 s), so a burst of small runs is not paced by the decision pool; larger ones are
   * decided on the pool, beside the stream thread.
   */
  static final long DECIDE_INLINE_ROWS = 5_000;

  private final RunBook book;
  private final Dispatching dispatching;
  private final FlowControl flow;
  /** Runs of this task whose decision may start, in the order they became complete. */
  private final Deque<String> ready = new ArrayDeque<>();
  /** The run whose decision is being computed, if any. */
  private String deciding;
  private final ConcurrentLinkedQueue<Decision.Outcome> decided = new ConcurrentLinkedQueue<>();

  Conclusion(RunBook book, FlowControl flow) {
    this.book = book;
    this.dispatching = book.dispatching;
    this.flow = flow;
  }

  /** Finds the runs a previous owner of the task left deciding, so their decisions are computed again. */
  void reload() {
    for (RunState run : book.allRuns()) {
      if (run.stage() == RunState.Stage.DECIDING && !ready.contains(run.runId()) && !run.runId().equals(deciding)) {
        ready.add(run.runId());
      }
    }
  }

  /** Settles a run whose rows are all scored (or reused): it is decided once its baseline is known. */
  void conclude(RunState run) {
    StagedWeightEvent event = run.event();
    if (run.signatures().size() > 1) {
      fail(run, "workers reported different signatures for one model: " + String.join(" | ", run.signatures()));
      return;
    }
    Optional<BaselineRecord> baseline = run.baseline();
    if (baseline.isEmpty() && !event.baseline().equals(StagedWeightEvent.PRODUCTION)) {
      baseline = run.namedBaseline().or(() -> archivedVersion(event.model(), event.baseline()));
      if (baseline.isEmpty()) {
        BaselineRecord production = book.baselines.get(event.model());
        fail(run, "baseline version '" + event.baseline() + "' of model " + event.model() + " is not known: "
            + (production == null ? "the model has no production baseline yet, and it has no lockfile in "
                : "it is not the production baseline (version " + production.version() + ") and has no lockfile in ")
            + dispatching.archive.root());
        return;
      }
    }
    if (baseline.isEmpty()) {
      FirstVersions first = book.firstVersions.get(event.model());
      if (first == null || !first.contains(run.runId())) {
        fail(run, "no baseline was fixed for model " + event.model() + " when version " + event.version() + " was staged");
        return;
      }
      if (first.pinned().isPresent()) {
        baseline = first.pinned();
      } else if (!first.head().orElseThrow().equals(run.runId())) {
        log.info("run {} for {} {} is scored; waiting for the first staged version of the model to be decided",
            run.runId(), event.model(), event.version());
        run.awaitBaseline();
        book.save(run);
        return;
      }
    }
    run.decideAgainst(baseline.orElse(null));
    book.save(run);
    ready.add(run.runId());
    startDecisions();
  }

  /** Starts the next ready decision when none of this task's is being computed. */
  void startDecisions() {
    while (deciding == null && !ready.isEmpty()) {
      RunState run = book.run(ready.poll());
      if (run == null || run.stage() != RunState.Stage.DECIDING) {
        continue;
      }
      RowColumns columns;
      try {
        columns = run.reusedScores().isPresent() ? null : assemble(run);
      } catch (RuntimeException e) {
        fail(run, "cannot assemble the run's rows: " + e.getMessage());
        continue;
      }
      deciding = run.runId();
      try {
        RunState copy = run.copy();
        Instant now = book.now();
        Decision decision = new Decision(dispatching, copy, columns, now);
        if (run.rowsTotal() <= DECIDE_INLINE_ROWS) {
          decided.add(decision.call());
        } else {
          dispatching.decisions.execute(() -> decided.add(decision.call()));
        }
      } catch (RejectedExecutionException e) {
        deciding = null; // shutting down: the run's next owner decides it
        return;
      }
      applyDecisions(); // a decision computed on the calling thread is applied at once
    }
  }

  /** Publishes what the decisions that came back found, then starts the next. */
  void applyDecisions() {
    Decision.Outcome outcome;
    while ((outcome = decided.poll()) != null) {
      if (outcome.runId().equals(deciding)) {
        deciding = null;
      }
      RunState run = book.run(outcome.runId());
      if (run == null || run.stage() != RunState.Stage.DECIDING) {
        continue; // decided meanwhile (its deadline passed)
      }
      FleetMeter.DECISION_DURATION.timer(dispatching.registry).record(Duration.ofMillis(outcome.millis()));
      if (outcome.failure() != null) {
        fail(run, outcome.failure());
      } else if (outcome.pinned() != null) {
        pinFirst(run, outcome);
      } else {
        leaveFirstVersions(run);
        flag(run, outcome.flag(), outcome.metrics(), outcome.reasons(), outcome.baselineVersion(), run.coverage(),
            outcome.providers(), outcome.lockfile(), true);
      }
    }
    if (deciding == null) {
      startDecisions();
    }
  }

  /**
   * The per-row values of a complete run, one column per value, its shard results copied in one at a
   * time, and its token sketches merged.
   */
  private RowColumns assemble(RunState run) {
    RowColumns columns = new RowColumns(run.rowsInFile());
    book.forEachResult(run.runId(), columns::add);
    return columns;
  }

  /** The model's first version becomes its baseline; the versions waiting for it are decided next. */
  private void pinFirst(RunState run, Decision.Outcome outcome) {
    String model = run.event().model();
    BaselineRecord pinned = outcome.pinned();
    pin(pinned, "first");
    FirstVersions first = Optional.ofNullable(book.firstVersions.get(model)).orElseGet(FirstVersions::new);
    first.pinned(pinned);
    first.decided(run.runId());
    saveFirstVersions(model, first);
    flag(run, outcome.flag(), outcome.metrics(), outcome.reasons(), null, run.coverage(), outcome.providers(),
        outcome.lockfile(), true);
    for (String runId : first.runs()) {
      RunState next = book.run(runId);
      if (next != null && next.stage() == RunState.Stage.AWAITING_BASELINE) {
        conclude(next);
      }
    }
  }

  /**
   * An evaluated version named as the baseline of an event, from its lockfile; empty when it was
   * never evaluated (or its lockfile names no scores).
   */
  Optional<BaselineRecord> archivedVersion(String model, String version) {
    try {
      return dispatching.archive.lock(model, version).filter(lock -> lock.scores() != null)
          .map(lock -> BaselineRecord.of(lock, lock.decidedAt()));
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read version {} of {} from the archive: {}", version, model, e.toString());
      return Optional.empty();
    }
  }

  /** Makes {@code record} the production baseline (store and topic) and adds it to the model's history. */
  private void pin(BaselineRecord record, String reason) {
    book.baselines.put(record.model(), record);
    book.publish(record);
    try {
      dispatching.archive.recordBaseline(new BaselineSnapshot(record.model(), record.version(), record.commit(),
          record.runId(), record.artifactSha256(), record.subsetSha256(), record.metrics(), reason, record.recordedAt()));
    } catch (IOException | RuntimeException e) {
      log.error("cannot add baseline {} {} to the history in {}: {}", record.model(), record.version(),
          dispatching.archive.root(), e.toString());
    }
    dispatching.bandHistory.asMap().keySet().removeIf(key -> key.startsWith(record.model() + "@"));
  }

  /** Ends a run that cannot be evaluated before any shard is scored. */
  void refuse(RunState run, String reason) {
    end(run, Flag.ERROR, List.of(reason), null);
  }

  /** Ends a run that failed: ERROR, with its coverage so far. */
  void fail(RunState run, String reason) {
    end(run, Flag.ERROR, List.of(reason), run.coverage());
  }

  /** Ends a run past its deadline: INCOMPLETE, with its coverage and what it was waiting for. */
  void expire(RunState run) {
    String reason;
    if (run.stage() == RunState.Stage.PREFLIGHT) {
      reason = "deadline " + run.deadline() + " passed before pre-flight could read the event's files"
          + run.whyWaiting().map(why -> ": " + why).orElse("");
    } else if (run.stage() == RunState.Stage.AWAITING_BASELINE) {
      reason = "deadline " + run.deadline() + " passed while every shard was scored but the model's first staged"
          + " version, its baseline, was still undecided";
    } else if (run.stage() == RunState.Stage.DECIDING) {
      reason = "deadline " + run.deadline() + " passed while every shard was scored and its statistics were being"
          + " computed";
    } else {
      var coverage = run.coverage();
      reason = String.format("deadline %s passed with %d of %d shards (%d of %d rows) scored", run.deadline(),
          coverage.shardsDone(), coverage.shardsTotal(), coverage.rowsScored(), coverage.rowsTotal());
      if (run.whyWaiting().isPresent()) {
        reason += "; shards were waiting: " + run.whyWaiting().get();
      }
    }
    end(run, Flag.INCOMPLETE, List.of(reason), run.stage() == RunState.Stage.PREFLIGHT ? null : run.coverage());
  }

  private void end(RunState run, Flag flag, List<String> reasons, Coverage coverage) {
    flow.released(run.open());
    boolean wasHead = leaveFirstVersions(run);
    preflightAgainBehind(run, flag);
    flag(run, flag, Map.of(), reasons, null, coverage, run.providers(), null, false);
    if (wasHead) {
      // The next version in line becomes the first; if it was already waiting, it is decided now.
      FirstVersions first = book.firstVersions.get(run.event().model());
      if (first != null && first.pinned().isEmpty()) {
        first.head().map(book::run).filter(next -> next.stage() == RunState.Stage.AWAITING_BASELINE)
            .ifPresent(this::conclude);
      }
    }
  }

  /**
   * The runs checked against a first version that ended without becoming the baseline, none of
   * whose jobs went out yet (they were waiting for it), are pre-flighted again by the next tick,
   * against the next one in line: as if they had been staged after it. Runs that already published
   * jobs keep what they measured, and their flags say against which version.
   */
  private void preflightAgainBehind(RunState ended, Flag flag) {
    for (RunState waiting : book.allRuns()) {
      if (waiting.provisionalRun().filter(ended.runId()::equals).isEmpty() || waiting.hasPublished()) {
        continue;
      }
      waiting.preflightAgain(book.now(), "version " + ended.event().version() + ", the model's first staged, ended "
          + flag + " before this version's jobs went out; checking it again against the next version in line");
      book.save(waiting);
      log.info("run {} for {} {}: its first staged version {} ended {}; pre-flighting it again", waiting.runId(),
          waiting.event().model(), waiting.event().version(), ended.event().version(), flag);
    }
  }

  /** Takes a decided run out of its model's first versions; returns whether it was the one in line to be pinned. */
  private boolean leaveFirstVersions(RunState run) {
    String model = run.event().model();
    FirstVersions first = book.firstVersions.get(model);
    if (first == null || !first.contains(run.runId())) {
      return false;
    }
    boolean head = first.pinned().isEmpty() && first.head().orElseThrow().equals(run.runId());
    first.decided(run.runId());
    saveFirstVersions(model, first);
    return head;
  }

  private void saveFirstVersions(String model, FirstVersions first) {
    if (first.isEmpty()) {
      book.firstVersions.delete(model);
    } else {
      book.firstVersions.put(model, first);
    }
  }

  /** @param byPolicy whether the decision policy set the flag (not so for runs that ended without a decision) */
  private void flag(RunState run, Flag flag, Map<String, MetricValue> metrics, List<String> reasons,
      String baselineVersion, Coverage coverage, List<String> providers, String lockfile, boolean byPolicy) {
    StagedWeightEvent event = run.event();
    Instant now = book.now();
    DriftFlag driftFlag = new DriftFlag(SchemaVersion.CURRENT, run.runId(), event.eventId(), event.model(),
        event.version(), baselineVersion, flag, metrics, new ArrayList<>(reasons), coverage, providers, run.stagedAt(),
        now, Duration.between(run.stagedAt(), now).toMillis(), byPolicy ? dispatching.policy.policyVersion() : null,
        lockfile, event.review());
    book.publish(run.runId(), driftFlag, event.model());
  }
}
