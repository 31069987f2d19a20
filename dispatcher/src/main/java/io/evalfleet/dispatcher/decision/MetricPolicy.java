package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.Direction;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How one metric is judged.
 *
 * @param direction which change counts as worse
 * @param margin the non-inferiority margin, as a relative change in the bad direction (0.02 = 2% worse)
 * @param gate whether the metric can set the flag; a non-gating metric is reported only
 * @throws InvalidPolicyException when the direction is missing or the margin is negative or not finite
 */
public record MetricPolicy(Direction direction, double margin, boolean gate) {

  public MetricPolicy {
    List<String> problems = new ArrayList<>();
    if (direction == null) {
      problems.add("direction is missing");
    }
    problems.addAll(marginProblems("margin", margin));
    if (!problems.isEmpty()) {
      throw new InvalidPolicyException("metric policy", problems);
    }
  }

  /** The problem with a margin, naming {@code field}; empty when it is fine or null (missing is reported elsewhere). */
  static List<String> marginProblems(String field, Double margin) {
    if (margin != null && !(margin >= 0 && Double.isFinite(margin))) {
      return List.of(String.format(Locale.ROOT, "%s must be a finite number >= 0, was %s", field, margin));
    }
    return List.of();
  }
}
