package io.evalfleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.SequentialDecision;
import org.junit.jupiter.api.Test;

class FlagPrinterTest {
  private static DriftFlag flag(SequentialDecision sequential) {
    return DriftFlag.builder()
        .runId("r")
        .model("gpt")
        .version("v2")
        .flag(Flag.RED)
        .sequential(sequential)
        .build();
  }

  @Test
  void aRunThatStoppedEarlySaysWhereAndWhy() {
    String text =
        FlagPrinter.render(
            flag(
                new SequentialDecision(
                    256,
                    2000,
                    1,
                    SequentialDecision.Stop.RED,
                    "perplexity clearly beyond its 2.00% margin")));
    assertThat(text)
        .contains(
            "  sequential: stopped RED after 256 of 2,000 rows, 1 look: perplexity clearly beyond"
                + " its 2.00% margin");
  }

  @Test
  void aRunScoredToTheEndSaysWhyNoLookStoppedIt() {
    String text =
        FlagPrinter.render(
            flag(
                new SequentialDecision(
                    2000, 2000, 3, SequentialDecision.Stop.END, "kl_p99 is gating")));
    assertThat(text).contains("  sequential: every row scored (2,000 of 2,000), 3 looks: kl_p99");
  }

  @Test
  void aFixedSampleFlagHasNoSequentialLine() {
    assertThat(FlagPrinter.render(flag(null))).doesNotContain("sequential:");
  }
}
