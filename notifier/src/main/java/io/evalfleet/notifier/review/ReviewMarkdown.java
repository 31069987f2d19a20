package io.evalfleet.notifier.review;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.LockDiff;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.MetricValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The review as a pull-request comment, in GitHub- and GitLab-flavoured Markdown: the flag and the
 * one-sentence verdict first, then the metric table, the distribution of per-row changes (an image
 * from the report when it is published at a URL, and always a text histogram), the rows that moved
 * most, the lockfile diff and what to do next; evidence and history folded. Its first line is a
 * hidden marker naming the model, by which the one comment per model is found and updated.
 */
public final class ReviewMarkdown {
  /**
   * Where the report and its images can be opened: public URLs, or archive URIs when there are
   * none.
   */
  public record Links(String report, String histogramImage) {}

  private static final int HISTOGRAM_BINS = 12;
  private static final int BAR_WIDTH = 28;
  private static final int TEXT_CHARS = 120;
  private static final int HISTORY_ROWS = 8;

  private ReviewMarkdown() {}

  /** The hidden marker that identifies the comment of {@code model}, whatever else it says. */
  public static String marker(String model) {
    return "<!-- evalfleet:review model=" + model + " -->";
  }

  public static String render(ReviewMaterial m, Links links) {
    DriftFlag flag = m.flag();
    StringBuilder out = new StringBuilder();
    out.append(marker(m.model())).append('\n');
    out.append("### ")
        .append(Verdicts.emoji(flag.flag()))
        .append(" evalfleet: **")
        .append(flag.flag())
        .append("** · `")
        .append(m.model())
        .append("` ")
        .append(code(m.version()));
    if (flag.baselineVersion() != null) {
      out.append(" vs ").append(code(flag.baselineVersion()));
    }
    out.append("\n\n").append(escape(Verdicts.sentence(flag))).append("\n\n");
    metricTable(out, flag);
    distribution(out, m, links);
    movedRows(out, m);
    lockDiff(out, m);
    out.append("#### What to do next\n\n").append(Verdicts.nextSteps(flag)).append("\n\n");
    evidence(out, m);
    history(out, m);
    out.append("[Full report](").append(links.report()).append(")");
    out.append(" · run `").append(flag.runId()).append('`');
    if (flag.policyVersion() != null) {
      out.append(" · policy ").append(flag.policyVersion());
    }
    out.append(" · evalfleet\n");
    return out.toString();
  }

  private static void metricTable(StringBuilder out, DriftFlag flag) {
    if (flag.metrics().isEmpty()) {
      return;
    }
    out.append("| metric | value | baseline | change | interval | margin / limit | status |\n");
    out.append("|---|---:|---:|---:|---|---:|---|\n");
    NumberColumn values = valueColumn(flag);
    flag.metrics()
        .forEach(
            (name, v) ->
                out.append("| ")
                    .append(name)
                    .append(Boolean.TRUE.equals(v.gating()) ? "" : " (info)")
                    .append(" | ")
                    .append(values.format(v.value()))
                    .append(" | ")
                    .append(values.format(v.baseline()))
                    .append(" | ")
                    .append(Verdicts.percent(v.relativeDelta()))
                    .append(" | ")
                    .append(intervalText(v))
                    .append(" | ")
                    .append(Verdicts.bound(v))
                    .append(" | ")
                    .append(
                        v.status() == null ? "–" : Verdicts.emoji(v.status()) + " " + v.status())
                    .append(" |\n"));
    out.append('\n');
  }

  /**
   * One format for the value and baseline columns of the metric table, so that they line up and
   * every value shows.
   */
  public static NumberColumn valueColumn(DriftFlag flag) {
    List<Double> numbers = new ArrayList<>();
    flag.metrics()
        .values()
        .forEach(
            v -> {
              numbers.add(v.value());
              numbers.add(v.baseline());
            });
    return NumberColumn.of(numbers, false);
  }

  /**
   * The formats of the moved-rows table: scores (baseline and candidate) and their signed change.
   */
  public static NumberColumn[] movedColumns(List<ReviewMaterial.MovedRowText> moved) {
    List<Double> scores = new ArrayList<>();
    List<Double> changes = new ArrayList<>();
    for (ReviewMaterial.MovedRowText row : moved) {
      scores.add(row.row().baseline());
      scores.add(row.row().candidate());
      changes.add(row.row().change());
    }
    return new NumberColumn[] {NumberColumn.of(scores, false), NumberColumn.of(changes, true)};
  }

  /** One format per metric column of the history table. */
  public static NumberColumn historyColumn(List<EvaluationLock> history, String metric) {
    return NumberColumn.of(
        history.stream()
            .map(lock -> lock.metrics().get(metric))
            .filter(Objects::nonNull)
            .map(m -> (Double) m.value())
            .toList(),
        false);
  }

