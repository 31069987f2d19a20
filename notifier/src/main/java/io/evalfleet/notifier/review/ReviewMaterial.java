package io.evalfleet.notifier.review;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.LockDiff;
import io.evalfleet.common.contract.DriftFlag;
import java.util.List;
import java.util.Map;

/**
 * Everything a review of one flag shows, read from the flag and the archive: the candidate's and
 * the baseline's lockfiles, the per-row changes, the text of the rows that moved most, the lockfile
 * diff and the model's history. What could not be read is listed in {@code problems} and left out.
 *
 * @param lock the candidate's lockfile; null when the run was not archived (an ERROR before
 *     scoring)
 * @param baselineLock the baseline version's lockfile; null without one
 * @param changes per-row scores and changes; null when the scores could not be read
 * @param history the model's archived evaluations, oldest first
 */
public record ReviewMaterial(
    DriftFlag flag,
    EvaluationLock lock,
    EvaluationLock baselineLock,
    RowChanges changes,
    List<MovedRowText> moved,
    LockDiff lockDiff,
    List<EvaluationLock> history,
    List<String> problems) {

  /**
   * A row that moved, with its id (the subset's {@code id} column, or its row number) and texts by
   * column.
   */
  public record MovedRowText(String id, Map<String, String> texts, RowChanges.MovedRow row) {}

  public ReviewMaterial {
    moved = List.copyOf(moved);
    history = List.copyOf(history);
    problems = List.copyOf(problems);
  }

  /**
   * The review of a flag whose run was not archived (an ERROR before scoring): the flag and the
   * model's history, nothing else.
   */
  public static ReviewMaterial unarchived(DriftFlag flag, List<EvaluationLock> history) {
    return new ReviewMaterial(flag, null, null, null, List.of(), null, history, List.of());
  }

  public String model() {
    return flag.model();
  }

  /**
   * The version under review; the event id stands in for an event rejected before its version was
   * read.
   */
  public String version() {
    return flag.version() != null ? flag.version() : flag.eventId();
  }
}
