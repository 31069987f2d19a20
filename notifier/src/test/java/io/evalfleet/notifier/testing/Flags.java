package io.evalfleet.notifier.testing;

import io.evalfleet.common.contract.Coverage;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.ReviewRef;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Drift flags for tests of what reviews show. */
public final class Flags {
  private Flags() {}

  public static DriftFlag flag(String model, String version, Flag flag, ReviewRef review) {
    MetricValue spearman =
        MetricValue.builder()
            .value(0.81)
            .n(240)
            .direction("higher_is_better")
            .baseline(0.85)
            .delta(-0.04)
            .relativeDelta(-0.047)
            .ciLow(-0.06)
            .ciHigh(-0.03)
            .ciConfidence(0.95)
            .margin(0.02)
            .gating(true)
            .pValue(0.001)
            .status(flag)
            .evidence("spearman " + flag + ": 4.7% worse than baseline 0.85 → 0.81")
            .build();
    return DriftFlag.builder()
        .runId("run-" + model + "-" + version)
        .eventId("ev-" + model + "-" + version)
        .model(model)
        .version(version)
        .baselineVersion("v0")
        .flag(flag)
        .metrics(Map.of("spearman", spearman))
        .reasons(List.of("spearman " + flag + ": 4.7% worse", "decided by policy 1"))
        .coverage(new Coverage(3, 3, 240, 240))
        .executionProviders(List.of("cpu"))
        .stagedAt(Instant.parse("2026-12-01T10:00:00Z"))
        .decidedAt(Instant.parse("2026-12-01T10:00:05Z"))
        .durationMs(5000L)
        .policyVersion("1")
        .review(review)
        .build();
  }
}
