package io.evalfleet.scoring.perplexity;

/**
 * One forward pass over tokens {@code begin .. end - 1} of row {@code row}, scoring the prediction
 * of every token at position {@code p} with {@code scoreFrom <= p < end} from the tokens before it
 * in the window.
 */
public record Window(int row, int begin, int end, int scoreFrom) {
  public Window {
    if (begin < 0 || end <= begin || scoreFrom <= begin || scoreFrom > end) {
      throw new IllegalArgumentException(
          "bad window: row " + row + " [" + begin + ", " + end + ") scoring from " + scoreFrom);
    }
  }

  public int length() {
    return end - begin;
  }

  public int scored() {
    return end - scoreFrom;
  }
}
