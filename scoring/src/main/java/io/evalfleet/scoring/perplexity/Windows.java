package io.evalfleet.scoring.perplexity;

import java.util.ArrayList;
import java.util.List;

/**
 * Plans the forward passes for a row of {@code n} tokens under a context of {@code maxLen}: one
 * window when the row fits; otherwise the strided sliding window (windows start every {@code
 * stride} tokens, each scores only the tokens the previous one did not, each with up to {@code
 * maxLen - 1} tokens of context). Every token but the first is scored exactly once; rows are never
 * silently truncated.
 */
public final class Windows {
  private Windows() {}

  public static List<Window> plan(int row, int n, int maxLen, int stride) {
    if (n < 2) {
      throw new IllegalArgumentException(
          "row " + row + " has " + n + " token(s): at least 2 are needed to score one");
    }
    if (stride < 1 || stride >= maxLen) {
      throw new IllegalArgumentException(
          "stride must be between 1 and max_seq_len - 1 (" + (maxLen - 1) + "), got " + stride);
    }
    List<Window> windows = new ArrayList<>();
    if (n <= maxLen) {
      windows.add(new Window(row, 0, n, 1));
      return windows;
    }
    int scoredUpTo = 1;
    for (int begin = 0; ; begin += stride) {
      int end = Math.min(begin + maxLen, n);
      windows.add(new Window(row, begin, end, Math.max(scoredUpTo, begin + 1)));
      scoredUpTo = end;
      if (end == n) {
        return windows;
      }
    }
  }
}
