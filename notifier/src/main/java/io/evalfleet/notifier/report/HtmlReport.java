package io.evalfleet.notifier.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.LockDiff;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.notifier.review.NumberColumn;
import io.evalfleet.notifier.review.ReviewMarkdown;
import io.evalfleet.notifier.review.ReviewMaterial;
import io.evalfleet.notifier.review.RowChanges;
import io.evalfleet.notifier.review.Verdicts;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The HTML report of one evaluation: one self-contained file (charts embedded as PNG data, no
 * script, a content-security policy that forbids loading anything), from templates under {@code
 * io/evalfleet/notifier/report}. Thread-safe.
 */
public final class HtmlReport {
  static final int HISTOGRAM_BINS = 30;
  private static final Mustache REPORT =
      new DefaultMustacheFactory("io/evalfleet/notifier/report").compile("report.html.mustache");
  private static final Mustache HISTORY =
      new DefaultMustacheFactory("io/evalfleet/notifier/report").compile("history.html.mustache");

  private HtmlReport() {}

  /**
   * The report, and the histogram of per-row changes as its own PNG (null when there are no row
   * scores).
   */
  public record Rendered(String html, byte[] histogramPng) {}

  public static Rendered render(ReviewMaterial m, Instant writtenAt) {
    DriftFlag flag = m.flag();
    Map<String, Object> scope = new LinkedHashMap<>();
    scope.put("model", m.model());
    scope.put("version", m.version());
    scope.put("baselineVersion", flag.baselineVersion());
    scope.put("flag", flag.flag().name());
    scope.put("sentence", Verdicts.sentence(flag));
    scope.put("decidedAt", flag.decidedAt());
    scope.put("policyVersion", flag.policyVersion());
    scope.put("runId", flag.runId());
    scope.put("commit", m.lock() == null ? null : m.lock().commit());
    if (flag.coverage() != null) {
      scope.put(
          "coverage",
          String.format(
              Locale.ROOT,
              "%d of %d shards, %,d of %,d rows",
              flag.coverage().shardsDone(),
              flag.coverage().shardsTotal(),
              flag.coverage().rowsScored(),
              flag.coverage().rowsTotal()));
    }
    scope.put(
        "providers",
        flag.executionProviders().isEmpty() ? null : String.join(", ", flag.executionProviders()));
    List<Map<String, Object>> metrics = new ArrayList<>();
    NumberColumn values = ReviewMarkdown.valueColumn(flag);
    flag.metrics().forEach((name, v) -> metrics.add(metric(name, v, values)));
    scope.put("hasMetrics", !metrics.isEmpty());
    scope.put("metrics", metrics);
    byte[] histogram = null;
    RowChanges changes = m.changes();
    if (changes != null && changes.values().length > 0) {
      histogram =
          Charts.histogram(
              changes,
              HISTOGRAM_BINS,
              changes.hasBaseline()
                  ? "per-row change of " + changes.score().name() + " (candidate − baseline)"
                  : changes.score().name() + " per row");
      scope.put("histogram", dataUri(histogram));
      scope.put("distributionSummary", ReviewMarkdown.distributionSummary(changes));
      if (changes.hasBaseline()) {
        scope.put("scatter", dataUri(Charts.scatter(changes, flag.baselineVersion(), m.version())));
      }
    }
    List<Map<String, Object>> moved = new ArrayList<>();
    NumberColumn[] movedColumns = ReviewMarkdown.movedColumns(m.moved());
    for (ReviewMaterial.MovedRowText row : m.moved()) {
      moved.add(
          Map.of(
              "id",
              row.id(),
              "text",
              String.join("  ⟷  ", row.texts().values()),
              "baseline",
              movedColumns[0].format(row.row().baseline()),
              "candidate",
              movedColumns[0].format(row.row().candidate()),
              "change",
              movedColumns[1].format(row.row().change())));
    }
    scope.put("hasMoved", !moved.isEmpty());
    scope.put("moved", moved);
    history(scope, m.history(), flag.metrics());
    scope.put("nextSteps", inlineMarkdown(Verdicts.nextSteps(flag)));
    scope.put("reasons", flag.reasons().stream().map(HtmlReport::inlineMarkdown).toList());
    scope.put("problems", m.problems());
    LockDiff diff = m.lockDiff();
    List<Map<String, String>> diffRows =
        diff == null
            ? List.of()
            : diff.inputChanges().stream()
                .map(
                    c ->
                        Map.of(
                            "field",
                            c.field(),
                            "before",
                            digestCell(c.before()),
                            "after",
                            digestCell(c.after())))
                .toList();
    scope.put("hasLockDiff", !diffRows.isEmpty());
    scope.put("lockDiff", diffRows);
    if (m.lock() != null) {
      scope.put("lockfile", prettyJson(m.lock()));
      scope.put("lockfileUri", flag.lockfile());
    }
    scope.put("writtenAt", writtenAt);
    return new Rendered(execute(REPORT, scope), histogram);
  }

