package io.evalfleet.scoring;

import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.task.SubsetLayout;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.subset.SubsetReader;
import java.io.IOException;

/**
 * Scores the jobs of one {@link Task}: reads the rows its {@link io.evalfleet.common.task.TaskSpec}
 * names and returns at least the spec's per-row values. Must be thread-safe.
 */
public interface TaskScorer {
  Task task();

  /**
   * @throws ScoringException naming the cause, with its failure kind
   */
  Scored score(ScoringJob job) throws ScoringException;

  /**
   * The columns the job's task reads from its golden subset, as its spec finds them in the file.
   */
  static SubsetLayout layout(SubsetReader subsets, ScoringJob job) throws ScoringException {
    try {
      return subsets.layout(job);
    } catch (IOException e) {
      throw ScoringException.of("reading golden subset " + job.goldenSubset().uri(), e);
    }
  }
}
