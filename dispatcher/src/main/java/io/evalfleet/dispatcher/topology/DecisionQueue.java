package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.dispatcher.decision.RowColumns;
import io.evalfleet.dispatcher.run.RunState;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;

/**
 * A task's runs ready for their {@link Decision}, computed one at a time in the order they became
 * ready: on the stream thread for small runs, on the decision pool beside it for larger ones. The
 * decisions that come back are handed to the processor ({@link #nextDecided}), which settles them
 * on the stream thread. Only the queue of decisions that came back is touched by another thread.
 */
final class DecisionQueue {
  /**
   * Runs this small are decided on the stream thread, in well under a second (a transaction may
   * stay open 30 s), so a burst of small runs is not paced by the decision pool; larger ones are
   * decided on the pool, beside the stream thread.
   */
  static final long DECIDE_INLINE_ROWS = 5_000;

  /** What {@link #startNext} came to. */
  sealed interface Started permits Running, Unassembled, NoneStarted {}

  /**
   * A decision is being computed (or, for a small run, was computed and waits in {@link
   * #nextDecided}).
   */
  record Running(RunState run) implements Started {}

  /** The run's rows cannot be assembled: it ends ERROR with {@code reason}. */
  record Unassembled(RunState run, String reason) implements Started {}

  /** None started: one is being computed, none is ready, or the pool is shutting down. */
  record NoneStarted() implements Started {}

  /** A decision that came back, for a run still waiting for it. */
  record Decided(RunState run, Decision.Outcome outcome) {}

  private static final Started NONE_STARTED = new NoneStarted();

  private final RunBook book;
  private final Dispatching dispatching;

  /** Runs of this task whose decision may start, in the order they became complete. */
  private final Deque<String> ready = new ArrayDeque<>();

  /** The run whose decision is being computed, if any. */
  private String deciding;

  private final ConcurrentLinkedQueue<Decision.Outcome> decided = new ConcurrentLinkedQueue<>();

  DecisionQueue(RunBook book) {
    this.book = book;
    this.dispatching = book.dispatching;
  }

  /**
   * Finds the runs a previous owner of the task left deciding, so their decisions are computed
   * again.
   */
  void reload() {
    for (RunState run : book.allRuns()) {
      if (run.stage() == RunState.Stage.DECIDING
          && !ready.contains(run.runId())
          && !run.runId().equals(deciding)) {
        ready.add(run.runId());
      }
    }
  }

  /** Queues a run whose baseline is known ({@link Conclusion.ToDecide}). */
  void add(RunState run) {
    ready.add(run.runId());
  }

  /** Starts the next ready decision when none of this task's is being computed. */
  Started startNext() {
    while (deciding == null && !ready.isEmpty()) {
      RunState run = book.run(ready.poll());
      if (run == null || run.stage() != RunState.Stage.DECIDING) {
        continue;
      }
      RowColumns columns;
      try {
        columns = run.reusedScores().isPresent() ? null : assemble(run);
      } catch (RuntimeException e) {
        return new Unassembled(run, "cannot assemble the run's rows: " + e.getMessage());
      }
      deciding = run.runId();
      try {
        Decision decision = new Decision(dispatching, run.copy(), columns, book.now());
        if (run.rowsTotal() <= DECIDE_INLINE_ROWS) {
          decided.add(decision.call());
        } else {
          dispatching.decisions.execute(() -> decided.add(decision.call()));
        }
      } catch (RejectedExecutionException e) {
        deciding = null; // shutting down: the run's next owner decides it
        return NONE_STARTED;
      }
      return new Running(run);
    }
    return NONE_STARTED;
  }

  /**
   * The next decision that came back for a run still deciding (one whose deadline passed meanwhile
   * is skipped), or null; its duration is recorded.
   */
  Decided nextDecided() {
    Decision.Outcome outcome;
    while ((outcome = decided.poll()) != null) {
      if (outcome.runId().equals(deciding)) {
        deciding = null;
      }
      RunState run = book.run(outcome.runId());
      if (run == null || run.stage() != RunState.Stage.DECIDING) {
        continue; // decided meanwhile (its deadline passed)
      }
      dispatching.decisionDuration.record(Duration.ofMillis(outcome.millis()));
      return new Decided(run, outcome);
    }
    return null;
  }

  /**
   * The per-row values of a complete run, one column per value in file order, its shard results
   * copied in one at a time, and its token sketches merged; of a run stopped early, its completed
   * prefix in the order's positions.
   */
  private RowColumns assemble(RunState run) {
    if (run.stoppedEarly()) {
      return book.prefixColumns(run);
    }
    RowColumns columns = new RowColumns(run.rowsInFile());
    RowOrder order = run.order().orElse(null);
    if (order == null) {
      book.forEachResult(run.runId(), columns::add);
    } else {
      // Shards of a seeded order hold positions of it: each value goes back to its file row.
      book.forEachResult(
          run.runId(),
          result -> columns.add(result, order.rows(result.rowStart(), result.rowCount())));
    }
    return columns;
  }
}
