package io.evalfleet.dispatcher.decision;

import java.util.Map;

/**
 * What a {@link PairedBootstrap} produced for one pair of runs.
 *
 * @param rows golden rows compared on each side
 * @param resamples how many resamples were drawn
 * @param seed the seed they were drawn with
 * @param baseline the baseline's metric vector on all rows
 * @param candidate the candidate's metric vector on all rows
 * @param resampledChanges per metric: the relative change (candidate − baseline)/|baseline| in each
 *     resample, in draw order; only metrics present on both sides
 * @param resampledValues per metric the candidate alone has (the token shift, already a comparison
 *     with the baseline): its value in each resample, drawn with the same rows as the changes
 */
public record BootstrapResult(
    int rows,
    int resamples,
    long seed,
    Map<String, Double> baseline,
    Map<String, Double> candidate,
    Map<String, double[]> resampledChanges,
    Map<String, double[]> resampledValues) {

  /** The relative change on all rows (the point estimate) of {@code metric}. */
  public double observedChange(String metric) {
    return relativeChange(baseline.get(metric), candidate.get(metric));
  }

  /**
   * (value − base)/|base|; a zero base gives 0 when unchanged and ±∞ otherwise, so that a move away
   * from zero is never mistaken for no move.
   */
  public static double relativeChange(double base, double value) {
    double delta = value - base;
    if (base == 0) {
      return delta == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, delta);
    }
    return delta / Math.abs(base);
  }
}
