package io.evalfleet.common.task;

import java.util.Locale;

/** Which change of a metric counts as a degradation. */
public enum Direction {
  HIGHER_IS_BETTER,
  LOWER_IS_BETTER,
  /** Any change is drift (descriptive metrics with no better side). */
  TWO_SIDED;

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The relative change in the bad direction: positive means worse. */
  public double badness(double relativeChange) {
    return switch (this) {
      case HIGHER_IS_BETTER -> -relativeChange;
      case LOWER_IS_BETTER -> relativeChange;
      case TWO_SIDED -> Math.abs(relativeChange);
    };
  }
}
