package io.evalfleet.monitor.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MmdPermutationTestTest {
  static final int DIMENSIONS = 16;
  static final int WINDOW = 60;

  /**
   * A window of unit-variance Gaussian points, the first {@code shifted} coordinates moved by
   * {@code shift}.
   */
  static double[][] window(SplittableRandom random, double shift, int shifted) {
    double[][] points = new double[WINDOW][DIMENSIONS];
    for (double[] point : points) {
      for (int d = 0; d < DIMENSIONS; d++) {
        point[d] = gaussian(random) + (d < shifted ? shift : 0);
      }
    }
    return points;
  }

  static double gaussian(SplittableRandom random) {
    // Box–Muller, so that the draws depend on the seed alone.
    return Math.sqrt(-2 * Math.log(1 - random.nextDouble()))
        * Math.cos(2 * Math.PI * random.nextDouble());
  }

  @Test
  void theUnbiasedStatisticHasItsKnownValueOnATinyExample() {
    // Kernel values given directly: within x 0.5, within y 0.7, across 0.2 → 0.5 + 0.7 − 2·0.2 =
    // 0.8.
    double[][] kernel = {
      {1, 0.5, 0.2, 0.2},
      {0.5, 1, 0.2, 0.2},
      {0.2, 0.2, 1, 0.7},
      {0.2, 0.2, 0.7, 1}
    };
    assertThat(MmdPermutationTest.mmd2(kernel, new int[] {0, 1, 2, 3}, 2))
        .isCloseTo(0.8, within(1e-12));
  }

  @Test
  void withoutDriftItAlarmsAtMostAtTheConfiguredRate() {
    SplittableRandom random = new SplittableRandom(1);
    MmdPermutationTest test = new MmdPermutationTest(199, 5);
    int windows = 300;
    int alarms = 0;
    for (int w = 0; w < windows; w++) {
      if (test.test(window(random, 0, 0), window(random, 0, 0)).drifted(0.05)) {
        alarms++;
      }
    }
    double rate = (double) alarms / windows;
    System.out.printf(
        "false alarms without drift: %d of %d windows (%.3f at alpha 0.05)%n",
        alarms, windows, rate);
    // Binomial(300, 0.05): mean 15, sd 3.8; the permutation p-value is exact, so the rate sits near
    // alpha.
    assertThat(rate).isBetween(0.01, 0.05 + 3 * Math.sqrt(0.05 * 0.95 / windows));
  }

  @Test
  void aShiftOfHalfAStandardDeviationInAQuarterOfTheDimensionsIsCaught() {
    SplittableRandom random = new SplittableRandom(2);
    MmdPermutationTest test = new MmdPermutationTest(199, 5);
    int windows = 50;
    int caught = 0;
    for (int w = 0; w < windows; w++) {
      if (test.test(window(random, 0, 0), window(random, 0.5, DIMENSIONS / 4)).drifted(0.05)) {
        caught++;
      }
    }
    System.out.printf("drift caught: %d of %d windows%n", caught, windows);
    assertThat(caught).isGreaterThanOrEqualTo(45);
  }
}