  /** A model's history on its own page: one chart per metric over its versions, and the table. */
  public static String renderHistory(String model, List<EvaluationLock> locks, Instant writtenAt) {
    Map<String, Object> scope = new LinkedHashMap<>();
    scope.put("model", model);
    history(scope, locks, Map.of());
    scope.put("writtenAt", writtenAt);
    return execute(HISTORY, scope);
  }

  private static Map<String, Object> metric(String name, MetricValue v, NumberColumn values) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("name", name);
    row.put("gating", Boolean.TRUE.equals(v.gating()));
    row.put("value", values.format(v.value()));
    row.put("baseline", values.format(v.baseline()));
    row.put("change", Verdicts.percent(v.relativeDelta()));
    row.put("interval", ReviewMarkdown.intervalText(v));
    row.put("margin", Verdicts.bound(v));
    row.put("status", v.status() == null ? null : v.status().name());
    row.put(
        "band",
        v.bandLow() == null || v.bandHigh() == null
            ? "–"
            : "[" + values.format(v.bandLow()) + ", " + values.format(v.bandHigh()) + "]");
    row.put("evidence", v.evidence());
    boolean drawable = v.limit() != null ? Double.isFinite(v.value()) : finite(v.relativeDelta());
    if (drawable
        && (v.ciLow() == null || finite(v.ciLow()))
        && (v.ciHigh() == null || finite(v.ciHigh()))) {
      row.put("intervalChart", dataUri(Charts.interval(name, v)));
    }
    return row;
  }

  /** The history charts (one per metric of the latest evaluation) and table. */
  private static void history(
      Map<String, Object> scope, List<EvaluationLock> locks, Map<String, MetricValue> current) {
    scope.put("hasHistory", !locks.isEmpty());
    if (locks.isEmpty()) {
      return;
    }
    List<String> metrics = new ArrayList<>(locks.get(locks.size() - 1).metrics().keySet());
    List<Map<String, Object>> charts = new ArrayList<>();
    for (String metric : metrics) {
      Double low = null;
      Double high = null;
      MetricValue now = current.get(metric);
      if (now != null && now.bandLow() != null) {
        low = now.bandLow();
        high = now.bandHigh();
      } else {
        for (EvaluationLock lock : locks) {
          EvaluationLock.LockedMetric locked = lock.metrics().get(metric);
          if (locked != null && locked.bandLow() != null) {
            low = locked.bandLow();
            high = locked.bandHigh();
          }
        }
      }
      charts.add(
          Map.of("name", metric, "chart", dataUri(Charts.history(metric, locks, low, high))));
    }
    scope.put("historyCharts", charts);
    scope.put("historyMetrics", metrics);
    List<Map<String, Object>> rows = new ArrayList<>();
    Map<String, NumberColumn> columns = new LinkedHashMap<>();
    metrics.forEach(metric -> columns.put(metric, ReviewMarkdown.historyColumn(locks, metric)));
    for (EvaluationLock lock : locks) {
      List<String> cells = new ArrayList<>();
      for (String metric : metrics) {
        EvaluationLock.LockedMetric value = lock.metrics().get(metric);
        cells.add(
            value == null
                ? "–"
                : columns.get(metric).format(value.value())
                    + (value.relativeChange() == null
                        ? ""
                        : " ("
                            + Verdicts.percent(value.relativeChange())
                            + (value.ciLow() == null
                                ? ""
                                : ", ["
                                    + Verdicts.percent(value.ciLow())
                                    + ", "
                                    + Verdicts.percent(value.ciHigh())
                                    + "]")
                            + ")"));
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("version", lock.version());
      row.put("commit", lock.commit() == null ? "–" : lock.commit());
      row.put("decidedAt", lock.decidedAt());
      row.put("flag", lock.flag() == null ? null : lock.flag().name());
      row.put("cells", cells);
      rows.add(row);
    }
    scope.put("history", rows);
  }

  /**
   * Prose with Markdown's inline code: HTML-escaped, then each {@code `...`} span as {@code
   * <code>...</code>}. Nothing else of Markdown is read. For triple-brace (unescaped) template
   * fields.
   */
  static String inlineMarkdown(String text) {
    if (text == null) {
      return null;
    }
    return Pattern.compile("`([^`]+)`").matcher(escapeHtml(text)).replaceAll("<code>$1</code>");
  }

  /**
   * A table cell: a digest shortened, its full value on hover; anything else as it is. Escaped
   * HTML.
   */
  static String digestCell(String value) {
    String text = String.valueOf(value);
    if (!ReviewMarkdown.isDigest(text)) {
      return escapeHtml(text);
    }
    return "<code class=\"digest\" title=\""
        + escapeHtml(text.strip())
        + "\">"
        + escapeHtml(ReviewMarkdown.shortDigest(text))
        + "</code>";
  }

  static String escapeHtml(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  private static String prettyJson(Object value) {
    try {
      return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value);
    } catch (JsonProcessingException e) {
      return "cannot show: " + e.getMessage();
    }
  }

  private static boolean finite(Double value) {
    return value != null && Double.isFinite(value);
  }

  static String dataUri(byte[] png) {
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
  }

  private static String execute(Mustache template, Map<String, Object> scope) {
    StringWriter out = new StringWriter();
    template.execute(out, scope);
    return out.toString();
  }
}
