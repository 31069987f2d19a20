package io.evalfleet.common.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TokenSketchTest {

  /** KL-like values: most tokens near 0, a heavy tail over six orders of magnitude. */
  private static double[] values(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = Math.exp(random.nextGaussian() * 2.5 - 6);
    }
    return values;
  }

  @Test
  void quantilesAreWithinTheRelativeAccuracyOfTheExactOrderStatistic() {
    double[] values = values(50_000, 1);
    TokenSketch sketch = TokenSketch.empty();
    Arrays.stream(values).forEach(sketch::add);
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
      double exact = sorted[(int) Math.floor(q * (sorted.length - 1))];
      assertThat(sketch.quantile(q))
          .as("q=%s", q)
          .isCloseTo(exact, within(exact * TokenSketch.RELATIVE_ACCURACY * 1.0001));
    }
    assertThat(sketch.count()).isEqualTo(50_000);
  }

  @Test
  void shardsMergedGiveTheSketchOfAllTokensAndSurviveEncoding() {
    double[] values = values(30_000, 2);
    TokenSketch whole = TokenSketch.empty();
    Arrays.stream(values).forEach(whole::add);
    TokenSketch merged = TokenSketch.empty();
    for (int shard = 0; shard < 3; shard++) {
      TokenSketch part = TokenSketch.empty();
      Arrays.stream(values, shard * 10_000, (shard + 1) * 10_000).forEach(part::add);
      merged.merge(TokenSketch.decode(part.encode()));
    }
    for (double q : new double[] {0.01, 0.5, 0.99}) {
      assertThat(merged.quantile(q)).isEqualTo(whole.quantile(q));
    }
    assertThat(merged.count()).isEqualTo(whole.count());
  }

  @Test
  void countsTokensAtOrBelowALimit() {
    TokenSketch sketch = TokenSketch.empty();
    for (int i = 1; i <= 1000; i++) {
      sketch.add(i / 1000.0);
    }
    sketch.add(0);
    sketch.add(-1e-9); // rounding below 0 counts as 0
    assertThat(sketch.countAtMost(0)).isEqualTo(2);
    // 0.5 ± 0.1% holds the values 0.001 .. 0.5: a value within the accuracy of the limit may fall
    // either way.
    assertThat(sketch.countAtMost(0.5)).isBetween(501L, 503L);
    assertThat(sketch.countAtMost(10)).isEqualTo(1002);
  }

  @Test
  void aModelAgainstItselfHasAZeroPercentile() {
    TokenSketch sketch = TokenSketch.empty();
    for (int i = 0; i < 100; i++) {
      sketch.add(0);
    }
    assertThat(sketch.quantile(0.99)).isZero();
  }

  @Test
  void refusesWhatIsNotASketchAndValuesThatAreNotFinite() {
    assertThatThrownBy(() -> TokenSketch.decode("bm90IGEgc2tldGNo"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an encoded token sketch");
    assertThatThrownBy(() -> TokenSketch.empty().add(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
