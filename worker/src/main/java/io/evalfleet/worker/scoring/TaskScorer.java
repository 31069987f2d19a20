package io.evalfleet.worker.scoring;

import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.task.Task;

/**
 * Scores the jobs of one {@link Task}: reads the rows its {@link io.evalfleet.common.task.TaskSpec}
 * names and returns at least the spec's per-row values. Must be thread-safe.
 */
public interface TaskScorer {
  Task task();

  /** @throws ScoringException naming the cause, with its failure kind */
  Scored score(ScoringJob job) throws ScoringException;
}
