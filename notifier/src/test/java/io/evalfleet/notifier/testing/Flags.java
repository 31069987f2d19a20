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
    MetricValue spearman = new MetricValue(0.81, 240, "higher_is_better", 0.85, -0.04, -0.047, -0.06, -0.03, 0.95,
        0.02, true, 0.001, null, null, flag, "spearman " + flag + ": 4.7% worse than baseline 0.85 → 0.81");
    return new DriftFlag(1, "run-" + model + "-" + version, "ev-" + model + "-" + version, model, version, "v0", flag,
        Map.of("spearman", spearman), List.of("spearman " + flag + ": 4.7% worse", "decided by policy 1"),
        new Coverage(3, 3, 240, 240), List.of("cpu"), Instant.parse("2026-12-01T10:00:00Z"),
        Instant.parse("2026-12-01T10:00:05Z"), 5000L, "1", null, review);
  }
}
