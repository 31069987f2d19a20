package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's flag with its metric vector and reasons, as {@link Decider} decided it.
 *
 * @param metrics each metric's value with its comparison, by name
 * @param reasons the evidence in words
 */
public record Verdict(Flag flag, Map<String, MetricValue> metrics, List<String> reasons) {
  public Verdict {
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    reasons = List.copyOf(reasons);
  }
}
