package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.task.Direction;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

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
 * @param gateFor the kinds of change for which a gating metric gates (for the others it is reported
 *     only); null for every kind. In the policy file, {@code "gate": ["quantization", "export",
 *     "runtime"]}
 * @throws InvalidPolicyException when the direction is missing, the margin is negative or not
 *     finite, a limit is not finite or is set on a two-sided metric, or {@code gateFor} is empty or
 *     set on a metric that does not gate
 */
public record MetricPolicy(
    Direction direction, double margin, boolean gate, Double limit, Set<ChangeKind> gateFor) {

  public MetricPolicy {
    List<String> problems = new ArrayList<>();
    if (direction == null) {
      problems.add("direction is missing");
    }
    problems.addAll(marginProblems("margin", margin));
    problems.addAll(limitProblems("limit", limit, direction));
    if (gateFor != null && (gateFor.isEmpty() || !gate)) {
      problems.add("gate must list at least one change kind, or be true or false; was " + gateFor);
    }
    if (!problems.isEmpty()) {
      throw new InvalidPolicyException("metric policy", problems);
    }
    gateFor = gateFor == null ? null : Collections.unmodifiableSet(EnumSet.copyOf(gateFor));
  }

  /** A metric that gates for every kind of change, or for none. */
  public MetricPolicy(Direction direction, double margin, boolean gate, Double limit) {
    this(direction, margin, gate, limit, null);
  }

  /** A metric compared with its baseline's value. */
  public MetricPolicy(Direction direction, double margin, boolean gate) {
    this(direction, margin, gate, null);
  }

  /** A metric judged against an absolute limit. */
  public static MetricPolicy limited(Direction direction, double limit, boolean gate) {
    return new MetricPolicy(direction, 0, gate, limit);
  }

  /** The same rule gating only for the kinds of change in {@code kinds}. */
  public MetricPolicy gatingFor(Set<ChangeKind> kinds) {
    return new MetricPolicy(direction, margin, true, limit, kinds);
  }

  /**
   * Whether the metric gates for a change of {@code kind}; a null kind (not known) gates as for any
   * kind the metric gates for.
   */
  public boolean gates(ChangeKind kind) {
    return gate && (gateFor == null || kind == null || gateFor.contains(kind));
  }

  /** The kinds it gates for, as they are named in the policy file: {@code quantization, export}. */
  public String gateForNames() {
    return gateFor == null
        ? String.join(", ", ChangeKind.wireNames())
        : gateFor.stream().map(ChangeKind::wireName).collect(Collectors.joining(", "));
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
