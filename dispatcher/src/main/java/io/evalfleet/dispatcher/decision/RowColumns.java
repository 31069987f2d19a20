package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.task.TokenSketch;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A run's per-row values, one column per value over all its rows, filled one shard result at a time
 * and in any order: each shard's values land at its rows, and nothing but the columns (and the
 * merged token sketches) is held. Not thread-safe.
 */
public final class RowColumns {
  private final int rows;
  private final Map<String, double[]> columns = new LinkedHashMap<>();
  private final Map<String, TokenSketch> sketches = new LinkedHashMap<>();

  public RowColumns(long rows) {
    this.rows = Math.toIntExact(rows);
  }

  /**
   * Copies a successful shard's values to its rows.
   *
   * @throws IllegalArgumentException when the shard has other values than the shards before it, or
   *     rows outside the run
   */
  public void add(ShardResult result) {
    if (!columns.isEmpty() && !columns.keySet().equals(result.values().keySet())) {
      throw new IllegalArgumentException(
          "shard "
              + result.jobId()
              + " has values "
              + result.values().keySet()
              + ", other shards "
              + columns.keySet());
    }
    if (result.rowStart() < 0 || result.rowStart() + result.rowCount() > rows) {
      throw new IllegalArgumentException(
          "shard "
              + result.jobId()
              + " holds rows "
              + result.rowStart()
              + "+"
              + result.rowCount()
              + ", outside the run's "
              + rows);
    }
    result
        .values()
        .forEach(
            (name, part) ->
                System.arraycopy(
                    part,
                    0,
                    columns.computeIfAbsent(name, n -> unscored(rows)),
                    (int) result.rowStart(),
                    part.length));
    result
        .sketches()
        .forEach(
            (name, encoded) ->
                sketches
                    .computeIfAbsent(name, n -> TokenSketch.empty())
                    .merge(TokenSketch.decode(encoded)));
  }

  /**
   * Copies a successful shard's values to the rows {@code rows} (value {@code i} to row {@code
   * rows[i]}): a shard of a seeded row order holds rows spread over the file.
   *
   * @throws IllegalArgumentException as {@link #add(ShardResult)}, or when {@code rows} does not
   *     match the shard's values
   */
  public void add(ShardResult result, long[] rows) {
    if (!columns.isEmpty() && !columns.keySet().equals(result.values().keySet())) {
      throw new IllegalArgumentException(
          "shard "
              + result.jobId()
              + " has values "
              + result.values().keySet()
              + ", other shards "
              + columns.keySet());
    }
    if (rows.length != result.rowCount()) {
      throw new IllegalArgumentException(
          "shard " + result.jobId() + " has " + result.rowCount() + " rows, not " + rows.length);
    }
    for (long row : rows) {
      if (row < 0 || row >= this.rows) {
        throw new IllegalArgumentException(
            "shard " + result.jobId() + " holds row " + row + ", outside the run's " + this.rows);
      }
    }
    result
        .values()
        .forEach(
            (name, part) -> {
              double[] column = columns.computeIfAbsent(name, n -> unscored(this.rows));
              for (int i = 0; i < part.length; i++) {
                column[(int) rows[i]] = part[i];
              }
            });
    result
        .sketches()
        .forEach(
            (name, encoded) ->
                sketches
                    .computeIfAbsent(name, n -> TokenSketch.empty())
                    .merge(TokenSketch.decode(encoded)));
  }

  /**
   * A column whose rows no shard scored (a retrieval subset's judgements) hold NaN, never a made-up
   * 0.
   */
  private static double[] unscored(int rows) {
    double[] column = new double[rows];
    Arrays.fill(column, Double.NaN);
    return column;
  }

  public Map<String, double[]> columns() {
    return columns;
  }

  /** The shards' token sketches, merged by name. */
  public Map<String, TokenSketch> sketches() {
    return sketches;
  }
}
