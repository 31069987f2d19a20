package io.evalfleet.cli.archive;

import io.evalfleet.common.archive.BaselineSnapshot;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * A model's baseline history as a table over time: one row per production version, one column per
 * metric.
 */
public final class BaselineHistoryTable {
  private BaselineHistoryTable() {}

  public static String render(String model, List<BaselineSnapshot> history) {
    if (history.isEmpty()) {
      return "model " + model + " has no baseline history\n";
    }
    TreeSet<String> metrics = new TreeSet<>();
    history.forEach(s -> metrics.addAll(s.metrics().keySet()));
    StringBuilder out =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%-20s  %-18s  %-26s  %-10s",
                "recorded at (UTC)",
                "version",
                "reason",
                "commit"));
    metrics.forEach(m -> out.append(String.format(Locale.ROOT, "  %14s", m)));
    out.append('\n');
    for (BaselineSnapshot snapshot : history) {
      out.append(
          String.format(
              Locale.ROOT,
              "%-20s  %-18s  %-26s  %-10s",
              DateTimeFormatter.ISO_INSTANT.format(
                  snapshot.recordedAt().truncatedTo(ChronoUnit.SECONDS)),
              snapshot.version(),
              snapshot.reason(),
              snapshot.commit() == null
                  ? "-"
                  : snapshot.commit().substring(0, Math.min(10, snapshot.commit().length()))));
      for (String metric : metrics) {
        Double value = snapshot.metrics().get(metric);
        out.append(
            value == null
                ? String.format(Locale.ROOT, "  %14s", "-")
                : String.format(Locale.ROOT, "  %14.4f", value));
      }
      out.append('\n');
    }
    return out.toString();
  }
}
