package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.task.Direction;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;

/**
 * Decides a run from a completed prefix of its seeded row order, with a confidence sequence valid
 * at every look, so the dispatcher may stop scoring as soon as the verdict is clear.
 *
 * <p>Each metric that is a mean (or a ratio of sums) of per-row values is linearised into a plain
 * mean over sampling units ({@link SequentialForm}) and tested, like the fixed-sample {@link
 * Decider}, with two one-sided tests against its margin or limit: "beyond" (RED) and "within"
 * (GREEN). Each test's anytime p-value comes from a one-sided asymptotic confidence sequence
 * ({@link ConfidenceSequence}, ρ tuned to the policy's {@code tuning_rows}); the gating metrics'
 * p-values are corrected as one family with the policy's correction (Bonferroni and Holm are both
 * monotone in the p-values, so applied to anytime p-values at every look they keep the family error
 * rate at α over all looks together). A non-gating metric is tested alone at α and only reported.
 *
 * <p>A look stops RED as soon as any gating metric judged at the look is clearly beyond its margin
 * or limit; it stops GREEN only when every gating metric of the run is judged at the look and is
 * clearly within (a gating metric a look cannot judge — Spearman, kl_p99, or one switched off in
 * the policy — blocks a GREEN stop but not a RED one); otherwise the run goes on. No look stops
 * before it holds {@code min_rows} units. The production band plays no part at a look: a GREEN stop
 * says non-inferior on the rows scored.
 *
 * <p>Assumptions: the rows (or the blocks of rows that form the units) come in a seeded random
 * order, and a look sees a completed prefix of that order only, never rows that merely finished
 * first.
 *
 * <p>Immutable and thread-safe.
 */
public final class SequentialDecider {
  private final Policy policy;

  /** The kind of change judged, as in {@link Decider}; null when not known. */
  private final ChangeKind changeKind;

  public SequentialDecider(Policy policy) {
    this(policy, null);
  }

