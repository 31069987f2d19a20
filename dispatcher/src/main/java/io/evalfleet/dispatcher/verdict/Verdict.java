package io.evalfleet.dispatcher.verdict;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.Decider;
import io.evalfleet.dispatcher.decision.DecisionReport;
import io.evalfleet.dispatcher.decision.MetricDecision;
import io.evalfleet.dispatcher.decision.Policy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a run's metric vector into a flag under the policy: against the baseline's rows with the
 * paired decision of {@link Decider}, or WARN when there is nothing to compare with. Metrics that
 * are not comparable (perplexity under another tokenizer) are reported but decide nothing.
 */
public final class Verdict {
  private final Policy policy;
  private final Decider decider;

  public Verdict(Policy policy) {
    this.policy = policy;
    this.decider = new Decider(policy);
  }

  public Policy policy() {
    return policy;
  }

  public record Outcome(Flag flag, Map<String, MetricValue> metrics, List<String> reasons) {}

  /** The verdict without a baseline: WARN, since nothing could be compared. */
  public Outcome withoutBaseline(MetricVector vector, String why) {
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    vector.metrics().forEach((name, value) -> metrics.put(name, MetricValue.alone(value, vector.rows(), direction(name))));
    return new Outcome(Flag.WARN, metrics, List.of(why));
  }

  /**
   * @param history per metric, its values in the model's production snapshots, oldest first
   * @param notComparable metrics that must not be compared with the baseline, with why
   * @throws IllegalArgumentException when the runs' rows do not pair up
   */
  public Outcome compare(MetricVector vector, BaselineRecord baseline, Map<String, List<Double>> history,
      Map<String, String> notComparable) {
    DecisionReport report = decider.decide(baseline.rowValues(), vector.rowValues(), history);
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    List<String> reasons = new ArrayList<>();
    Set<String> said = new HashSet<>();
    Flag flag = Flag.GREEN;
    boolean gated = false;
    for (MetricDecision decision : report.metrics().values()) {
      String name = decision.metric();
      said.add(decision.sentence());
      said.add(decision.bandSentence());
      String why = notComparable.get(name);
      if (why != null) {
        metrics.put(name, MetricValue.alone(decision.candidateValue(), vector.rows(), decision.direction().wireName()));
        reasons.add(name + " not compared: " + why);
        continue;
      }
      metrics.put(name, value(decision, vector.rows()));
      reasons.add(decision.sentence());
      if (decision.bandSentence() != null) {
        reasons.add(decision.bandSentence());
      }
      if (decision.gating()) {
        gated = true;
        flag = worst(flag, decision.status());
      }
    }
    vector.metrics().forEach((name, value) -> metrics.putIfAbsent(name, MetricValue.alone(value, vector.rows(), direction(name))));
    report.reasons().stream().filter(r -> !said.contains(r)).forEach(reasons::add);
    if (!gated) {
      flag = Flag.WARN;
      reasons.add("no gating metric of policy " + policy.policyVersion() + " could be compared with baseline version "
          + baseline.version() + "; nothing decided the flag");
    }
    reasons.add(String.format(Locale.ROOT, "decided by policy %s against baseline version %s: paired bootstrap over the"
        + " same %d golden rows (%d resamples, seed %d), %s correction across the gating metrics at %.0f%% family"
        + " confidence", policy.policyVersion(), baseline.version(), vector.rows(), report.resamples(), report.seed(),
        policy.correction().name().toLowerCase(Locale.ROOT), 100 * policy.familyConfidence()));
    return new Outcome(flag, metrics, reasons);
  }

  private static MetricValue value(MetricDecision d, long rows) {
    double p = d.status() == Flag.RED ? d.degraded().adjustedPValue() : d.nonInferior().adjustedPValue();
    return new MetricValue(d.candidateValue(), rows, d.direction().wireName(), d.baselineValue(),
        d.candidateValue() - d.baselineValue(), d.estimate(), d.interval().low(), d.interval().high(),
        d.interval().confidence(), d.margin(), d.gating(), p, d.band() == null ? null : d.band().low(),
        d.band() == null ? null : d.band().high(), d.status(), d.sentence());
  }

  private String direction(String metric) {
    var rule = policy.metrics().get(metric);
    return (rule != null ? rule.direction() : MetricVector.direction(metric)).wireName();
  }

  static Flag worst(Flag a, Flag b) {
    return a.ordinal() >= b.ordinal() ? a : b;
  }
}