  /**
   * The interval of the relative change, or of the value itself for a metric judged against a
   * limit.
   */
  public static String intervalText(MetricValue v) {
    if (v.ciLow() == null || v.ciHigh() == null) {
      return "–";
    }
    if (v.limit() != null) {
      NumberColumn bounds = NumberColumn.of(v.ciLow(), v.ciHigh());
      return String.format(
          Locale.ROOT,
          "[%s, %s] at %.1f%%",
          bounds.format(v.ciLow()),
          bounds.format(v.ciHigh()),
          100 * (v.ciConfidence() == null ? 0.95 : v.ciConfidence()));
    }
    return String.format(
        Locale.ROOT,
        "[%s, %s] at %.1f%%",
        Verdicts.percent(v.ciLow()),
        Verdicts.percent(v.ciHigh()),
        100 * (v.ciConfidence() == null ? 0.95 : v.ciConfidence()));
  }

  private static void distribution(StringBuilder out, ReviewMaterial m, Links links) {
    RowChanges changes = m.changes();
    if (changes == null || changes.values().length == 0) {
      return;
    }
    String what =
        changes.hasBaseline()
            ? "change of " + changes.score().name() + " per row (candidate − baseline)"
            : changes.score().name() + " per row (no baseline to compare with)";
    out.append("#### Distribution: ").append(what).append("\n\n");
    if (links.histogramImage() != null) {
      out.append("![").append(what).append("](").append(links.histogramImage()).append(")\n\n");
    }
    out.append("```text\n").append(textHistogram(changes.bins(HISTOGRAM_BINS))).append("```\n");
    out.append(distributionSummary(changes)).append("\n\n");
  }

  /** The distribution's median, 5th–95th percentiles and mean, all in one number format. */
  public static String distributionSummary(RowChanges changes) {
    List<Double> numbers =
        List.of(
            changes.quantile(0.5), changes.quantile(0.05), changes.quantile(0.95), changes.mean());
    NumberColumn format = NumberColumn.of(numbers, changes.hasBaseline());
    return String.format(
        Locale.ROOT,
        "%,d rows: median %s, 5th–95th percentile [%s, %s], mean %s.",
        changes.values().length,
        format.format(numbers.get(0)),
        format.format(numbers.get(1)),
        format.format(numbers.get(2)),
        format.format(numbers.get(3)));
  }

  /** One line per bin: its range, a bar of block characters, and the count. */
  public static String textHistogram(RowChanges.Bins bins) {
    StringBuilder out = new StringBuilder();
    long max = Math.max(1, bins.max());
    for (int i = 0; i < bins.counts().length; i++) {
      int width = (int) Math.round((double) bins.counts()[i] * BAR_WIDTH / max);
      if (width == 0 && bins.counts()[i] > 0) {
        width = 1;
      }
      out.append(
          String.format(
              Locale.ROOT,
              "%+10.4f … %+10.4f │%-" + BAR_WIDTH + "s %,d%n",
              bins.edges()[i],
              bins.edges()[i + 1],
              "█".repeat(width),
              bins.counts()[i]));
    }
    return out.toString();
  }

  private static void movedRows(StringBuilder out, ReviewMaterial m) {
    if (m.moved().isEmpty()) {
      return;
    }
    out.append(
        "#### Rows that moved most\n\n| row | text | baseline | candidate | change |\n|---|---|---:|---:|---:|\n");
    NumberColumn[] columns = movedColumns(m.moved());
    for (ReviewMaterial.MovedRowText row : m.moved()) {
      String text =
          String.join(" ⟷ ", row.texts().values().stream().map(ReviewMarkdown::truncate).toList());
      out.append("| ")
          .append(escape(row.id()))
          .append(" | ")
          .append(escape(text))
          .append(" | ")
          .append(columns[0].format(row.row().baseline()))
          .append(" | ")
          .append(columns[0].format(row.row().candidate()))
          .append(" | ")
          .append(columns[1].format(row.row().change()))
          .append(" |\n");
    }
    out.append('\n');
  }

  private static void lockDiff(StringBuilder out, ReviewMaterial m) {
    LockDiff diff = m.lockDiff();
    if (diff == null) {
      return;
    }
    List<LockDiff.Change> changes = diff.inputChanges();
    out.append("#### What changed since the baseline (lockfile)\n\n");
    if (changes.isEmpty()) {
      out.append("Nothing but the weights: every other input of the evaluation is the same.\n\n");
      return;
    }
    out.append("| input | ")
        .append(code(m.baselineLock().version()))
        .append(" | ")
        .append(code(m.lock().version()))
        .append(" |\n|---|---|---|\n");
    for (LockDiff.Change change : changes) {
      out.append("| ")
          .append(change.field())
          .append(" | ")
          .append(escape(truncate(shortDigest(change.before()))))
          .append(" | ")
          .append(escape(truncate(shortDigest(change.after()))))
          .append(" |\n");
    }
    out.append('\n');
    if (changes.stream().anyMatch(c -> isDigest(c.before()) || isDigest(c.after()))) {
      out.append("Digests are shortened to their first ")
          .append(DIGEST_CHARS)
          .append(" characters; the lockfiles hold them in full.\n\n");
    }
  }

