package io.evalfleet.scoring.perplexity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class WindowsTest {
  @Test
  void rowThatFitsIsOneWindowScoringEveryTokenButTheFirst() {
    assertThat(Windows.plan(3, 10, 128, 64)).containsExactly(new Window(3, 0, 10, 1));
    assertThat(Windows.plan(0, 128, 128, 64)).containsExactly(new Window(0, 0, 128, 1));
  }

  @Test
  void longRowMatchesTheStridedSlidingWindow() {
    // n = 400, window 128, stride 64: windows begin at 0, 64, ..., 320 (the one that reaches the
    // end).
    List<Window> windows = Windows.plan(0, 400, 128, 64);
    assertThat(windows)
        .containsExactly(
            new Window(0, 0, 128, 1),
            new Window(0, 64, 192, 128),
            new Window(0, 128, 256, 192),
            new Window(0, 192, 320, 256),
            new Window(0, 256, 384, 320),
            new Window(0, 320, 400, 384));
  }

  @Test
  void everyTokenIsScoredExactlyOnceWithContextWithinTheWindow() {
    for (int maxLen : new int[] {2, 3, 8, 128}) {
      for (int stride = 1; stride < maxLen; stride++) {
        for (int n = 2; n < 5 * maxLen; n += 7) {
          int[] scoredTimes = new int[n];
          for (Window w : Windows.plan(0, n, maxLen, stride)) {
            assertThat(w.length()).isLessThanOrEqualTo(maxLen);
            for (int p = w.scoreFrom(); p < w.end(); p++) {
              scoredTimes[p]++;
            }
          }
          assertThat(scoredTimes[0]).isZero();
          for (int p = 1; p < n; p++) {
            assertThat(scoredTimes[p])
                .as("token %d of %d (window %d, stride %d)", p, n, maxLen, stride)
                .isEqualTo(1);
          }
        }
      }
    }
  }

  @Test
  void rejectsRowsTooShortToScoreAndStridesWithoutContext() {
    assertThatThrownBy(() -> Windows.plan(7, 1, 128, 64)).hasMessageContaining("row 7 has 1 token");
    assertThatThrownBy(() -> Windows.plan(0, 300, 128, 128))
        .hasMessageContaining("stride must be between 1 and");
  }

  @Test
  void lengthBatchesKeepPaddingSmallAndRespectTheTokenBudget() {
    List<Window> windows =
        List.of(
            new Window(0, 0, 100, 1),
            new Window(1, 0, 10, 1),
            new Window(2, 0, 98, 1),
            new Window(3, 0, 12, 1),
            new Window(4, 0, 11, 1));
    List<List<Window>> batches = LengthBatches.plan(windows, 8, 256);
    assertThat(batches).hasSize(2);
    assertThat(batches.get(0)).extracting(Window::row).containsExactly(0, 2);
    assertThat(batches.get(1)).extracting(Window::row).containsExactly(3, 4, 1);
    // padding: (100-98) + (12-11) + (12-10) = 5 of 2*100 + 3*12 = 236 slots
    assertThat(LengthBatches.paddingRatio(batches)).isEqualTo(5.0 / 236);
  }
}
