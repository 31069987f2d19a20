package io.evalfleet.notifier.review;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import java.math.BigDecimal;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The words a review opens with and closes with: the one-sentence verdict and what to do next. */
public final class Verdicts {
  private Verdicts() {}

  public static String emoji(Flag flag) {
    return switch (flag) {
      case GREEN -> "🟢";
      case WARN -> "🟡";
      case RED -> "🔴";
      case ERROR -> "⛔";
      case INCOMPLETE -> "⏳";
    };
  }

  /**
   * The gating metric that set the flag: the one with the worst status (ties: the largest bad
   * change).
   */
  public static Optional<Map.Entry<String, MetricValue>> decisive(DriftFlag flag) {
    return flag.metrics().entrySet().stream()
        .filter(e -> Boolean.TRUE.equals(e.getValue().gating()) && e.getValue().status() != null)
        .max(
            Comparator.<Map.Entry<String, MetricValue>>comparingInt(
                    e -> rank(e.getValue().status()))
                .thenComparingDouble(
                    e ->
                        e.getValue().relativeDelta() == null
                            ? 0
                            : Math.abs(e.getValue().relativeDelta())));
  }

  private static int rank(Flag flag) {
    return switch (flag) {
      case GREEN -> 0;
      case WARN -> 1;
      case RED -> 2;
      case INCOMPLETE -> 3;
      case ERROR -> 4;
    };
  }

  /** One sentence: what the flag means for this version, and the evidence that decided it. */
  public static String sentence(DriftFlag flag) {
    String version = flag.version() == null ? "this event" : "version " + flag.version();
    String against =
        flag.baselineVersion() == null ? "" : " against version " + flag.baselineVersion();
    String first = flag.reasons().isEmpty() ? "no reason was given" : flag.reasons().get(0);
    Optional<String> evidence =
        decisive(flag).map(e -> e.getValue().evidence()).filter(s -> s != null && !s.isBlank());
    return switch (flag.flag()) {
      case GREEN ->
          capitalize(version) + " is fit to ship" + against + ": " + evidence.orElse(first);
      case WARN ->
          capitalize(version)
              + " needs a reviewer's judgement"
              + against
              + ": "
              + evidence.orElse(first);
      case RED -> capitalize(version) + " must not ship" + against + ": " + evidence.orElse(first);
      case ERROR -> capitalize(version) + " could not be evaluated: " + first;
      case INCOMPLETE -> capitalize(version) + " was not fully scored: " + first;
    };
  }

  /** What the reader should do next, as commands where there is one. */
  public static String nextSteps(DriftFlag flag) {
    String model = flag.model();
    String version = flag.version();
    return switch (flag.flag()) {
      case GREEN ->
          "Fit to ship by the policy. Make it the production baseline once it ships: `evalfleet baseline promote"
              + " --model "
              + model
              + " --version "
              + version
              + "`.";
      case WARN ->
          flag.baselineVersion() == null
              ? "There is no baseline to compare with yet. If this version is what production runs, pin it: `evalfleet"
                  + " baseline pin --model "
                  + model
                  + " --version "
                  + version
                  + "`."
              : "The change is not shown to stay within the margin, nor to exceed it. Look at the rows that moved most"
                  + " and the lockfile diff; ship only if the change is intended (`evalfleet baseline pin --model "
                  + model
                  + " --version "
                  + version
                  + "`), or stage it again on a larger golden subset.";
      case RED ->
          "Do not ship. Find what moved: the rows that moved most, and `evalfleet lock diff --model "
              + model
              + " "
              + flag.baselineVersion()
              + " "
              + version
              + "`. A deliberate change of behaviour needs a new baseline"
              + " (`evalfleet baseline pin --force`).";
      case ERROR -> "Fix the cause named above and stage the version again; nothing was judged.";
      case INCOMPLETE ->
          "Scoring stopped before every row was scored (see the evidence). Check the workers and"
              + " storage, then stage the version again.";
    };
  }

  /**
   * What a metric is held to: its margin against the baseline ("2.00%"), or for a metric judged on
   * its own value its limit ("≤ 0.05", "≥ 0.9"); "–" for neither.
   */
  public static String bound(MetricValue v) {
    if (v.limit() != null) {
      return ("higher_is_better".equals(v.direction()) ? "≥ " : "≤ ")
          + BigDecimal.valueOf(v.limit()).stripTrailingZeros().toPlainString();
    }
    return v.margin() == null ? "–" : String.format(Locale.ROOT, "%.2f%%", 100 * v.margin());
  }

  public static String percent(Double relative) {
    return relative == null ? "–" : String.format(Locale.ROOT, "%+.2f%%", 100 * relative);
  }

  public static String number(Double value) {
    if (value == null) {
      return "–";
    }
    double magnitude = Math.abs(value);
    return magnitude != 0 && (magnitude >= 1e5 || magnitude < 1e-3)
        ? String.format(Locale.ROOT, "%.3e", value)
        : String.format(Locale.ROOT, "%.4f", value);
  }

  private static String capitalize(String text) {
    return Character.toUpperCase(text.charAt(0)) + text.substring(1);
  }
}
