package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SequentialDecision;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.Look;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks at a sequential run as its completed prefix grows: the shards of a run scored in its seeded
 * order are dispatched in index order, and the prefix is shards {@code 0 .. k - 1} all scored (a
 * shard that finishes ahead of a missing one is no evidence, and nothing past the gap is looked
 * at). Each result that extends the prefix, once it holds the policy's minimum rows, is a look
 * ({@link SequentialLook}) against the baseline fixed when the run was staged, when that baseline's
 * per-row scores are archived. A conclusive look (RED or GREEN) stops the run: its unpublished jobs
 * are never published, those in flight are cancelled on {@code evalfleet.runs.cancelled}, and it is
 * decided from its prefix ({@link DecisionQueue}).
 *
 * <p>A look costs one pass over the prefix (the per-row values already in {@code shard-results})
 * and the decider's closed-form sequence, O(rows): it runs on the stream thread. After the first, a
 * look waits until the prefix has grown by a tenth, so all the looks of a run pass over about ten
 * times its rows in all. The baseline's scores are read once and kept ({@link
 * Dispatching#baselineScores}).
 */
final class Looks {
  private static final Logger log = LoggerFactory.getLogger(Looks.class);

  /** What a result came to for the run's sequential decision. */
  sealed interface Looked permits GoesOn, Stopped {}

  /** No look, or an inconclusive one: the run goes on. */
  record GoesOn() implements Looked {}

  /**
   * A look was conclusive: the run is ready for its decision from the prefix.
   *
   * @param releasedJobs its jobs still in flight, whose slots are free (they are cancelled)
   */
  record Stopped(RunState run, int releasedJobs) implements Looked {}

  private static final Looked GOES_ON = new GoesOn();

  /** A look after the first needs the prefix grown by a tenth (of its rows at the last look). */
  static final int LOOK_GROWTH = 10;

  private final RunBook book;
  private final Dispatching dispatching;

  Looks(RunBook book) {
    this.book = book;
    this.dispatching = book.dispatching;
  }

  /** After a shard of {@code run} was accepted: extends its prefix and looks, if it may. */
  Looked onAccepted(RunState run) {
    if (run.order().isEmpty() || run.stoppedEarly() || run.stage() != RunState.Stage.SCORING) {
      return GOES_ON;
    }
    int shards = run.prefixShards();
    long rows = run.prefixRows();
    while (shards < run.shardsTotal()) {
      ShardState shard = book.shard(ScoringJob.jobId(run.runId(), shards));
      if (shard == null || shard.status() != ShardState.Status.DONE) {
        break;
      }
      rows += shard.rowCount();
      shards++;
    }
    if (shards == run.prefixShards()) {
      return GOES_ON;
    }
    run.extendPrefix(shards, rows);
    // The decider stops nothing before the policy's minimum of sampling units: no look before.
    // After the first look, one per tenth of growth of the prefix: a confidence sequence holds at
    // any looks, and spacing them so keeps the passes over the prefix at about ten times its rows
    // in all, whatever the number of shards.
    if (shards == run.shardsTotal()
        || rows / run.order().get().unitRows() < dispatching.policy.sequential().minRows()
        || (run.lookedAtRows() > 0
            && rows < run.lookedAtRows() + run.lookedAtRows() / LOOK_GROWTH)) {
      book.save(run);
      return GOES_ON;
    }
    Optional<BaselineRecord> baseline = baselineOf(run);
    if (baseline.isEmpty()) {
      book.save(run);
      return GOES_ON;
    }
    Look look;
    try {
      Map<String, double[]> baselineRows = baselineRows(baseline.get());
      SequentialLook.Paired paired =
          SequentialLook.pair(run.order().get(), prefix(run), rows, baselineRows);
      look = SequentialLook.look(dispatching, run, baseline.get(), paired, run.looks());
      if (paired.partial() && run.looks() == 0) {
        run.note(SequentialLook.partialBaseline(baseline.get(), paired));
      }
    } catch (RuntimeException e) {
      log.warn(
          "run {}: no look at its first {} rows ({}); it is scored to the end",
          run.runId(),
          rows,
          e.toString());
      run.notLooked("the looks failed: " + e.getMessage());
      book.save(run);
      return GOES_ON;
    }
    if (look.stop() == Look.Stop.NEVER) {
      run.lookedWithoutStopping(look.reason());
      book.save(run);
      return GOES_ON;
    }
    run.looked(look.reason());
    if (look.stop() == Look.Stop.CONTINUE) {
      book.save(run);
      return GOES_ON;
    }
    int released = run.open();
    run.stop(
        look.stop() == Look.Stop.RED ? SequentialDecision.Stop.RED : SequentialDecision.Stop.GREEN,
        baseline.get());
    book.save(run);
    book.cancel(run);
    log.info(
        "run {} ({} {}) stopped {} after {} of {} rows ({} looks): {}",
        run.runId(),
        run.event().model(),
        run.event().version(),
        look.stop(),
        rows,
        run.rowsTotal(),
        run.looks(),
        look.reason());
    return new Stopped(run, released);
  }

  /**
   * The baseline a look compares with: the one fixed when the run was staged, whose per-row scores
   * are archived. None while the model's first version, its baseline-to-be, is undecided, or when
   * the baseline was scored on another subset: then the run goes to its end.
   */
  private Optional<BaselineRecord> baselineOf(RunState run) {
    Optional<BaselineRecord> baseline = run.baseline().or(run::namedBaseline);
    String why = null;
    if (baseline.isEmpty()) {
      why = "no baseline is known yet (the model's first version is not decided)";
    } else if (baseline.get().scores() == null) {
      why = "the scores of baseline version " + baseline.get().version() + " are not archived";
    } else if (!baseline.get().subsetSha256().equals(run.event().goldenSubset().sha256())) {
      why = "baseline version " + baseline.get().version() + " was scored on another subset";
    }
    if (why != null) {
      run.notLooked(why);
      return Optional.empty();
    }
    return baseline;
  }

  private Map<String, double[]> baselineRows(BaselineRecord baseline) {
    return dispatching.baselineScores.get(
        baseline.scores(),
        uri -> {
          try {
            return dispatching.archive.readScores(uri);
          } catch (IOException e) {
            throw new UncheckedIOException(
                "cannot read the scores of baseline version " + baseline.version(), e);
          }
        });
  }

  /** The candidate's values on the completed prefix, by position in its order. */
  private Map<String, double[]> prefix(RunState run) {
    return book.prefixColumns(run).columns();
  }
}
