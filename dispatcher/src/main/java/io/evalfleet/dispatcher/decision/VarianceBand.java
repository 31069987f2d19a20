package io.evalfleet.dispatcher.decision;

import java.util.List;
import java.util.Optional;

/**
 * The range recent production models held a metric in: mean ± k·σ (sample standard deviation) of
 * the latest snapshots. A candidate outside it is unlike what has shipped lately, better or worse
 * (a sudden improvement can mean leakage of the golden set), so it is a reason to look, not to
 * block.
 *
 * @param mean mean of the snapshots used
 * @param sigma their sample standard deviation (n − 1)
 * @param k half-width in σ
 * @param snapshots how many snapshots were used
 */
public record VarianceBand(
    double mean, double sigma, double k, int snapshots, double minHalfWidth) {

  /** A band with no floor under its half-width. */
  public VarianceBand(double mean, double sigma, double k, int snapshots) {
    this(mean, sigma, k, snapshots, 0);
  }

  /**
   * This band, at least {@code relativeFloor · |mean|} wide on each side: production snapshots that
   * barely differed (σ near 0) would otherwise put every candidate outside, however small its
   * change.
   */
  public VarianceBand atLeast(double relativeFloor) {
    return new VarianceBand(mean, sigma, k, snapshots, relativeFloor * Math.abs(mean));
  }

  /** Half the band's width: k·σ, or the floor when that is wider. */
  public double halfWidth() {
    return Math.max(k * sigma, minHalfWidth);
  }

  /**
   * The band of the latest {@code window} values of {@code history} (oldest first), or empty when
   * fewer than {@code minSnapshots} are available.
   */
  public static Optional<VarianceBand> of(
      List<Double> history, double k, int minSnapshots, int window) {
    List<Double> recent = history.subList(Math.max(0, history.size() - window), history.size());
    if (recent.size() < Math.max(2, minSnapshots)) {
      return Optional.empty();
    }
    double mean = recent.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    double squares = recent.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
    return Optional.of(
        new VarianceBand(mean, Math.sqrt(squares / (recent.size() - 1)), k, recent.size()));
  }

  public double low() {
    return mean - halfWidth();
  }

  public double high() {
    return mean + halfWidth();
  }

  /** Whether {@code value} lies in [low, high]. */
  public boolean contains(double value) {
    return value >= low() && value <= high();
  }
}
