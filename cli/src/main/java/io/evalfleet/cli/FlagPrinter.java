package io.evalfleet.cli;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.SequentialDecision;
import java.math.BigDecimal;
import java.util.Locale;

/** Renders a drift flag for people: the verdict, the metric vector as a table, and the reasons. */
public final class FlagPrinter {
  private FlagPrinter() {}

  public static String render(DriftFlag flag) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "%n== %s %s  →  %s ==%n",
            flag.model(),
            flag.version() == null ? "(version unknown)" : flag.version(),
            flag.flag()));
    out.append(
        String.format(
            Locale.ROOT,
            "event %s, run %s, baseline %s%n",
            flag.eventId(),
            flag.runId(),
            flag.baselineVersion() == null ? "none" : flag.baselineVersion()));
    if (!flag.metrics().isEmpty()) {
      out.append(
          String.format(
              Locale.ROOT,
              "  %-15s %10s %10s %9s %-24s %7s %5s  %s%n",
              "metric",
              "value",
              "baseline",
              "change",
              "confidence interval",
              "bound",
              "n",
              "status"));
      for (var entry : flag.metrics().entrySet()) {
        MetricValue m = entry.getValue();
        out.append(
            String.format(
                Locale.ROOT,
                "  %-15s %10.4f %10s %9s %-24s %7s %5d  %s%n",
                entry.getKey(),
                m.value(),
                m.baseline() == null ? "-" : String.format(Locale.ROOT, "%.4f", m.baseline()),
                m.relativeDelta() == null
                    ? "-"
                    : String.format(Locale.ROOT, "%+.2f%%", 100 * m.relativeDelta()),
                interval(m),
                bound(m),
                m.n(),
                m.status() == null
                    ? "-"
                    : m.status() + (Boolean.FALSE.equals(m.gating()) ? " (not gating)" : "")));
      }
    }
    for (String reason : flag.reasons()) {
      out.append("  - ").append(reason).append(System.lineSeparator());
    }
    if (flag.lockfile() != null) {
      out.append("  lockfile ").append(flag.lockfile()).append(System.lineSeparator());
    }
    if (flag.coverage() != null) {
      out.append(
          String.format(
              Locale.ROOT,
              "  coverage %d/%d shards, %d/%d rows; providers %s; %s ms%n",
              flag.coverage().shardsDone(),
              flag.coverage().shardsTotal(),
              flag.coverage().rowsScored(),
              flag.coverage().rowsTotal(),
              flag.executionProviders(),
              flag.durationMs()));
    }
    SequentialDecision sequential = flag.sequential();
    if (sequential != null) {
      out.append(
          String.format(
              Locale.ROOT,
              sequential.stopped() == SequentialDecision.Stop.END
                  ? "  sequential: every row scored (%3$,d of %4$,d), %2$d look%5$s: %6$s%n"
                  : "  sequential: stopped %1$s after %3$,d of %4$,d rows, %2$d look%5$s: %6$s%n",
              sequential.stopped().name(),
              sequential.looks(),
              sequential.rowsScored(),
              sequential.rowsTotal(),
              sequential.looks() == 1 ? "" : "s",
              sequential.reason()));
    }
    return out.toString();
  }

  /**
   * The interval of the relative change, or of the value itself for a metric judged against a
   * limit.
   */
  private static String interval(MetricValue m) {
    if (m.ciLow() == null) {
      return "-";
    }
    return m.limit() != null
        ? String.format(
            Locale.ROOT, "[%.4f, %.4f] %.1f%%", m.ciLow(), m.ciHigh(), 100 * m.ciConfidence())
        : String.format(
            Locale.ROOT,
            "[%+.2f%%, %+.2f%%] %.1f%%",
            100 * m.ciLow(),
            100 * m.ciHigh(),
            100 * m.ciConfidence());
  }

  /** The margin against the baseline, or the limit a metric judged on its own value must keep. */
  private static String bound(MetricValue m) {
    if (m.limit() != null) {
      return ("higher_is_better".equals(m.direction()) ? ">=" : "<=")
          + BigDecimal.valueOf(m.limit()).stripTrailingZeros().toPlainString();
    }
    return m.margin() == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * m.margin());
  }
}
