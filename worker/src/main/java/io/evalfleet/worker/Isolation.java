package io.evalfleet.worker;

import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;

/**
 * Scores a suspect job (one delivered to several workers that stopped without answering it) away
 * from the worker, so that whatever happens to the scoring is evidence about the job alone.
 * Implementations are thread-safe.
 */
@FunctionalInterface
interface Isolation {
  /** Scores {@code job} alone; never throws. */
  Outcome score(ScoringJob job);

  /** How scoring a job alone ended. */
  sealed interface Outcome {}

  /** It answered (with values or a typed error, as any scoring does): the job's answer. */
  record Answered(ShardResult result) implements Outcome {}

  /**
   * It died while this worker lived: evidence that the job stops whoever scores it.
   *
   * @param evidence how it died, e.g. {@code ran out of memory (-Xmx256m), exit status 3}
   */
  record Died(String evidence) implements Outcome {}

  /**
   * It was cut short by this worker stopping: nothing is known about the job, which is delivered
   * again.
   */
  record Abandoned(String why) implements Outcome {}

  /**
   * It could not be done for reasons of this worker's own (the process would not start): a bug or a
   * broken install.
   */
  record Failed(String why) implements Outcome {}
}