  private SequentialDecider(Policy policy, ChangeKind changeKind) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.changeKind = changeKind;
  }

  /**
   * A decider of the same policy for a change of {@code kind} (null: not known): a metric the
   * policy gates only for other kinds is looked at as a reported one.
   */
  public SequentialDecider forChangeKind(ChangeKind kind) {
    return new SequentialDecider(policy, kind);
  }

  private boolean gates(MetricPolicy rule) {
    return rule.gates(changeKind);
  }

  /**
   * @param baselineRows per-row values of the baseline on the prefix's rows (by {@link MetricNames}
   *     name), same order as candidateRows; may be empty (no baseline yet: only limit metrics can
   *     be looked at)
   * @param candidateRows the candidate's per-row values on the completed prefix in dispatch order
   * @param units how many consecutive rows of the prefix form one sampling unit (1: rows were
   *     permuted one by one; more: blocks of rows were permuted, and the sequence is over unit
   *     sums); a trailing incomplete unit is left out
   * @param rowsTotal rows of the whole run
   * @param looksSoFar how many looks were made before this one
   * @param notComparable metrics that decide nothing, with why (as in {@link Decider})
   * @throws IllegalArgumentException when the columns do not pair up or the counts are impossible
   */
  public Look look(
      Map<String, double[]> baselineRows,
      Map<String, double[]> candidateRows,
      int units,
      long rowsTotal,
      int looksSoFar,
      Map<String, String> notComparable) {
    int rows = checkedRows(baselineRows, candidateRows, units, rowsTotal, looksSoFar);
    SequentialSettings settings = policy.sequential();
    int look = looksSoFar + 1;
    String where =
        String.format(Locale.ROOT, "look %d, on the first %,d of %,d rows", look, rows, rowsTotal);
    if (!settings.enabled()) {
      return new Look(
          Look.Stop.CONTINUE,
          rows,
          rowsTotal,
          "early stopping is off in policy " + policy.policyVersion() + "; every row is scored",
          null);
    }
    int unitCount = rows / units;
    if (unitCount < settings.minRows()) {
      return new Look(
          Look.Stop.CONTINUE,
          rows,
          rowsTotal,
          String.format(
              Locale.ROOT,
              "%s: %,d units of %d row%s, fewer than the %,d a look needs (min_rows)",
              where,
              unitCount,
              units,
              units == 1 ? "" : "s",
              settings.minRows()),
          null);
    }
    int used = unitCount * units;
    where =
        String.format(Locale.ROOT, "look %d, on the first %,d of %,d rows", look, used, rowsTotal);
    Map<String, double[]> candidate = prefix(candidateRows, used);
    Map<String, double[]> baseline = new LinkedHashMap<>(prefix(baselineRows, used));
    // The baseline's own comparison with its predecessor is not the candidate's to pair with.
    baseline.keySet().removeIf(Task::isComparisonValue);
    Map<String, Double> candidateValues = MetricVector.metrics(candidate);
    Map<String, Double> baselineValues =
        baseline.isEmpty() ? Map.of() : MetricVector.metrics(baseline);

    List<Judgement> judged = new ArrayList<>();
    List<String> blocking = new ArrayList<>();
    for (var entry : policy.metrics().entrySet()) {
      String name = entry.getKey();
      MetricPolicy rule = entry.getValue();
      if (!measured(name, rule, candidateValues, baselineValues)
          || notComparable.containsKey(name)) {
        continue;
      }
      if (!settings.covers(name)) {
        if (gates(rule)) {
          blocking.add(name);
        }
        continue;
      }
      SequentialForm.Built built =
          rule.hasLimit()
              ? SequentialForm.limit(name, candidate, units, used)
              : SequentialForm.margin(name, baseline, candidate, units, used);
      judged.add(judge(name, rule, built, settings));
    }

    double alpha = policy.lookAlpha();
    int gates = (int) judged.stream().filter(j -> gates(j.rule)).count();
    adjust(judged);
    List<String> reasons = new ArrayList<>();
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    double rho2 = ConfidenceSequence.rho2(alpha, settings.tuningRows());
    for (Judgement j : judged) {
      double side =
          gates(j.rule) && policy.correction() != Correction.NONE
              ? alpha / Math.max(1, gates)
              : alpha;
      Interval interval = null;
      if (j.form != null) {
        double[] bounds =
            j.form.interval(ConfidenceSequence.halfWidthFactor(j.form.units(), rho2, side));
        interval = bounds == null ? null : new Interval(bounds[0], bounds[1], 1 - 2 * side);
      }
      j.interval = interval;
      j.boundLevel = 1 - side;
      j.status =
          j.form == null
              ? Flag.WARN
              : j.adjustedRed <= alpha
                  ? Flag.RED
                  : j.adjustedGreen <= alpha ? Flag.GREEN : Flag.WARN;
      metrics.put(j.metric, value(j, candidateValues, baselineValues, used, where));
      reasons.add(j.sentence);
      if (j.unavailable != null) {
        reasons.add(j.metric + " cannot be judged at this look: " + j.unavailable);
      }
    }
    for (String name : blocking) {
      reasons.add(
          name
              + " is gating but cannot be judged at a look ("
              + (SequentialSettings.judgeable(name)
                  ? "switched off in the policy"
                  : SequentialSettings.whyNotJudgeable(name))
              + "); it blocks an early GREEN");
    }
    notComparable.forEach((name, why) -> reasons.add(name + " not compared: " + why));
    candidateValues.forEach(
        (name, value) ->
            metrics.putIfAbsent(name, MetricValue.alone(value, used, direction(name).wireName())));

    List<Judgement> gating = judged.stream().filter(j -> gates(j.rule)).toList();
    List<Judgement> red = gating.stream().filter(j -> j.status == Flag.RED).toList();
    boolean green =
        !gating.isEmpty()
            && blocking.isEmpty()
            && gating.stream().allMatch(j -> j.status == Flag.GREEN);
    String progress =
        String.format(Locale.ROOT, "after %,d of %,d rows (look %d)", used, rowsTotal, look);
    Look.Stop stop;
    String reason;
    if (!red.isEmpty()) {
      stop = Look.Stop.RED;
      reason =
          String.join(
              "; ",
              red.stream()
                  .map(
                      j ->
                          j.metric
                              + " clearly beyond its "
                              + bound(j)
                              + " "
                              + progress
                              + ": "
                              + detail(j))
                  .toList());
    } else if (green) {
      stop = Look.Stop.GREEN;
      reason =
          "every gating metric clearly within its margin or limit "
              + progress
              + ": "
              + String.join("; ", gating.stream().map(j -> j.metric + " " + detail(j)).toList());
    } else {
      List<String> why = new ArrayList<>();
      for (Judgement j : gating) {
        if (j.status != Flag.GREEN) {
          why.add(
              j.form == null
                  ? j.metric + " cannot be judged (" + j.unavailable + ")"
                  : j.metric + " undecided against its " + bound(j) + ": " + detail(j));
        }
      }
      blocking.forEach(name -> why.add(name + " is gating and cannot be judged at a look"));
      if (gating.isEmpty()) {
        why.add(
            blocking.isEmpty()
                ? "no gating metric of the policy can be compared at a look"
                : "no look can stop this run, so none spends α");
      }
      return new Look(
          gating.isEmpty() ? Look.Stop.NEVER : Look.Stop.CONTINUE,
          rows,
          rowsTotal,
          "no clear verdict " + progress + ": " + String.join("; ", why),
          null);
    }
    reasons.add(
        String.format(
            Locale.ROOT,
            "decided sequentially by policy %s at look %d on the first %,d of %,d rows (%,d units of"
                + " %d row%s in seeded random order): one-sided asymptotic confidence sequences"
                + " valid at every look (normal mixture, ρ tuned to %,d units), %s correction"
                + " across %d gating metric%s, the looks spending α=%s of the family's %s",
            policy.policyVersion(),
            look,
            used,
            rowsTotal,
            unitCount,
            units,
            units == 1 ? "" : "s",
            settings.tuningRows(),
            policy.correction().wireName(),
            gates,
            gates == 1 ? "" : "s",
            trimmed(alpha),
            trimmed(policy.alpha())));
    Flag flag = stop == Look.Stop.RED ? Flag.RED : Flag.GREEN;
    return new Look(stop, rows, rowsTotal, reason, new Verdict(flag, metrics, reasons));
  }

  /** One metric's tests at a look; filled in as the look proceeds. */
  private static final class Judgement {
    final String metric;
    final MetricPolicy rule;
    final SequentialForm form;
    final String unavailable;
    final double red;
    final double green;
    double adjustedRed;
    double adjustedGreen;
    Interval interval;
    double boundLevel;
    Flag status;
    String sentence;

    Judgement(
        String metric,
        MetricPolicy rule,
        SequentialForm form,
        String unavailable,
        double red,
        double green) {
      this.metric = metric;
      this.rule = rule;
      this.form = form;
      this.unavailable = unavailable;
      this.red = red;
      this.green = green;
    }
  }

  private Judgement judge(
      String metric, MetricPolicy rule, SequentialForm.Built built, SequentialSettings settings) {
    SequentialForm form = built.form();
    if (form == null) {
      return new Judgement(metric, rule, null, built.unavailable(), 1, 1);
    }
    if (form.units() < settings.minRows()) {
      return new Judgement(
          metric,
          rule,
          null,
          String.format(
              Locale.ROOT,
              "only %,d units score it, fewer than the %,d a look needs (min_rows)",
              form.units(),
              settings.minRows()),
          1,
          1);
    }
    double rho2 = ConfidenceSequence.rho2(policy.lookAlpha(), settings.tuningRows());
    double[] p =
        redGreen(rule, theta -> form.pAbove(theta, rho2), theta -> form.pBelow(theta, rho2));
    double red = p[0];
    double green = p[1];
    return new Judgement(metric, rule, form, null, red, green);
  }

  /**
   * The raw anytime p-values {beyond, within} of a metric's two tests, from the p-values of "q &gt;
   * θ is shown" ({@code above}) and "q &lt; θ is shown" ({@code below}) of its linearised form.
   */
  static double[] redGreen(
      MetricPolicy rule, DoubleUnaryOperator above, DoubleUnaryOperator below) {
    if (rule.hasLimit()) {
      double limit = rule.limit();
      return rule.direction() == Direction.HIGHER_IS_BETTER
          ? new double[] {below.applyAsDouble(limit), above.applyAsDouble(limit)}
          : new double[] {above.applyAsDouble(limit), below.applyAsDouble(limit)};
    }
    double m = rule.margin();
    return switch (rule.direction()) {
      case LOWER_IS_BETTER -> new double[] {above.applyAsDouble(m), below.applyAsDouble(m)};
      case HIGHER_IS_BETTER -> new double[] {below.applyAsDouble(-m), above.applyAsDouble(-m)};
      // Beyond either way: either one-sided test may show it, so each gets half (Bonferroni).
      // Within both ways: both must show it (an intersection-union test needs no split).
      case TWO_SIDED ->
          new double[] {
            Math.min(1, 2 * Math.min(above.applyAsDouble(m), below.applyAsDouble(-m))),
            Math.max(below.applyAsDouble(m), above.applyAsDouble(-m))
          };
    };
  }

  /** Corrects the gating metrics' p-values as one family; the others keep their raw ones. */
  private void adjust(List<Judgement> judged) {
    List<Judgement> gating = judged.stream().filter(j -> gates(j.rule)).toList();
    double[] red = policy.correction().adjust(gating.stream().mapToDouble(j -> j.red).toArray());
    double[] green =
        policy.correction().adjust(gating.stream().mapToDouble(j -> j.green).toArray());
    for (int i = 0; i < gating.size(); i++) {
      gating.get(i).adjustedRed = red[i];
      gating.get(i).adjustedGreen = green[i];
    }
    for (Judgement j : judged) {
      if (!gates(j.rule)) {
        j.adjustedRed = j.red;
        j.adjustedGreen = j.green;
      }
    }
  }

  private MetricValue value(
      Judgement j,
      Map<String, Double> candidateValues,
      Map<String, Double> baselineValues,
      int rows,
      String where) {
    double candidate = candidateValues.get(j.metric);
    double p = j.status == Flag.RED ? j.adjustedRed : j.adjustedGreen;
    MetricValue.Builder builder =
        MetricValue.builder()
            .value(candidate)
            .n(rows)
            .direction(j.rule.direction().wireName())
            .gating(gates(j.rule))
            .pValue(p)
            .status(j.status);
    if (j.interval != null) {
      builder
          .ciLow(j.interval.low())
          .ciHigh(j.interval.high())
          .ciConfidence(j.interval.confidence());
    }
    if (j.rule.hasLimit()) {
      j.sentence =
          Evidence.sequentialLimitSentence(
              j.metric,
              j.status,
              gates(j.rule),
              j.rule.direction(),
              j.rule.limit(),
              candidate,
              j.interval,
              j.boundLevel,
              j.adjustedRed,
              j.adjustedGreen,
              policy.correction(),
              policy.lookAlpha(),
              where);
      return builder.limit(j.rule.limit()).evidence(j.sentence).build();
    }
    double baseline = baselineValues.get(j.metric);
    // A baseline of 0 has no relative change; its form is unavailable, and the value reports none.
    double change = baseline == 0 ? Double.NaN : (candidate - baseline) / Math.abs(baseline);
    j.sentence =
        Evidence.sequentialSentence(
            j.metric,
            j.status,
            gates(j.rule),
            j.rule.direction(),
            j.rule.margin(),
            baseline,
            candidate,
            change,
            j.interval,
            j.boundLevel,
            j.adjustedRed,
            j.adjustedGreen,
            policy.correction(),
            policy.lookAlpha(),
            where);
    return builder
        .baseline(baseline)
        .delta(candidate - baseline)
        .relativeDelta(Double.isFinite(change) ? change : null)
        .margin(j.rule.margin())
        .evidence(j.sentence)
        .build();
  }

  /** "2.00% margin", "limit of at most 0.05". */
  private static String bound(Judgement j) {
    if (j.rule.hasLimit()) {
      return "limit of "
          + (j.rule.direction() == Direction.HIGHER_IS_BETTER ? "at least " : "at most ")
          + trimmed(j.rule.limit());
    }
    return Evidence.percent(j.rule.margin())
        + " margin"
        + (j.rule.direction() == Direction.TWO_SIDED ? " either way" : "");
  }

  /** The confidence sequence and the deciding p-value, for a one-line reason. */
  private String detail(Judgement j) {
    String adjusted =
        gates(j.rule) && policy.correction() != Correction.NONE
            ? policy.correction().wireName() + "-adjusted anytime p"
            : "anytime p";
    double p = j.status == Flag.GREEN ? j.adjustedGreen : j.adjustedRed;
    if (j.status == Flag.WARN) {
      return String.format(
          Locale.ROOT,
          "confidence sequence %s (%s beyond %s, within %s)",
          Evidence.sequentialRange(j.rule.direction(), j.interval, j.rule.hasLimit()),
          adjusted,
          p(j.adjustedRed),
          p(j.adjustedGreen));
    }
    return String.format(
        Locale.ROOT,
        "confidence sequence %s, %s=%s ≤ α=%s",
        Evidence.sequentialRange(j.rule.direction(), j.interval, j.rule.hasLimit()),
        adjusted,
        p(p),
        trimmed(policy.lookAlpha()));
  }

  private static String p(double p) {
    return String.format(Locale.ROOT, "%.4f", p);
  }

  private static String trimmed(double value) {
    return new java.math.BigDecimal(String.format(Locale.ROOT, "%.4f", value))
        .stripTrailingZeros()
        .toPlainString();
  }

  /** Whether the run measures {@code metric} as the fixed-sample decision would judge it. */
  private static boolean measured(
      String metric,
      MetricPolicy rule,
      Map<String, Double> candidate,
      Map<String, Double> baseline) {
    if (rule.hasLimit()) {
      // A percentile over tokens comes from the run's sketches, which come with the token shift.
      return candidate.containsKey(metric)
          || (MetricNames.KL_P99.equals(metric) && candidate.containsKey(MetricNames.KL_MEAN));
    }
    return candidate.containsKey(metric) && baseline.containsKey(metric);
  }

  private Direction direction(String metric) {
    MetricPolicy rule = policy.metrics().get(metric);
    return rule != null ? rule.direction() : Task.direction(metric);
  }

  private static Map<String, double[]> prefix(Map<String, double[]> columns, int rows) {
    Map<String, double[]> prefix = new LinkedHashMap<>();
    columns.forEach((name, column) -> prefix.put(name, Arrays.copyOf(column, rows)));
    return prefix;
  }

  private static int checkedRows(
      Map<String, double[]> baselineRows,
      Map<String, double[]> candidateRows,
      int units,
      long rowsTotal,
      int looksSoFar) {
    Objects.requireNonNull(baselineRows, "baselineRows");
    Objects.requireNonNull(candidateRows, "candidateRows");
    if (units < 1) {
      throw new IllegalArgumentException("a sampling unit holds at least 1 row, was " + units);
    }
    if (looksSoFar < 0) {
      throw new IllegalArgumentException("looksSoFar must be >= 0, was " + looksSoFar);
    }
    int rows = -1;
    for (var column : candidateRows.entrySet()) {
      if (rows < 0) {
        rows = column.getValue().length;
      } else if (column.getValue().length != rows) {
        throw new IllegalArgumentException(
            "candidate column "
                + column.getKey()
                + " has "
                + column.getValue().length
                + " rows, the others "
                + rows);
      }
    }
    rows = Math.max(rows, 0);
    for (var column : baselineRows.entrySet()) {
      if (column.getValue().length != rows) {
        throw new IllegalArgumentException(
            "baseline column "
                + column.getKey()
                + " has "
                + column.getValue().length
                + " rows, the candidate's prefix "
                + rows
                + "; the runs' rows do not pair up");
      }
    }
    if (rows > rowsTotal) {
      throw new IllegalArgumentException(
          "the prefix holds " + rows + " rows, more than the run's " + rowsTotal);
    }
    return rows;
  }
}