  private static void evidence(StringBuilder out, ReviewMaterial m) {
    DriftFlag flag = m.flag();
    out.append("<details><summary>Evidence</summary>\n\n");
    flag.reasons().forEach(reason -> out.append("- ").append(escape(reason)).append('\n'));
    if (flag.coverage() != null) {
      out.append(
          String.format(
              Locale.ROOT,
              "- coverage: %d of %d shards, %,d of %,d rows%n",
              flag.coverage().shardsDone(),
              flag.coverage().shardsTotal(),
              flag.coverage().rowsScored(),
              flag.coverage().rowsTotal()));
    }
    if (!flag.executionProviders().isEmpty()) {
      out.append("- scored on: ").append(String.join(", ", flag.executionProviders())).append('\n');
    }
    if (flag.durationMs() != null) {
      out.append(
          String.format(
              Locale.ROOT, "- from staging to flag: %.1f s%n", flag.durationMs() / 1000.0));
    }
    if (flag.lockfile() != null) {
      out.append("- lockfile: `").append(flag.lockfile()).append("`\n");
    }
    m.problems()
        .forEach(problem -> out.append("- not shown: ").append(escape(problem)).append('\n'));
    out.append("\n</details>\n\n");
  }

  private static void history(StringBuilder out, ReviewMaterial m) {
    List<EvaluationLock> history = m.history();
    if (history.isEmpty()) {
      return;
    }
    List<String> metrics = history.get(history.size() - 1).metrics().keySet().stream().toList();
    out.append("<details><summary>History of ")
        .append(m.model())
        .append(" (")
        .append(history.size())
        .append(" evaluations)</summary>\n\n| version | commit | flag |");
    metrics.forEach(metric -> out.append(' ').append(metric).append(" |"));
    out.append("\n|---|---|---|").append("---:|".repeat(metrics.size())).append('\n');
    Map<String, NumberColumn> columns = new HashMap<>();
    List<EvaluationLock> shown =
        history.subList(Math.max(0, history.size() - HISTORY_ROWS), history.size());
    metrics.forEach(metric -> columns.put(metric, historyColumn(shown, metric)));
    for (EvaluationLock lock : shown) {
      out.append("| ")
          .append(code(lock.version()))
          .append(" | ")
          .append(lock.commit() == null ? "–" : code(shortCommit(lock.commit())))
          .append(" | ")
          .append(lock.flag() == null ? "–" : Verdicts.emoji(lock.flag()) + " " + lock.flag())
          .append(" |");
      for (String metric : metrics) {
        EvaluationLock.LockedMetric value = lock.metrics().get(metric);
        out.append(' ')
            .append(
                value == null
                    ? "–"
                    : columns.get(metric).format(value.value())
                        + (value.relativeChange() == null
                            ? ""
                            : " (" + Verdicts.percent(value.relativeChange()) + ")"))
            .append(" |");
      }
      out.append('\n');
    }
    out.append("\n</details>\n\n");
  }

  static final int DIGEST_CHARS = 12;
  private static final Pattern DIGEST = Pattern.compile("(sha256:)?[0-9a-fA-F]{40,}");

  /** A sha256 or other long hex digest, alone or as {@code sha256:<hex>}. */
  public static boolean isDigest(String text) {
    return text != null && DIGEST.matcher(text.strip()).matches();
  }

  /** A digest's first {@link #DIGEST_CHARS} hex characters and "…"; any other text unchanged. */
  public static String shortDigest(String text) {
    if (!isDigest(text)) {
      return text;
    }
    String stripped = text.strip();
    int start = stripped.startsWith("sha256:") ? "sha256:".length() : 0;
    return stripped.substring(0, start + DIGEST_CHARS) + "…";
  }

  private static String shortCommit(String commit) {
    return commit.length() > 12 ? commit.substring(0, 12) : commit;
  }

  private static String truncate(String text) {
    if (text == null) {
      return "–";
    }
    String flat = text.replaceAll("\\s+", " ").strip();
    return flat.length() <= TEXT_CHARS ? flat : flat.substring(0, TEXT_CHARS - 1) + "…";
  }

  private static String code(String text) {
    return "`" + text.replace("`", "'") + "`";
  }

  /** Keeps text from breaking a table or being read as Markdown or HTML. */
  static String escape(String text) {
    return text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("*", "\\*")
        .replace("_", "\\_")
        .replace("`", "\\`")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace("\n", " ");
  }
}
