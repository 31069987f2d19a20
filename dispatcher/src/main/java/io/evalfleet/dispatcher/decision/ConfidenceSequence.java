package io.evalfleet.dispatcher.decision;

import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * One-sided asymptotic confidence sequences for a mean: bounds that hold at every sample size at
 * once, so a decision may be taken at any look, as often as one likes (Waudby-Smith, Arbour, Sinha,
 * Kennedy &amp; Ramdas, "Time-uniform central limit theory and asymptotic confidence sequences";
 * the normal mixture of Howard, Ramdas, McAuliffe &amp; Sekhon; GrowthBook's sequential engine uses
 * its two-sided form).
 *
 * <p>With S_n the sum of n standardised values (x_i − μ)/σ̂ and the mixing density of λ a
 * half-normal N(0, ρ²) restricted to λ &gt; 0, the mixture martingale is
 *
 * <pre>
 *   M_n = 2/√(1 + nρ²) · exp(u²/2) · Φ(u),   u = S_n·ρ/√(1 + nρ²)
 * </pre>
 *
 * and Ville's inequality gives P(∃n: M_n ≥ 1/α) ≤ α. "The mean exceeds μ₀" is shown at level α as
 * soon as M_n ≥ 1/α at μ = μ₀: the lower bound of the sequence is x̄ − k_n·σ̂ with k_n = u*·√(1 +
 * nρ²)/(ρ·n), where u* solves u²/2 + ln Φ(u) = ln(1/α) + ½·ln(1 + nρ²) − ln 2. Under a composite
 * null (μ ≤ μ₀) M_n is a supermartingale, so the same bound holds for every mean in the null. The
 * two-sided form with the whole α (the GrowthBook half-width σ̂·√(2(nρ² + 1)/(n²ρ²) · ln(√(nρ² +
 * 1)/α))) is a valid but wider one-sided bound; the half-normal mixture is the exact one-sided one.
 *
 * <p>1/M_n is an anytime-valid p-value: P(∃n: 1/M_n ≤ a) ≤ a for every a, so Bonferroni and Holm
 * (both monotone in the p-values) keep the family error rate when applied at each look.
 *
 * <p>"Asymptotic": σ is estimated from the data and the per-unit values need only finite variance;
 * the guarantee holds as the number of units grows (the strong approximation by a Gaussian
 * process), which is why a look needs a minimum number of units.
 *
 * <p>Stateless and thread-safe.
 */
final class ConfidenceSequence {
  private static final NormalDistribution NORMAL = new NormalDistribution(null, 0, 1);
  private static final double LN2 = Math.log(2);

  private ConfidenceSequence() {}

  /**
   * The mixing variance ρ² that makes the two-sided sequence tightest at {@code tuningUnits} units
   * (the approximation GrowthBook and Waudby-Smith et al. use): (−2 ln α + ln(−2 ln α + 1))/N.
   */
  static double rho2(double alpha, long tuningUnits) {
    double l = -2 * Math.log(alpha);
    return (l + Math.log(l + 1)) / tuningUnits;
  }

  /**
   * k_n: the one-sided bound at level α after n units is x̄ ∓ k_n·σ̂.
   *
   * @throws IllegalArgumentException when n &lt; 1 or α is not in (0, 1)
   */
  static double halfWidthFactor(long n, double rho2, double alpha) {
    if (n < 1 || !(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException(
          "a confidence sequence needs n >= 1 and alpha in (0, 1), was n=" + n + ", α=" + alpha);
    }
    double grown = 1 + n * rho2;
    double target = Math.log(1 / alpha) + 0.5 * Math.log(grown) - LN2;
    double u = solve(target);
    return u * Math.sqrt(grown) / (Math.sqrt(rho2) * n);
  }

  /**
   * The anytime-valid p-value of "the mean is at most 0" after n units with sample mean {@code
   * mean} and standard deviation {@code sd}: min(1, 1/M_n). Test "at least 0" by passing −mean. A
   * zero standard deviation gives 0 for a positive mean and 1 otherwise.
   */
  static double pValueAbove(double mean, double sd, long n, double rho2) {
    if (n < 2 || Double.isNaN(mean) || Double.isNaN(sd)) {
      return 1;
    }
    if (sd == 0) {
      return mean > 0 ? 0 : 1;
    }
    double grown = 1 + n * rho2;
    double u = n * mean / sd * Math.sqrt(rho2) / Math.sqrt(grown);
    double logM = LN2 - 0.5 * Math.log(grown) + logMixture(u);
    return logM <= 0 ? 1 : Math.exp(-logM);
  }

  /** u²/2 + ln Φ(u), increasing in u (its derivative u + φ(u)/Φ(u) is positive). */
  private static double logMixture(double u) {
    if (u < -30) {
      // Φ underflows; its Mills-ratio tail: ln Φ(u) ≈ −u²/2 − ln(−u·√(2π)).
      return -Math.log(-u * Math.sqrt(2 * Math.PI));
    }
    return u * u / 2 + Math.log(NORMAL.cumulativeProbability(u));
  }

  /** The u with u²/2 + ln Φ(u) = target, by bisection (target &gt; ln ½ puts u above 0). */
  private static double solve(double target) {
    double low = -40;
    double high = Math.max(1, Math.sqrt(2 * Math.max(target, 0)) + 2);
    while (logMixture(high) < target) {
      high *= 2;
    }
    for (int i = 0; i < 200 && high - low > 1e-12; i++) {
      double mid = (low + high) / 2;
      if (logMixture(mid) < target) {
        low = mid;
      } else {
        high = mid;
      }
    }
    return (low + high) / 2;
  }
}
