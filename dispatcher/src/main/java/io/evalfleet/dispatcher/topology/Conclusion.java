package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.archive.BaselineSnapshot;
import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles and ends runs. A complete run gets the baseline it is compared with (fixed when it was
 * staged; for a model's first versions, the first one staged, which it waits for) and is then ready
 * for its {@link Decision}, which the {@link DecisionQueue} computes; when the decision comes back,
 * its flag is published, and a model's first version is pinned as its baseline, the versions
 * waiting for it being settled next. A run that fails or runs out of time is flagged ERROR or
 * INCOMPLETE with why, and the next version in line takes its place as the first. What follows (a
 * run to decide, jobs released, the next run to settle) is returned to the processor.
 */
final class Conclusion {
  private static final Logger log = LoggerFactory.getLogger(Conclusion.class);

  /** What settling a complete run came to. */
  sealed interface Settled permits Ended, AwaitingBaseline, ToDecide {}

  /**
   * The run ended (its flag is published and its state forgotten).
   *
   * @param releasedJobs the jobs it held open, whose slots are free
   * @param nextInLine the model's next first version, already scored and waiting, to be settled now
   */
  record Ended(int releasedJobs, Optional<RunState> nextInLine) implements Settled {}

  /** The run waits for the model's first staged version to be decided. */
  record AwaitingBaseline() implements Settled {}

  /** The run's baseline is known: its decision may be computed. */
  record ToDecide(RunState run) implements Settled {}

  private final RunBook book;
  private final Dispatching dispatching;

  Conclusion(RunBook book) {
    this.book = book;
    this.dispatching = book.dispatching;
  }

  /**
   * Settles a run whose rows are all scored (or reused): it is decided once its baseline is known.
   */
  Settled conclude(RunState run) {
    StagedWeightEvent event = run.event();
    if (run.signatures().size() > 1) {
      return fail(
          run,
          "workers reported different signatures for one model: "
              + String.join(" | ", run.signatures()));
    }
    Optional<BaselineRecord> baseline = run.baseline();
    if (baseline.isEmpty() && !event.baseline().equals(StagedWeightEvent.PRODUCTION)) {
      baseline =
          run.namedBaseline()
              .or(() -> Decision.archivedVersion(dispatching, event.model(), event.baseline()));
      if (baseline.isEmpty()) {
        BaselineRecord production = book.productionBaseline(event.model()).orElse(null);
        return fail(
            run,
            "baseline version '"
                + event.baseline()
                + "' of model "
                + event.model()
                + " is not known: "
                + (production == null
                    ? "the model has no production baseline yet, and it has no lockfile in "
                    : "it is not the production baseline (version "
                        + production.version()
                        + ") and has no lockfile in ")
                + dispatching.archive.root());
      }
    }
    if (baseline.isEmpty()) {
      FirstVersions first = book.firstVersions(event.model());
      if (first == null || !first.contains(run.runId())) {
        return fail(
            run,
            "no baseline was fixed for model "
                + event.model()
                + " when version "
                + event.version()
                + " was staged");
      }
      if (first.pinned().isPresent()) {
        baseline = first.pinned();
      } else if (!first.head().orElseThrow().equals(run.runId())) {
        log.info(
            "run {} for {} {} is scored; waiting for the first staged version of the model to be decided",
            run.runId(),
            event.model(),
            event.version());
        run.awaitBaseline();
        book.save(run);
        return new AwaitingBaseline();
      }
    }
    run.decideAgainst(baseline.orElse(null));
    book.save(run);
    return new ToDecide(run);
  }

  /** Publishes the flag of a run decided against its baseline. */
  void decided(RunState run, Decision.Outcome outcome) {
    leaveFirstVersions(run);
    flag(
        run,
        outcome.flag(),
        outcome.metrics(),
        outcome.reasons(),
        outcome.baselineVersion(),
        run.coverage(),
        outcome.providers(),
        outcome.lockfile(),
        true);
  }

  /**
   * The model's first version becomes its baseline, and its flag is published; returns the versions
   * waiting for it, to be settled next.
   */
  List<RunState> pinFirst(RunState run, Decision.Outcome outcome) {
    String model = run.event().model();
    BaselineRecord pinned = outcome.pinned();
    pin(pinned, "first");
    FirstVersions first =
        Optional.ofNullable(book.firstVersions(model)).orElseGet(FirstVersions::new);
    first.pinned(pinned);
    first.decided(run.runId());
    book.saveFirstVersions(model, first);
    flag(
        run,
        outcome.flag(),
        outcome.metrics(),
        outcome.reasons(),
        null,
        run.coverage(),
        outcome.providers(),
        outcome.lockfile(),
        true);
    List<RunState> waiting = new ArrayList<>();
    for (String runId : first.runs()) {
      RunState next = book.run(runId);
      if (next != null && next.stage() == RunState.Stage.AWAITING_BASELINE) {
        waiting.add(next);
      }
    }
    return waiting;
  }

  /**
   * Makes {@code record} the production baseline (store and topic) and adds it to the model's
   * history.
   */
  private void pin(BaselineRecord record, String reason) {
    book.pinBaseline(record);
    try {
      dispatching.archive.recordBaseline(
          new BaselineSnapshot(
              record.model(),
              record.version(),
              record.commit(),
              record.runId(),
              record.artifactSha256(),
              record.subsetSha256(),
              record.metrics(),
              reason,
              record.recordedAt()));
    } catch (IOException | RuntimeException e) {
      log.error(
          "cannot add baseline {} {} to the history in {}: {}",
          record.model(),
          record.version(),
          dispatching.archive.root(),
          e.toString());
    }
    dispatching.bandHistory.asMap().keySet().removeIf(key -> key.startsWith(record.model() + "@"));
  }

  /** Ends a run that cannot be evaluated before any shard is scored. */
  Ended refuse(RunState run, String reason) {
    return end(run, Flag.ERROR, List.of(reason), null);
  }

  /** Ends a run that failed: ERROR, with its coverage so far. */
  Ended fail(RunState run, String reason) {
    return end(run, Flag.ERROR, List.of(reason), run.coverage());
  }

  /** Ends a run past its deadline: INCOMPLETE, with its coverage and what it was waiting for. */
  Ended expire(RunState run) {
    String reason;
    if (run.stage() == RunState.Stage.PREFLIGHT) {
      reason =
          "deadline "
              + run.deadline()
              + " passed before pre-flight could read the event's files"
              + run.whyWaiting().map(why -> ": " + why).orElse("");
    } else if (run.stage() == RunState.Stage.AWAITING_BASELINE) {
      reason =
          "deadline "
              + run.deadline()
              + " passed while every shard was scored but the model's first staged"
              + " version, its baseline, was still undecided";
    } else if (run.stage() == RunState.Stage.DECIDING) {
      reason =
          "deadline "
              + run.deadline()
              + " passed while every shard was scored and its statistics were being"
              + " computed";
    } else {
      var coverage = run.coverage();
      reason =
          String.format(
              "deadline %s passed with %d of %d shards (%d of %d rows) scored",
              run.deadline(),
              coverage.shardsDone(),
              coverage.shardsTotal(),
              coverage.rowsScored(),
              coverage.rowsTotal());
      if (run.whyWaiting().isPresent()) {
        reason += "; shards were waiting: " + run.whyWaiting().get();
      }
    }
    return end(
        run,
        Flag.INCOMPLETE,
        List.of(reason),
        run.stage() == RunState.Stage.PREFLIGHT ? null : run.coverage());
  }

  private Ended end(RunState run, Flag flag, List<String> reasons, Coverage coverage) {
    int released = run.open();
    boolean wasHead = leaveFirstVersions(run);
    preflightAgainBehind(run, flag);
    flag(run, flag, Map.of(), reasons, null, coverage, run.providers(), null, false);
    Optional<RunState> next = Optional.empty();
    if (wasHead) {
      // The next version in line becomes the first; if it was already waiting, it is settled now.
      FirstVersions first = book.firstVersions(run.event().model());
      if (first != null && first.pinned().isEmpty()) {
        next =
            first
                .head()
                .map(book::run)
                .filter(waiting -> waiting.stage() == RunState.Stage.AWAITING_BASELINE);
      }
    }
    return new Ended(released, next);
  }

  /**
   * The runs checked against a first version that ended without becoming the baseline, none of
   * whose jobs went out yet (they were waiting for it), are pre-flighted again by the next tick,
   * against the next one in line: as if they had been staged after it. Runs that already published
   * jobs keep what they measured, and their flags say against which version.
   */
  private void preflightAgainBehind(RunState ended, Flag flag) {
    for (RunState waiting : book.allRuns()) {
      if (waiting.provisionalRun().filter(ended.runId()::equals).isEmpty()
          || waiting.hasPublished()) {
        continue;
      }
      waiting.preflightAgain(
          book.now(),
          "version "
              + ended.event().version()
              + ", the model's first staged, ended "
              + flag
              + " before this version's jobs went out; checking it again against the next version in line");
      book.save(waiting);
      log.info(
          "run {} for {} {}: its first staged version {} ended {}; pre-flighting it again",
          waiting.runId(),
          waiting.event().model(),
          waiting.event().version(),
          ended.event().version(),
          flag);
    }
  }

  /**
   * Takes a decided run out of its model's first versions; returns whether it was the one in line
   * to be pinned.
   */
  private boolean leaveFirstVersions(RunState run) {
    String model = run.event().model();
    FirstVersions first = book.firstVersions(model);
    if (first == null || !first.contains(run.runId())) {
      return false;
    }
    boolean head = first.pinned().isEmpty() && first.head().orElseThrow().equals(run.runId());
    first.decided(run.runId());
    book.saveFirstVersions(model, first);
    return head;
  }

  /**
   * @param byPolicy whether the decision policy set the flag (not so for runs that ended without a
   *     decision)
   */
  private void flag(
      RunState run,
      Flag flag,
      Map<String, MetricValue> metrics,
      List<String> reasons,
      String baselineVersion,
      Coverage coverage,
      List<String> providers,
      String lockfile,
      boolean byPolicy) {
    StagedWeightEvent event = run.event();
    Instant now = book.now();
    DriftFlag driftFlag =
        FlagFromEvent.of(event)
            .runId(run.runId())
            .baselineVersion(baselineVersion)
            .flag(flag)
            .metrics(metrics)
            .reasons(new ArrayList<>(reasons))
            .coverage(coverage)
            .executionProviders(providers)
            .stagedAt(run.stagedAt())
            .decidedAt(now)
            .durationMs(Duration.between(run.stagedAt(), now).toMillis())
            .policyVersion(byPolicy ? dispatching.policy.policyVersion() : null)
            .changeKind(run.changeKind().orElse(event.changeKind()))
            .lockfile(lockfile)
            .sequential(byPolicy ? run.sequential().orElse(null) : null)
            .build();
    book.publish(run.runId(), driftFlag, event.model());
  }
}
