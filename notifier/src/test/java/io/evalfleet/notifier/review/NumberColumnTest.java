package io.evalfleet.notifier.review;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class NumberColumnTest {
  @Test
  void ordinaryValuesKeepFourDecimals() {
    NumberColumn column = NumberColumn.of(0.85, 0.8123, 9.916);
    assertThat(List.of(column.format(0.85), column.format(9.916)))
        .containsExactly("0.8500", "9.9160");
  }

  @Test
  void aTinyValueWidensTheWholeColumnInsteadOfSwitchingToScientificAlone() {
    NumberColumn column = NumberColumn.of(0.85, 5.679e-05);
    assertThat(column.format(5.679e-05)).isEqualTo("0.0000568");
    assertThat(column.format(0.85)).isEqualTo("0.8500000");
    assertThat(column.format(5.679e-05)).doesNotContain("e");
  }

  @Test
  void aValueThatFixedPointCannotShowMakesTheWholeColumnScientific() {
    NumberColumn column = NumberColumn.of(0.85, 3e-12);
    assertThat(column.format(0.85)).isEqualTo("8.500e-01");
    assertThat(column.format(3e-12)).isEqualTo("3.000e-12");
    assertThat(NumberColumn.of(386.3, 250_000).format(386.3)).isEqualTo("3.863e+02");
  }

  @Test
  void signedColumnsMissingAndZeroValues() {
    NumberColumn column = NumberColumn.of(Arrays.asList(0.0, null, -0.4, 0.0012), true);
    assertThat(column.format(-0.4)).isEqualTo("-0.40000");
    assertThat(column.format(0.0012)).isEqualTo("+0.00120");
    assertThat(column.format(null)).isEqualTo("–");
    assertThat(column.format(0.0)).isEqualTo("+0.00000");
  }
}
