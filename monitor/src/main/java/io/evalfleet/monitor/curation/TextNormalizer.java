package io.evalfleet.monitor.curation;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The form in which two texts count as the same for deduplication: Unicode NFKC (full-width and
 * compatibility forms folded), lower case, runs of whitespace made one space, and punctuation and
 * space at either end removed. "Reset my password!" and " reset MY password" are the same text.
 */
public final class TextNormalizer {
  private static final Pattern SPACE = Pattern.compile("\\s+", Pattern.UNICODE_CHARACTER_CLASS);
  private static final Pattern ENDS =
      Pattern.compile("^[\\p{Punct}\\s]+|[\\p{Punct}\\s]+$", Pattern.UNICODE_CHARACTER_CLASS);

  private TextNormalizer() {}

  public static String normalize(String text) {
    String folded = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
    return ENDS.matcher(SPACE.matcher(folded).replaceAll(" ")).replaceAll("");
  }
}
