package io.evalfleet.cli.demo;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.MetricValue;
import java.util.Locale;

/** Renders a drift flag for people: the verdict, the metric vector as a table, and the reasons. */
public final class FlagPrinter {
  private FlagPrinter() {}

  public static String render(DriftFlag flag) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%n== %s %s  →  %s ==%n", flag.model(),
        flag.version() == null ? "(version unknown)" : flag.version(), flag.flag()));
    out.append(String.format(Locale.ROOT, "event %s, run %s, baseline %s%n", flag.eventId(), flag.runId(),
        flag.baselineVersion() == null ? "none" : flag.baselineVersion()));
    if (!flag.metrics().isEmpty()) {
      out.append(String.format(Locale.ROOT, "  %-12s %10s %10s %10s %9s %6s  %s%n",
          "metric", "value", "baseline", "delta", "rel.", "n", "status"));
      for (var entry : flag.metrics().entrySet()) {
        MetricValue m = entry.getValue();
        out.append(String.format(Locale.ROOT, "  %-12s %10.4f %10s %10s %9s %6d  %s%n", entry.getKey(), m.value(),
            m.baseline() == null ? "-" : String.format(Locale.ROOT, "%.4f", m.baseline()),
            m.delta() == null ? "-" : String.format(Locale.ROOT, "%+.4f", m.delta()),
            m.relativeDelta() == null ? "-" : String.format(Locale.ROOT, "%+.2f%%", 100 * m.relativeDelta()),
            m.n(), m.status() == null ? "-" : m.status()));
      }
    }
    for (String reason : flag.reasons()) {
      out.append("  - ").append(reason).append(System.lineSeparator());
    }
    if (flag.coverage() != null) {
      out.append(String.format(Locale.ROOT, "  coverage %d/%d shards, %d/%d rows; providers %s; %s ms%n",
          flag.coverage().shardsDone(), flag.coverage().shardsTotal(), flag.coverage().rowsScored(),
          flag.coverage().rowsTotal(), flag.executionProviders(), flag.durationMs()));
    }
    return out.toString();
  }
}
