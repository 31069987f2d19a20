package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.Look;
import io.evalfleet.dispatcher.decision.MetricVector;
import io.evalfleet.dispatcher.run.RunState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One look at a sequential run's completed prefix: the candidate's values there (in the order's
 * positions) paired with its baseline's values at the same file rows, then handed to the {@link
 * io.evalfleet.dispatcher.decision.SequentialDecider}. Pure: the same prefix and baseline give the
 * same look, so the look that stopped a run is made again, off the stream thread, when its flag is
 * decided.
 *
 * <p>A baseline that itself stopped early has only the rows of its own prefix: a block is paired
 * only when the baseline has every one of its rows, so the pairs stay whole sampling units.
 */
final class SequentialLook {
  private SequentialLook() {}

  /**
   * The prefix's rows that both runs have.
   *
   * @param baseline the baseline's values at the paired rows, in the prefix's order
   * @param candidate the candidate's values at the paired rows, in the prefix's order
   * @param rows the paired rows
   * @param prefixRows the rows of the prefix
   */
  record Paired(
      Map<String, double[]> baseline, Map<String, double[]> candidate, int rows, long prefixRows) {
    /** Whether some of the prefix's rows were left out, the baseline not having them. */
    boolean partial() {
      return rows < prefixRows;
    }
  }

  /**
   * Pairs the candidate's prefix ({@code prefix}: values at positions {@code 0 .. prefixRows - 1}
   * of {@code order}) with the baseline's per-row values ({@code baselineRows}, by file row; a
   * missing or NaN value is a row the baseline did not score).
   */
  static Paired pair(
      RowOrder order,
      Map<String, double[]> prefix,
      long prefixRows,
      Map<String, double[]> baselineRows) {
    int n = Math.toIntExact(prefixRows);
    long[] rows = order.rows(0, n);
    List<String> shared = new ArrayList<>();
    for (String name : prefix.keySet()) {
      if (!Task.isComparisonValue(name) && baselineRows.containsKey(name)) {
        shared.add(name);
      }
    }
    boolean[] keep = new boolean[n];
    int kept = 0;
    for (int start = 0; start < n; ) {
      int step = start < order.shuffledRows() ? order.unitRows() : 1;
      int end = Math.min(n, start + step);
      boolean whole = !shared.isEmpty();
      for (int i = start; i < end && whole; i++) {
        for (String name : shared) {
          double[] column = baselineRows.get(name);
          if (rows[i] >= column.length || Double.isNaN(column[(int) rows[i]])) {
            whole = false;
            break;
          }
        }
      }
      for (int i = start; i < end; i++) {
        keep[i] = whole;
      }
      kept += whole ? end - start : 0;
      start = end;
    }
    int pairs = kept;
    Map<String, double[]> candidate = new LinkedHashMap<>();
    prefix.forEach((name, column) -> candidate.put(name, kept(column, keep, pairs, null)));
    Map<String, double[]> baseline = new LinkedHashMap<>();
    baselineRows.forEach((name, column) -> baseline.put(name, kept(column, keep, pairs, rows)));
    return new Paired(baseline, candidate, pairs, prefixRows);
  }

  /** The kept values: {@code column[i]}, or {@code column[rows[i]]} when {@code rows} is given. */
  private static double[] kept(double[] column, boolean[] keep, int kept, long[] rows) {
    double[] out = new double[kept];
    int at = 0;
    for (int i = 0; i < keep.length; i++) {
      if (keep[i]) {
        int from = rows == null ? i : (int) rows[i];
        out[at++] = from < column.length ? column[from] : Double.NaN;
      }
    }
    return out;
  }

  /**
   * The look at a paired prefix of {@code run}, compared with {@code baseline}, after {@code
   * looksSoFar} looks.
   */
  static Look look(
      Dispatching dispatching,
      RunState run,
      BaselineRecord baseline,
      Paired paired,
      int looksSoFar) {
    RowOrder order = run.order().orElseThrow();
    return dispatching
        .sequential
        .forChangeKind(run.changeKind().orElse(null))
        .look(
            paired.baseline(),
            paired.candidate(),
            order.unitRows(),
            run.rowsTotal(),
            looksSoFar,
            notComparable(run, baseline));
  }

  /**
   * For a whole run (in file order) compared with a baseline that stopped early: the rows both
   * have, or null when the baseline has every row (or the task is retrieval, whose unscored
   * judgement rows are NaN by design).
   */
  static Paired rowsBothHave(Task task, MetricVector vector, Map<String, double[]> baselineRows) {
    if (task == Task.RETRIEVAL) {
      return null;
    }
    int n = Math.toIntExact(vector.rows());
    List<String> shared = new ArrayList<>();
    for (String name : vector.rowValues().keySet()) {
      if (!Task.isComparisonValue(name) && baselineRows.containsKey(name)) {
        shared.add(name);
      }
    }
    if (shared.isEmpty()) {
      return null;
    }
    boolean[] keep = new boolean[n];
    int kept = 0;
    for (int row = 0; row < n; row++) {
      boolean has = true;
      for (String name : shared) {
        double[] column = baselineRows.get(name);
        if (row >= column.length || Double.isNaN(column[row])) {
          has = false;
          break;
        }
      }
      keep[row] = has;
      kept += has ? 1 : 0;
    }
    if (kept == n) {
      return null;
    }
    Map<String, double[]> candidate = new LinkedHashMap<>();
    int rows = kept;
    vector
        .rowValues()
        .forEach((name, column) -> candidate.put(name, kept(column, keep, rows, null)));
    Map<String, double[]> baseline = new LinkedHashMap<>();
    baselineRows.forEach((name, column) -> baseline.put(name, kept(column, keep, rows, null)));
    return new Paired(baseline, candidate, kept, n);
  }

  /**
   * What decides nothing: what the run itself excludes, and a token shift measured against another
   * version than the baseline.
   */
  static Map<String, String> notComparable(RunState run, BaselineRecord baseline) {
    Map<String, String> notComparable = new LinkedHashMap<>(run.notComparable());
    run.shiftReference()
        .filter(reference -> !reference.version().equals(baseline.version()))
        .ifPresent(
            reference ->
                Decision.SHIFT_METRICS.forEach(
                    metric ->
                        notComparable.put(
                            metric,
                            "the token shift was measured against version "
                                + reference.version()
                                + ", but the run is compared with version "
                                + baseline.version())));
    return notComparable;
  }

  /** A sentence saying that the baseline lacks rows of the prefix, and how many were paired. */
  static String partialBaseline(BaselineRecord baseline, Paired paired) {
    return "baseline version "
        + baseline.version()
        + " was not scored on every row (it stopped early): the looks pair the rows both runs"
        + " have, "
        + paired.rows()
        + " of the prefix's "
        + paired.prefixRows();
  }
}
