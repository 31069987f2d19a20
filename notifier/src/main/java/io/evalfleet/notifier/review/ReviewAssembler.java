package io.evalfleet.notifier.review;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.LockDiff;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.ColumnType;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TaskSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what a review shows from the archive: never throws for a missing or unreadable part, which
 * is named among the material's problems instead, so that a review is always written. Thread-safe.
 */
public final class ReviewAssembler {
  private static final Logger log = LoggerFactory.getLogger(ReviewAssembler.class);

  /** How many of the rows that moved most a review lists. */
  public static final int MOVED_ROWS = 10;

  private final Storage storage;
  private final EvaluationArchive archive;

  public ReviewAssembler(Storage storage, EvaluationArchive archive) {
    this.storage = storage;
    this.archive = archive;
  }

  public EvaluationArchive archive() {
    return archive;
  }

  public ReviewMaterial assemble(DriftFlag flag) {
    List<String> problems = new ArrayList<>();
    EvaluationLock lock =
        flag.lockfile() == null
            ? null
            : attempt(
                problems,
                "the lockfile " + flag.lockfile(),
                () -> EvaluationArchive.readLock(storage, flag.lockfile()));
    EvaluationLock baselineLock =
        flag.baselineVersion() == null
            ? null
            : attempt(
                problems,
                "the lockfile of baseline version " + flag.baselineVersion(),
                () ->
                    archive
                        .lock(flag.model(), flag.baselineVersion())
                        .orElseThrow(
                            () -> new IOException("not in the archive " + archive.root())));
    RowChanges changes =
        lock == null
            ? null
            : attempt(problems, "the per-row scores", () -> changes(lock, baselineLock));
    List<ReviewMaterial.MovedRowText> moved =
        changes == null || !changes.hasBaseline()
            ? List.of()
            : Optional.ofNullable(
                    attempt(
                        problems,
                        "the text of the rows that moved most from " + lock.goldenSubsetUri(),
                        () -> moved(lock, changes)))
                .orElse(List.of());
    LockDiff diff = lock != null && baselineLock != null ? new LockDiff(baselineLock, lock) : null;
    List<EvaluationLock> history =
        Optional.ofNullable(
                attempt(
                    problems, "the history of " + flag.model(), () -> archive.locks(flag.model())))
            .orElse(List.of());
    return new ReviewMaterial(flag, lock, baselineLock, changes, moved, diff, history, problems);
  }

  private RowChanges changes(EvaluationLock lock, EvaluationLock baselineLock) throws IOException {
    TaskSpec task = taskOf(lock);
    if (lock.scores() == null) {
      throw new IOException("the lockfile names no score file");
    }
    Map<String, double[]> candidate = archive.readScores(lock.scores());
    Map<String, double[]> baseline = null;
    if (baselineLock != null
        && baselineLock.scores() != null
        && baselineLock.goldenSubsetSha256().equals(lock.goldenSubsetSha256())
        && baselineLock.task().equals(lock.task())) {
      baseline = archive.readScores(baselineLock.scores());
    }
    return RowChanges.of(task.rowScore(), candidate, baseline);
  }

  private List<ReviewMaterial.MovedRowText> moved(EvaluationLock lock, RowChanges changes)
      throws IOException {
    List<RowChanges.MovedRow> rows = changes.mostMoved(MOVED_ROWS);
    List<String> textColumns =
        taskOf(lock).columns().stream()
            .filter(role -> role.type() == ColumnType.TEXT)
            .map(role -> lock.goldenSubsetColumns().getOrDefault(role.name(), role.name()))
            .toList();
    Set<Integer> wanted = rows.stream().map(RowChanges.MovedRow::row).collect(Collectors.toSet());
    Map<Integer, Map<String, String>> texts =
        SubsetTexts.read(storage, lock.goldenSubsetUri(), textColumns, wanted);
    List<ReviewMaterial.MovedRowText> moved = new ArrayList<>();
    for (RowChanges.MovedRow row : rows) {
      Map<String, String> values = new LinkedHashMap<>(texts.getOrDefault(row.row(), Map.of()));
      String id = values.remove(SubsetTexts.ID_COLUMN);
      moved.add(new ReviewMaterial.MovedRowText(id != null ? id : "row " + row.row(), values, row));
    }
    return moved;
  }

  private static TaskSpec taskOf(EvaluationLock lock) throws IOException {
    for (Task task : Task.values()) {
      if (task.wireName().equals(lock.task())) {
        return task.spec();
      }
    }
    throw new IOException("unknown task '" + lock.task() + "'");
  }

  private interface Read<T> {
    T get() throws IOException;
  }

  private static <T> T attempt(List<String> problems, String what, Read<T> read) {
    try {
      return read.get();
    } catch (IOException | RuntimeException e) {
      log.warn("review: cannot read {}: {}", what, e.toString());
      problems.add("cannot read " + what + ": " + e.getMessage());
      return null;
    }
  }
}
