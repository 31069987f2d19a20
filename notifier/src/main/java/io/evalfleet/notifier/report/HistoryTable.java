package io.evalfleet.notifier.report;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.notifier.review.Verdicts;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model's archived evaluations as a text table: version, commit, decided, flag, then each metric
 * with its change, interval and band.
 */
public final class HistoryTable {
  private HistoryTable() {}

  public static String render(String model, List<EvaluationLock> locks) {
    if (locks.isEmpty()) {
      return "no evaluation of " + model + " is archived\n";
    }
    List<String> metrics = new ArrayList<>(locks.get(locks.size() - 1).metrics().keySet());
    List<List<String>> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("version", "commit", "decided", "flag"));
    metrics.forEach(metric -> header.add(metric + " (change [interval]; band)"));
    rows.add(header);
    for (EvaluationLock lock : locks) {
      List<String> row = new ArrayList<>();
      row.add(lock.version());
      row.add(
          lock.commit() == null
              ? "-"
              : lock.commit().substring(0, Math.min(12, lock.commit().length())));
      row.add(
          lock.decidedAt() == null
              ? "-"
              : lock.decidedAt().toString().substring(0, 19).replace('T', ' '));
      row.add(lock.flag() == null ? "-" : lock.flag().name());
      for (String metric : metrics) {
        EvaluationLock.LockedMetric m = lock.metrics().get(metric);
        row.add(m == null ? "-" : cell(m));
      }
      rows.add(row);
    }
    int[] widths = new int[header.size()];
    rows.forEach(
        row -> {
          for (int i = 0; i < row.size(); i++) {
            widths[i] = Math.max(widths[i], row.get(i).length());
          }
        });
    StringBuilder out = new StringBuilder();
    for (List<String> row : rows) {
      for (int i = 0; i < row.size(); i++) {
        out.append(String.format(Locale.ROOT, "%-" + widths[i] + "s", row.get(i)))
            .append(i + 1 < row.size() ? "  " : "");
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static String cell(EvaluationLock.LockedMetric m) {
    StringBuilder cell = new StringBuilder(Verdicts.number(m.value()));
    if (m.relativeChange() != null) {
      cell.append(' ').append(Verdicts.percent(m.relativeChange()));
      if (m.ciLow() != null) {
        cell.append(" [")
            .append(Verdicts.percent(m.ciLow()))
            .append(", ")
            .append(Verdicts.percent(m.ciHigh()))
            .append(']');
      }
    }
    if (m.bandLow() != null) {
      cell.append("; ")
          .append(Verdicts.number(m.bandLow()))
          .append("..")
          .append(Verdicts.number(m.bandHigh()));
    }
    return cell.toString();
  }
}
