package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.Flag;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decision on a candidate against its baseline.
 *
 * @param flag the worst status among the gating metrics; WARN when no gating metric could be
 *     compared
 * @param policyVersion the policy that decided it
 * @param metrics the decision per metric, in policy order
 * @param reasons the evidence in words: each metric's sentence and band sentence, then any notes
 * @param resamples bootstrap resamples drawn
 * @param seed their seed; with the same rows and policy it reproduces this report exactly
 */
public record DecisionReport(
    Flag flag,
    String policyVersion,
    Map<String, MetricDecision> metrics,
    List<String> reasons,
    int resamples,
    long seed) {

  public DecisionReport {
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    reasons = List.copyOf(reasons);
  }
}
