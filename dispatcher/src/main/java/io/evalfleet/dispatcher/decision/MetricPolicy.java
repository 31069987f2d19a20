package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.Direction;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How one metric is judged: against the baseline's value with a relative margin, or, for a metric
 * that is itself a comparison with the baseline (the token shift's KL and top-1 agreement), against
 * an absolute limit.
 *
 * @param direction which change counts as worse
 * @param margin the non-inferiority margin, as a relative change in the bad direction (0.02 = 2%
 *     worse); 0 for a metric judged against a limit
 * @param gate whether the metric can set the flag; a non-gating metric is reported only
 * @param limit the value the metric must not pass in its bad direction (e.g. at most 0.05 nats of
 *     mean KL), or null for a metric compared with its baseline
 * @throws InvalidPolicyException when the direction is missing, the margin is negative or not
 *     finite, or a limit is not finite or is set on a two-sided metric
 */
public record MetricPolicy(Direction direction, double margin, boolean gate, Double limit) {

  public MetricPolicy {
    List<String> problems = new ArrayList<>();
    if (direction == null) {
      problems.add("direction is missing");
    }
    problems.addAll(marginProblems("margin", margin));
    problems.addAll(limitProblems("limit", limit, direction));
    if (!problems.isEmpty()) {
      throw new InvalidPolicyException("metric policy", problems);
    }
  }

  /** A metric compared with its baseline's value. */
  public MetricPolicy(Direction direction, double margin, boolean gate) {
    this(direction, margin, gate, null);
  }

  /** A metric judged against an absolute limit. */
  public static MetricPolicy limited(Direction direction, double limit, boolean gate) {
    return new MetricPolicy(direction, 0, gate, limit);
  }

  /** Whether the metric is judged against an absolute limit rather than its baseline. */
  public boolean hasLimit() {
    return limit != null;
  }

  /** How far {@code value} lies beyond the limit in the bad direction (positive: beyond it). */
  public double beyondLimit(double value) {
    return direction == Direction.HIGHER_IS_BETTER ? limit - value : value - limit;
  }

  /**
   * The problem with a margin, naming {@code field}; empty when it is fine or null (missing is
   * reported elsewhere).
   */
  static List<String> marginProblems(String field, Double margin) {
    if (margin != null && !(margin >= 0 && Double.isFinite(margin))) {
      return List.of(
          String.format(Locale.ROOT, "%s must be a finite number >= 0, was %s", field, margin));
    }
    return List.of();
  }

  /** The problem with a limit, naming {@code field}; empty when it is fine or null. */
  static List<String> limitProblems(String field, Double limit, Direction direction) {
    if (limit == null) {
      return List.of();
    }
    if (!Double.isFinite(limit)) {
      return List.of(
          String.format(Locale.ROOT, "%s must be a finite number, was %s", field, limit));
    }
    if (direction == Direction.TWO_SIDED) {
      return List.of(
          field + " needs a direction (higher_is_better or lower_is_better), not two_sided");
    }
    return List.of();
  }
}
