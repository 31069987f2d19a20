package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ConfidenceSequenceTest {
  /** GrowthBook's two-sided half-width factor: √(2(nρ² + 1)/(n²ρ²)·ln(√(nρ² + 1)/α)). */
  private static double twoSided(long n, double rho2, double alpha) {
    double grown = n * rho2 + 1;
    return Math.sqrt(2 * grown / ((double) n * n * rho2) * Math.log(Math.sqrt(grown) / alpha));
  }

  @Test
  void rhoIsTunedByTheClosedForm() {
    double l = -2 * Math.log(0.05);
    assertThat(ConfidenceSequence.rho2(0.05, 1000))
        .isCloseTo((l + Math.log(l + 1)) / 1000, within(1e-15))
        .isCloseTo(0.0079362, within(1e-6));
  }

  @Test
  void oneSidedBoundLiesBetweenTheTwoSidedOnesAtAlphaAndTwiceAlpha() {
    double rho2 = ConfidenceSequence.rho2(0.05, 1000);
    for (long n : new long[] {20, 100, 1000, 10_000, 1_000_000}) {
      double k = ConfidenceSequence.halfWidthFactor(n, rho2, 0.05);
      assertThat(k).as("n=%d", n).isLessThan(twoSided(n, rho2, 0.05));
      assertThat(k).as("n=%d", n).isGreaterThan(twoSided(n, rho2, 0.10));
    }
  }

  @Test
  void boundIsWiderThanTheFixedSampleIntervalAndShrinksLikeRootN() {
    double rho2 = ConfidenceSequence.rho2(0.05, 1000);
    double z = 1.6448536269514722; // one-sided 95%
    double at1000 = ConfidenceSequence.halfWidthFactor(1000, rho2, 0.05);
    assertThat(at1000 * Math.sqrt(1000)).isGreaterThan(z).isLessThan(2 * z);
    // Four times the units: about half the width (a little more, for the growing log term).
    double ratio = ConfidenceSequence.halfWidthFactor(4000, rho2, 0.05) / at1000;
    assertThat(ratio).isGreaterThan(0.5).isLessThan(0.6);
  }

  @Test
  void pValueIsAlphaExactlyOnTheBound() {
    double rho2 = ConfidenceSequence.rho2(0.025, 500);
    for (long n : new long[] {50, 500, 5000}) {
      double k = ConfidenceSequence.halfWidthFactor(n, rho2, 0.025);
      double sd = 3.7;
      assertThat(ConfidenceSequence.pValueAbove(k * sd, sd, n, rho2))
          .as("n=%d", n)
          .isCloseTo(0.025, within(1e-9));
      assertThat(ConfidenceSequence.pValueAbove(1.01 * k * sd, sd, n, rho2)).isLessThan(0.025);
      assertThat(ConfidenceSequence.pValueAbove(-k * sd, sd, n, rho2)).isEqualTo(1);
    }
  }

  @Test
  void zeroSpreadIsDecidedByTheSignOfTheMean() {
    assertThat(ConfidenceSequence.pValueAbove(0.1, 0, 100, 0.01)).isZero();
    assertThat(ConfidenceSequence.pValueAbove(0, 0, 100, 0.01)).isEqualTo(1);
    assertThat(ConfidenceSequence.pValueAbove(1, 1, 1, 0.01)).isEqualTo(1);
  }
}
