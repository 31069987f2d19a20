package io.evalfleet.notifier.review;

import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.Objects;

/**
 * One number format for a whole table column, chosen from the values it holds so that every value
 * shows and all line up: fixed-point with four decimals, more decimals when the smallest non-zero
 * value needs them to show three significant digits (5.679e-05 beside 0.85 gives 0.0000568 and
 * 0.8500000), and scientific notation for the whole column when a value reaches 1e5 or would need
 * more than {@link #MAX_DECIMALS} decimals. Missing and non-finite values show as "–", "NaN" or
 * "∞". Immutable.
 */
public final class NumberColumn {
  static final int MIN_DECIMALS = 4;
  static final int MAX_DECIMALS = 8;
  private static final int SIGNIFICANT = 3;

  private final String pattern;

  private NumberColumn(String pattern) {
    this.pattern = pattern;
  }

  /**
   * The format for a column of these values (nulls and non-finite values are ignored for the
   * choice).
   */
  public static NumberColumn of(Collection<Double> values, boolean signed) {
    double smallest = Double.POSITIVE_INFINITY;
    double largest = 0;
    for (Double value : values.stream().filter(Objects::nonNull).toList()) {
      double magnitude = Math.abs(value);
      if (Double.isFinite(magnitude) && magnitude != 0) {
        smallest = Math.min(smallest, magnitude);
        largest = Math.max(largest, magnitude);
      }
    }
    String sign = signed ? "+" : "";
    if (largest >= 1e5) {
      return new NumberColumn("%" + sign + ".3e");
    }
    int decimals = MIN_DECIMALS;
    if (smallest < 1) {
      decimals = Math.max(decimals, (int) Math.ceil(-Math.log10(smallest)) + SIGNIFICANT - 1);
    }
    return decimals > MAX_DECIMALS
        ? new NumberColumn("%" + sign + ".3e")
        : new NumberColumn("%" + sign + "." + decimals + "f");
  }

  public static NumberColumn of(double... values) {
    return of(Arrays.stream(values).boxed().toList(), false);
  }

  public String format(Double value) {
    if (value == null) {
      return "–";
    }
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "∞" : "−∞";
    }
    return String.format(Locale.ROOT, pattern, value);
  }

  @Override
  public String toString() {
    return pattern;
  }
}
