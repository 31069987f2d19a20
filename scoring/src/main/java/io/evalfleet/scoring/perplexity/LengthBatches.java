package io.evalfleet.scoring.perplexity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Groups windows of similar length into batches so that padding stays small: windows are sorted by
 * length and cut into batches of at most {@code maxBatch} windows and at most {@code maxTokens}
 * token slots (batch size times its longest window).
 */
public final class LengthBatches {
  private LengthBatches() {}

  public static List<List<Window>> plan(List<Window> windows, int maxBatch, int maxTokens) {
    List<Window> sorted = new ArrayList<>(windows);
    sorted.sort(Comparator.comparingInt(Window::length).reversed().thenComparingInt(Window::row));
    List<List<Window>> batches = new ArrayList<>();
    List<Window> current = new ArrayList<>();
    int longest = 0;
    for (Window window : sorted) {
      int newLongest = Math.max(longest, window.length());
      if (!current.isEmpty()
          && (current.size() >= maxBatch || newLongest * (current.size() + 1) > maxTokens)) {
        batches.add(current);
        current = new ArrayList<>();
        newLongest = window.length();
      }
      current.add(window);
      longest = newLongest;
    }
    if (!current.isEmpty()) {
      batches.add(current);
    }
    return batches;
  }

  /** Padding slots over all token slots when every batch is padded to its longest window. */
  public static double paddingRatio(List<List<Window>> batches) {
    long slots = 0;
    long padding = 0;
    for (List<Window> batch : batches) {
      int longest = batch.stream().mapToInt(Window::length).max().orElse(0);
      for (Window window : batch) {
        slots += longest;
        padding += longest - window.length();
      }
    }
    return slots == 0 ? 0 : (double) padding / slots;
  }
}
