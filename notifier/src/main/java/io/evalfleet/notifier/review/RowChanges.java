package io.evalfleet.notifier.review;

import io.evalfleet.common.task.Direction;
import io.evalfleet.common.task.RowScore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The per-row score of a candidate and, when it has a baseline on the same rows, the per-row
 * change: what the report's histogram and scatter draw and the comment summarises. Rows whose score
 * is not a number (a row with no scored token) are left out of the statistics. Immutable.
 */
public final class RowChanges {
  /** One row's score in both versions. */
  public record MovedRow(int row, double baseline, double candidate) {
    public double change() {
      return candidate - baseline;
    }
  }

  /**
   * Equal-width bins over the changes (or the scores, without a baseline): {@code counts[i]} in
   * {@code [edges[i], edges[i+1])}.
   */
  public record Bins(double[] edges, long[] counts) {
    public long max() {
      return Arrays.stream(counts).max().orElse(0);
    }
  }

  private final RowScore score;
  private final double[] candidate;
  private final double[] baseline;

  private RowChanges(RowScore score, double[] candidate, double[] baseline) {
    this.score = score;
    this.candidate = candidate;
    this.baseline = baseline;
  }

  /**
   * @param baselineValues the baseline's per-row values on the same rows, or null without a
   *     baseline; either run may have stopped early, its rows past the last it scored missing (they
   *     count as unscored, as a NaN row does)
   */
  public static RowChanges of(
      RowScore score, Map<String, double[]> candidateValues, Map<String, double[]> baselineValues) {
    double[] candidate = scores(score, candidateValues);
    double[] baseline = baselineValues == null ? null : scores(score, baselineValues);
    if (baseline != null && baseline.length != candidate.length) {
      int rows = Math.max(baseline.length, candidate.length);
      candidate = padded(candidate, rows);
      baseline = padded(baseline, rows);
    }
    return new RowChanges(score, candidate, baseline);
  }

  private static double[] padded(double[] values, int rows) {
    double[] out = Arrays.copyOf(values, rows);
    Arrays.fill(out, values.length, rows, Double.NaN);
    return out;
  }

  private static double[] scores(RowScore score, Map<String, double[]> values) {
    int rows = values.values().stream().mapToInt(v -> v.length).max().orElse(0);
    return IntStream.range(0, rows).mapToDouble(row -> score.of(values, row)).toArray();
  }

  public RowScore score() {
    return score;
  }

  public boolean hasBaseline() {
    return baseline != null;
  }

  public int rows() {
    return candidate.length;
  }

  /** The rows with a score in both versions (or in the candidate, without a baseline). */
  private IntStream scored() {
    return IntStream.range(0, candidate.length)
        .filter(
            i -> !Double.isNaN(candidate[i]) && (baseline == null || !Double.isNaN(baseline[i])));
  }

  /** The per-row changes, or the candidate's scores without a baseline, over the scored rows. */
  public double[] values() {
    return scored()
        .mapToDouble(i -> baseline == null ? candidate[i] : candidate[i] - baseline[i])
        .toArray();
  }

  /** Pairs (baseline, candidate) of the scored rows; empty without a baseline. */
  public List<MovedRow> pairs() {
    return baseline == null
        ? List.of()
        : scored().mapToObj(i -> new MovedRow(i, baseline[i], candidate[i])).toList();
  }

  /**
   * The {@code q}-quantile (0..1) of {@link #values()}, by linear interpolation; NaN when there is
   * none.
   */
  public double quantile(double q) {
    double[] sorted = values();
    if (sorted.length == 0) {
      return Double.NaN;
    }
    Arrays.sort(sorted);
    double position = q * (sorted.length - 1);
    int low = (int) Math.floor(position);
    int high = Math.min(low + 1, sorted.length - 1);
    return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
  }

  public double mean() {
    return Arrays.stream(values()).average().orElse(Double.NaN);
  }

  /** The change in the bad direction: positive is worse. */
  public double badness(double change) {
    Direction direction = score.direction();
    return direction == Direction.TWO_SIDED ? Math.abs(change) : direction.badness(change);
  }

  /**
   * {@code bins} equal-width bins over {@link #values()}; one bin around the value when all are
   * equal.
   */
  public Bins bins(int bins) {
    double[] values = values();
    double low = Arrays.stream(values).min().orElse(0);
    double high = Arrays.stream(values).max().orElse(0);
    if (high - low < 1e-12) {
      double pad = Math.max(Math.abs(low) * 1e-3, 1e-6);
      low -= pad;
      high += pad;
    }
    double width = (high - low) / bins;
    double[] edges = new double[bins + 1];
    for (int i = 0; i <= bins; i++) {
      edges[i] = low + i * width;
    }
    long[] counts = new long[bins];
    for (double value : values) {
      counts[Math.min(bins - 1, (int) ((value - low) / width))]++;
    }
    return new Bins(edges, counts);
  }

  /**
   * The {@code limit} rows that moved most, worst first: in the bad direction, or either way when
   * two-sided.
   */
  public List<MovedRow> mostMoved(int limit) {
    List<MovedRow> moved = new ArrayList<>(pairs());
    moved.sort(
        Comparator.comparingDouble((MovedRow r) -> badness(r.change()))
            .reversed()
            .thenComparingInt(MovedRow::row));
    return moved.subList(0, Math.min(limit, moved.size()));
  }
}
