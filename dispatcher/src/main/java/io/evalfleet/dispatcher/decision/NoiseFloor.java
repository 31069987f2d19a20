package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.archive.NoiseFloorRecord.MetricSpread;
import io.evalfleet.common.contract.ScoringEnvelope;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a model's measured A/A noise floor and the scoring envelopes of a candidate and its baseline
 * say about their comparison, under the policy's {@code noise_floor} section:
 *
 * <ul>
 *   <li>when the two were scored under different envelopes (provider, ONNX Runtime, batch shape,
 *       threads, deterministic compute, machine), a reason naming each difference;
 *   <li>with a floor archived for the model on that profile: {@code widen} widens each metric's
 *       test by its floor (see {@link Decider#widenedBy}), {@code refuse} makes the flag WARN;
 *   <li>with a floor, whatever the envelopes, a policy warning for each metric whose margin (or
 *       limit) is below its floor: its gate cannot tell noise from change.
 * </ul>
 *
 * Pure and thread-safe.
 */
public final class NoiseFloor {
  private NoiseFloor() {}

  /**
   * What the floor does to one comparison.
   *
   * @param reasons what the flag's reasons gain, in order
   * @param widening per metric, the relative floor its test is widened by (empty: not widened)
   * @param refused whether the policy refuses the comparison (the flag becomes WARN)
   */
  public record Assessment(List<String> reasons, Map<String, Double> widening, boolean refused) {
    public Assessment {
      reasons = List.copyOf(reasons);
      widening = Map.copyOf(widening);
    }
  }

  /**
   * What the envelopes differ in, each {@code <what> <candidate> vs <baseline>}: the union over
   * every pair of a candidate's and a baseline's envelope. Empty when either side reported none.
   */
  public static List<String> differences(
      List<ScoringEnvelope> candidate, List<ScoringEnvelope> baseline) {
    Set<String> differences = new LinkedHashSet<>();
    for (ScoringEnvelope c : candidate) {
      for (ScoringEnvelope b : baseline) {
        differences.addAll(c.differences(b));
      }
    }
    return List.copyOf(differences);
  }

  /**
   * @param baselineVersion the version compared with, for the reasons
   * @param floor the noise floor archived for the model on the candidate's (or baseline's) profile,
   *     or null
   */
  public static Assessment assess(
      Policy policy,
      String baselineVersion,
      List<ScoringEnvelope> candidate,
      List<ScoringEnvelope> baseline,
      NoiseFloorRecord floor) {
    List<String> reasons = new ArrayList<>();
    Map<String, Double> widening = new LinkedHashMap<>();
    boolean refused = false;
    List<String> differences = differences(candidate, baseline);
    if (!differences.isEmpty()) {
      reasons.add(
          "candidate and baseline version "
              + baselineVersion
              + " were scored under different envelopes ("
              + String.join("; ", differences)
              + "; candidate vs baseline): their scores can differ with the same weights");
      if (floor == null) {
        reasons.add(
            "no noise floor is archived for this model on profile "
                + profiles(candidate)
                + " (`evalfleet noise-floor` measures it): the comparison is made as if the envelopes"
                + " were the same");
      } else if (policy.noiseFloor().acrossEnvelopes() == NoiseFloorPolicy.AcrossEnvelopes.REFUSE) {
        refused = true;
        reasons.add(
            "noise floor policy refuse: across envelopes, with a noise floor measured on profile "
                + floor.profile()
                + ", the comparison is not trusted; WARN");
      } else {
        List<String> widened = new ArrayList<>();
        for (var rule : policy.metrics().entrySet()) {
          Double relative = relativeFloor(floor, rule.getKey());
          if (!rule.getValue().hasLimit() && relative != null && relative > 0) {
            widening.put(rule.getKey(), relative);
            widened.add(rule.getKey() + " by " + number(relative));
          }
        }
        if (!widened.isEmpty()) {
          reasons.add(
              "noise floor policy widen: each test is widened by the relative noise floor measured"
                  + " on profile "
                  + floor.profile()
                  + " ("
                  + String.join(", ", widened)
                  + "): RED needs a change beyond margin + floor, GREEN one within margin − floor");
        }
      }
    }
    if (floor != null) {
      reasons.addAll(marginWarnings(policy, floor));
    }
    return new Assessment(reasons, widening, refused);
  }

  /**
   * For each metric of the policy whose margin (relative) or limit (absolute) is below its measured
   * floor, a warning that its gate cannot tell noise from change.
   */
  public static List<String> marginWarnings(Policy policy, NoiseFloorRecord floor) {
    List<String> warnings = new ArrayList<>();
    for (var rule : policy.metrics().entrySet()) {
      String metric = rule.getKey();
      MetricSpread spread = floor.metrics().get(metric);
      if (spread == null) {
        continue;
      }
      MetricPolicy p = rule.getValue();
      if (p.hasLimit()) {
        if (Math.abs(p.limit()) < spread.spread()) {
          warnings.add(
              policyWarning(
                  "limit " + number(p.limit()), metric, number(spread.spread()), floor.profile()));
        }
      } else if (spread.relativeSpread() != null && p.margin() < spread.relativeSpread()) {
        warnings.add(
            policyWarning(
                "margin " + number(p.margin()),
                metric,
                number(spread.relativeSpread()),
                floor.profile()));
      }
    }
    return warnings;
  }

  private static String policyWarning(String bound, String metric, String floor, String profile) {
    return "policy warning: "
        + bound
        + " of "
        + metric
        + " is below the measured noise floor "
        + floor
        + " on profile "
        + profile
        + ": the gate cannot tell noise from change";
  }

  private static Double relativeFloor(NoiseFloorRecord floor, String metric) {
    MetricSpread spread = floor.metrics().get(metric);
    return spread == null ? null : spread.relativeSpread();
  }

  private static String profiles(List<ScoringEnvelope> envelopes) {
    return String.join(
        ", ", envelopes.stream().map(ScoringEnvelope::profile).distinct().sorted().toList());
  }

  /** Three significant digits, no trailing zeros: 0.02, 0.000412, 1.5e-06 as 0.0000015. */
  static String number(double value) {
    return new BigDecimal(value).round(new MathContext(3)).stripTrailingZeros().toPlainString();
  }
}
