package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.Direction;
import org.junit.jupiter.api.Test;

class EvidenceTest {
  static final SignificanceTest YES = new SignificanceTest(0.0005, 0.0005, true);
  static final SignificanceTest NO = new SignificanceTest(0.6, 0.6, false);
  static final SampleSize ROWS = new SampleSize(240, null, null);

  @Test
  void aSmallChangeHasTheTwoDecimalsOfTheReviewTable() {
    // spearman 0.85 → 0.849575: −0.05%, which one decimal would show as "0.0% worse"
    String sentence =
        Evidence.sentence(
            "spearman",
            Flag.GREEN,
            true,
            Direction.HIGHER_IS_BETTER,
            0.02,
            0.85,
            0.849575,
            -0.0005,
            new Interval(-0.003, 0.002, 0.95),
            NO,
            YES,
            ROWS,
            2000,
            7,
            Correction.HOLM,
            0.05,
            false);
    assertThat(sentence)
        .startsWith(
            "spearman GREEN: 0.05% worse than baseline 0.8500 → 0.8496 (95% CI 0.20% better"
                + " to 0.30% worse, n=240 rows, paired bootstrap 2000×, seed 7); margin 2.00%: the whole interval lies within"
                + " the margin; non-inferiority is significant (Holm-adjusted p=0.0005, α=0.05)");
  }

  @Test
  void aTwoSidedReportedMetricChangesByASignedAmountAndIsNeverADegradation() {
    String sentence =
        Evidence.sentence(
            "mean_cosine",
            Flag.RED,
            false,
            Direction.TWO_SIDED,
            0.05,
            0.6,
            0.828,
            0.38,
            new Interval(0.351, 0.409, 0.95),
            YES,
            NO,
            ROWS,
            2000,
            7,
            Correction.HOLM,
            0.05,
            false);
    assertThat(sentence)
        .isEqualTo(
            "mean_cosine RED (reported, not gating): changed by +38.00% from baseline 0.6000"
                + " → 0.8280 (95% CI +35.10% to +40.90%, n=240 rows, paired bootstrap 2000×, seed 7); margin 5.00% either way:"
                + " the whole interval lies beyond the margin; a change beyond the margin either way is significant"
                + " (p=0.0005, α=0.05)");
    assertThat(sentence).doesNotContain("degradation", "worse", "higher than");
  }

  @Test
  void aTwoSidedMetricThatIsNeitherSaysSoWithoutDegradation() {
    String sentence =
        Evidence.sentence(
            "mean_cosine",
            Flag.WARN,
            true,
            Direction.TWO_SIDED,
            0.05,
            0.6,
            0.57,
            -0.05,
            new Interval(-0.08, -0.02, 0.95),
            NO,
            NO,
            ROWS,
            2000,
            7,
            Correction.NONE,
            0.05,
            false);
    assertThat(sentence)
        .contains(
            "changed by -5.00% from baseline",
            "inconclusive: neither a change beyond the margin"
                + " (p=0.6000) nor staying within it (p=0.6000) is significant at α=0.05")
        .doesNotContain("degradation");
  }
}
