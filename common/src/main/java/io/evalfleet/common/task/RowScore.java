package io.evalfleet.common.task;

import java.util.Map;

/**
 * The one per-row number a reviewer compares between two versions of a model, computed from a row's
 * values as a worker returned them: a pair's cosine for embedding models, a row's mean NLL per
 * token for causal LMs. Reports draw its per-row change and list the rows whose change is largest.
 *
 * @param name what the number is, e.g. {@code pair cosine}
 * @param direction which change is worse
 */
public record RowScore(String name, Direction direction, Formula formula) {

  /** The number of row {@code row} from the run's per-row value columns. */
  @FunctionalInterface
  public interface Formula {
    double of(Map<String, double[]> rowValues, int row);
  }

  public double of(Map<String, double[]> rowValues, int row) {
    return formula.of(rowValues, row);
  }
}
