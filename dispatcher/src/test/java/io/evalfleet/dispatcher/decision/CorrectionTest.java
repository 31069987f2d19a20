package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CorrectionTest {
  /** Unsorted on purpose: adjusted values must come back in the order given. */
  private static final double[] P = {0.03, 0.01, 0.2, 0.015};

  private static final double ALPHA = 0.05;

  @Test
  void holmStepsDownAndRejectsTwo() {
    // sorted 0.01·4 = 0.04, 0.015·3 = 0.045, 0.03·2 = 0.06 (stop), 0.2·1 → max(0.06, 0.2)
    double[] adjusted = Correction.HOLM.adjust(P);
    assertThat(adjusted).containsExactly(new double[] {0.06, 0.04, 0.2, 0.045}, within(1e-12));
    assertThat(rejected(adjusted)).isEqualTo(2);
  }

  @Test
  void bonferroniRejectsOnlyTheSmallest() {
    double[] adjusted = Correction.BONFERRONI.adjust(P);
    assertThat(adjusted).containsExactly(new double[] {0.12, 0.04, 0.8, 0.06}, within(1e-12));
    assertThat(rejected(adjusted)).isEqualTo(1);
  }

  @Test
  void noCorrectionRejectsThree() {
    assertThat(Correction.NONE.adjust(P)).containsExactly(P);
    assertThat(rejected(Correction.NONE.adjust(P))).isEqualTo(3);
  }

  @Test
  void holmKeepsEverythingAfterTheFirstKeptHypothesis() {
    // 0.04·2 = 0.08 is kept, so 0.045 must be kept too although 0.045·1 ≤ α
    double[] adjusted = Correction.HOLM.adjust(new double[] {0.045, 0.04});
    assertThat(adjusted).containsExactly(new double[] {0.08, 0.08}, within(1e-12));
    assertThat(rejected(adjusted)).isZero();
  }

  @Test
  void adjustedValuesNeverExceedOne() {
    assertThat(Correction.BONFERRONI.adjust(new double[] {0.6, 0.7})).containsExactly(1.0, 1.0);
    assertThat(Correction.HOLM.adjust(new double[] {0.6, 0.7})).containsExactly(1.0, 1.0);
  }

  @Test
  void intervalsWidenWithTheNumberOfGates() {
    assertThat(Correction.HOLM.intervalConfidence(0.05, 2)).isCloseTo(0.975, within(1e-12));
    assertThat(Correction.BONFERRONI.intervalConfidence(0.05, 4)).isCloseTo(0.9875, within(1e-12));
    assertThat(Correction.NONE.intervalConfidence(0.05, 4)).isCloseTo(0.95, within(1e-12));
  }

  private static long rejected(double[] adjusted) {
    return Arrays.stream(adjusted).filter(p -> p <= ALPHA).count();
  }
}
