package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.task.Direction;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TokenSketch;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.DoublePredicate;
import java.util.stream.IntStream;
import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * The one place a run's flag is decided from its scores: whether a candidate may replace its
 * baseline, metric by metric, under a {@link Policy}; WARN without a baseline; RED when the
 * signature gate fails. (ERROR and INCOMPLETE are not decisions on scores: the dispatcher sets them
 * when a run cannot be scored.)
 *
 * <p>For each metric the paired bootstrap gives the distribution of the relative change, turned
 * into badness (positive = worse; |change| for two-sided metrics). Two one-sided tests against the
 * metric's margin m follow: "degraded" (H0: badness ≤ m) and "non-inferior" (H0: badness ≥ m), each
 * with p = (1 + #resamples on the H0 side)/(1 + resamples). The p-values of the gating metrics are
 * corrected per test family (Holm by default) so the family error rate stays at α = 1 −
 * family_confidence; a non-gating metric is tested alone at α and only reported.
 *
 * <p>Status: RED when degradation is significant; GREEN when non-inferiority is significant and the
 * candidate's value lies within its production band (or there is no band yet); WARN otherwise. The
 * flag is the worst gating status, WARN when no gating metric could be compared.
 *
 * <p>A metric with a limit (the token shift: already a comparison with the baseline) is judged on
 * its own value with the same two one-sided tests, "beyond the limit" and "within the limit": a
 * mean by the one-sample bootstrap over rows (the same draws as the paired one), a percentile over
 * tokens by the binomial test of how many tokens lie at or below the limit. Its p-values join the
 * gating family.
 *
 * <p>A metric whose policy gates it only for some kinds of change (the token shift: for changes
 * that must preserve behaviour) gates for a decider {@link #forChangeKind for} one of those kinds;
 * for another kind it is decided and reported like a non-gating metric, and the reasons say so. A
 * decider of no known kind gates it as for any of its kinds.
 *
 * <p>Immutable and thread-safe; a decision is a pure function of the rows, history and policy.
 */
public final class Decider {
  private final Policy policy;

  /** Per metric, the relative noise floor its tests are widened by; empty for most decisions. */
  private final Map<String, Double> widening;

  /** The kind of change judged; null when not known. */
  private final ChangeKind changeKind;

  public Decider(Policy policy) {
    this(policy, Map.of(), null);
  }

  private Decider(Policy policy, Map<String, Double> widening, ChangeKind changeKind) {
    this.policy = policy;
    this.widening = Map.copyOf(widening);
    this.changeKind = changeKind;
  }

  /**
   * This decider with each named metric's tests widened by its relative noise floor w (see {@link
   * NoiseFloor}): "degraded" tests against margin + w, "non-inferior" against margin − w, and the
   * interval reported is widened by w on each side, so that a change no larger than the noise
   * between two scoring envelopes flips the status neither way.
   */
  public Decider widenedBy(Map<String, Double> floors) {
    return new Decider(policy, floors, changeKind);
  }

  /**
   * A decider of the same policy for a candidate that is a change of {@code kind} (null: not known)
   * to its baseline.
   */
  public Decider forChangeKind(ChangeKind kind) {
    return new Decider(policy, widening, kind);
  }

  /** Whether {@code rule} gates for this decider's kind of change. */
  private boolean gates(MetricPolicy rule) {
    return rule.gates(changeKind);
  }

  /** A decider under the classpath default policy. */
  public static Decider withDefaultPolicy() {
    return new Decider(PolicyFile.defaults());
  }

  /**
   * @param baselineRows per-row values of the baseline, by {@link MetricNames} name
   * @param candidateRows per-row values of the candidate on the same rows in the same order
   * @param history per metric: its values in recent production snapshots, oldest first; a missing
   *     metric has no band
   * @throws IllegalArgumentException when the two runs' rows do not pair up
   */
  public DecisionReport decide(
      Map<String, double[]> baselineRows,
      Map<String, double[]> candidateRows,
      Map<String, List<Double>> history) {
    return decide(baselineRows, candidateRows, history, Map.of());
  }

  /**
   * As {@link #decide(Map, Map, Map)}, with metrics that must not be compared (perplexity under
   * another tokenizer): they are computed and reported, but decide nothing.
   *
   * @param notComparable metric names, with why they are not compared
   */
  public DecisionReport decide(
      Map<String, double[]> baselineRows,
      Map<String, double[]> candidateRows,
      Map<String, List<Double>> history,
      Map<String, String> notComparable) {
    return decide(baselineRows, candidateRows, Map.of(), history, notComparable);
  }

  /**
   * As {@link #decide(Map, Map, Map, Map)}, with the candidate's token sketches, for the
   * percentiles over tokens of metrics judged against a limit.
   */
  public DecisionReport decide(
      Map<String, double[]> baselineRows,
      Map<String, double[]> candidateRows,
      Map<String, TokenSketch> candidateSketches,
      Map<String, List<Double>> history,
      Map<String, String> notComparable) {
    // The baseline's own comparison with its predecessor (its token shift) is not the candidate's
    // to pair with.
    Map<String, double[]> baselineOwn = new LinkedHashMap<>(baselineRows);
    baselineOwn.keySet().removeIf(Task::isComparisonValue);
    BootstrapResult bootstrap =
        new PairedBootstrap(policy.bootstrapResamples(), policy.seed())
            .resample(baselineOwn, candidateRows);
    Map<String, TokenPercentile> percentiles = percentiles(candidateSketches);
    List<String> decided = new ArrayList<>();
    for (var rule : policy.metrics().entrySet()) {
      String name = rule.getKey();
      boolean available =
          rule.getValue().hasLimit()
              ? bootstrap.resampledValues().containsKey(name) || percentiles.containsKey(name)
              : bootstrap.resampledChanges().containsKey(name);
      if (available) {
        decided.add(name);
      }
    }
    List<String> gates =
        decided.stream()
            .filter(name -> gates(policy.metrics().get(name)) && !notComparable.containsKey(name))
            .toList();

    double[] rawDegraded = new double[decided.size()];
    double[] rawNonInferior = new double[decided.size()];
    for (int i = 0; i < decided.size(); i++) {
      String metric = decided.get(i);
      MetricPolicy rule = policy.metrics().get(metric);
      if (percentiles.containsKey(metric)) {
        double[] p = percentiles.get(metric).pValues(rule);
        rawDegraded[i] = p[0];
        rawNonInferior[i] = p[1];
      } else if (rule.hasLimit()) {
        double[] beyond =
            Arrays.stream(bootstrap.resampledValues().get(metric)).map(rule::beyondLimit).toArray();
        rawDegraded[i] = pValue(beyond, b -> b <= 0);
        rawNonInferior[i] = pValue(beyond, b -> b >= 0);
      } else {
        double[] badness = badness(metric, bootstrap);
        double margin = rule.margin();
        double floor = widening.getOrDefault(metric, 0.0);
        rawDegraded[i] = pValue(badness, b -> b <= margin + floor);
        rawNonInferior[i] = pValue(badness, b -> b >= margin - floor);
      }
    }
    double[] adjustedDegraded = adjustGates(decided, rawDegraded);
    double[] adjustedNonInferior = adjustGates(decided, rawNonInferior);

    Map<String, MetricDecision> decisions = new LinkedHashMap<>();
    List<String> reasons = new ArrayList<>();
    Flag flag = gates.isEmpty() ? Flag.WARN : Flag.GREEN;
    for (int i = 0; i < decided.size(); i++) {
      String metric = decided.get(i);
      SignificanceTest degraded = test(rawDegraded[i], adjustedDegraded[i]);
      SignificanceTest nonInferior = test(rawNonInferior[i], adjustedNonInferior[i]);
      MetricDecision decision =
          policy.metrics().get(metric).hasLimit()
              ? decideAgainstLimit(
                  metric,
                  bootstrap,
                  percentiles.get(metric),
                  gates.size(),
                  degraded,
                  nonInferior,
                  candidateRows)
              : decide(
                  metric,
                  bootstrap,
                  gates.size(),
                  degraded,
                  nonInferior,
                  history.getOrDefault(metric, List.of()),
                  baselineRows);
      decisions.put(metric, decision);
      String why = notComparable.get(metric);
      if (why != null) {
        reasons.add(metric + " not compared: " + why);
        continue;
      }
      reasons.add(decision.sentence());
      if (decision.bandSentence() != null) {
        reasons.add(decision.bandSentence());
      }
      if (decision.gating()) {
        flag = Flag.worst(flag, decision.status());
      }
    }
    notGatedForThisKind(decided, notComparable).ifPresent(reasons::add);
    if (gates.isEmpty()) {
      reasons.add(
          "no gating metric of policy "
              + policy.policyVersion()
              + " could be compared "
              + bootstrap.resampledChanges().keySet()
              + "; nothing decided the flag");
    }
    List<String> measured = new ArrayList<>(bootstrap.resampledChanges().keySet());
    measured.addAll(bootstrap.resampledValues().keySet());
    measured.addAll(percentiles.keySet());
    for (String metric : measured) {
      if (!policy.metrics().containsKey(metric)) {
        reasons.add(metric + " has no entry in policy " + policy.policyVersion() + "; not decided");
      } else if (!decided.contains(metric)) {
        reasons.add(
            metric
                + (policy.metrics().get(metric).hasLimit()
                    ? " is judged on its own value in policy "
                        + policy.policyVersion()
                        + ", but has a limit only for a value"
                        + " measured against the baseline; not decided"
                    : " has a limit in policy "
                        + policy.policyVersion()
                        + ", but is compared with the baseline; not decided"));
      }
    }
    return new DecisionReport(
        flag, policy.policyVersion(), decisions, reasons, bootstrap.resamples(), bootstrap.seed());
  }

  /**
   * The sentence naming the decided metrics that gate for other kinds of change than this one (the
   * token shift of a retrain), or empty when there are none.
   */
  private Optional<String> notGatedForThisKind(
      List<String> decided, Map<String, String> notComparable) {
    List<String> reported =
        decided.stream()
            .filter(name -> !notComparable.containsKey(name))
            .filter(name -> policy.metrics().get(name).gate() && !gates(policy.metrics().get(name)))
            .toList();
    if (reported.isEmpty()) {
      return Optional.empty();
    }
    String what = TOKEN_SHIFT.containsAll(reported) ? "token shift" : String.join(", ", reported);
    return Optional.of(
        what
            + " reported, not gated: change kind "
            + changeKind.wireName()
            + " (policy "
            + policy.policyVersion()
            + " gates "
            + String.join(", ", reported)
            + " only for "
            + policy.metrics().get(reported.get(0)).gateForNames()
            + ")");
  }

  /** The metrics of a causal LM's token shift against its baseline. */
  public static final List<String> TOKEN_SHIFT =
      List.of(MetricNames.KL_MEAN, MetricNames.KL_P99, MetricNames.TOP1_AGREEMENT);

  private MetricDecision decide(
      String metric,
      BootstrapResult bootstrap,
      int gateCount,
      SignificanceTest degraded,
      SignificanceTest nonInferior,
      List<Double> snapshots,
      Map<String, double[]> rows) {
    MetricPolicy rule = policy.metrics().get(metric);
    double confidence =
        gates(rule)
            ? policy.correction().intervalConfidence(policy.alpha(), gateCount)
            : 1 - policy.alpha();
    Interval interval =
        widened(interval(bootstrap.resampledChanges().get(metric), confidence), metric);
    double candidate = bootstrap.candidate().get(metric);
    // Never narrower than the margin: the band is a second signal, not a stricter gate.
    Optional<VarianceBand> band =
        VarianceBand.of(snapshots, policy.bandK(), policy.bandMinSnapshots(), policy.bandWindow())
            .map(b -> b.atLeast(rule.margin()));
    boolean insideBand = band.map(b -> b.contains(candidate)).orElse(true);
    Flag status =
        degraded.significant()
            ? Flag.RED
            : nonInferior.significant() && insideBand ? Flag.GREEN : Flag.WARN;
    SampleSize sample = sampleSize(metric, bootstrap.rows(), rows);
    String sentence =
        Evidence.sentence(
            metric,
            status,
            gates(rule),
            rule.direction(),
            rule.margin(),
            bootstrap.baseline().get(metric),
            candidate,
            bootstrap.observedChange(metric),
            interval,
            degraded,
            nonInferior,
            sample,
            bootstrap.resamples(),
            bootstrap.seed(),
            policy.correction(),
            policy.alpha(),
            !insideBand);
    String bandSentence =
        Evidence.bandSentence(
            metric,
            candidate,
            band.orElse(null),
            Math.min(snapshots.size(), policy.bandWindow()),
            policy.bandMinSnapshots());
    return new MetricDecision(
        metric,
        status,
        gates(rule),
        rule.direction(),
        rule.margin(),
        bootstrap.baseline().get(metric),
        candidate,
        bootstrap.observedChange(metric),
        interval,
        degraded,
        nonInferior,
        sample,
        band.orElse(null),
        sentence,
        bandSentence);
  }

  /**
   * A metric judged against its limit: the interval bounds its value (the percentile bootstrap of a
   * mean over rows, or the order-statistic interval of a percentile over tokens).
   */
  private MetricDecision decideAgainstLimit(
      String metric,
      BootstrapResult bootstrap,
      TokenPercentile percentile,
      int gateCount,
      SignificanceTest beyond,
      SignificanceTest within,
      Map<String, double[]> rows) {
    MetricPolicy rule = policy.metrics().get(metric);
    double confidence =
        gates(rule)
            ? policy.correction().intervalConfidence(policy.alpha(), gateCount)
            : 1 - policy.alpha();
    double value;
    Interval interval;
    String method;
    if (percentile != null) {
      value = percentile.value();
      interval = percentile.interval(confidence);
      method = "order-statistic interval over tokens";
    } else {
      value = bootstrap.candidate().get(metric);
      interval = interval(bootstrap.resampledValues().get(metric), confidence);
      method =
          String.format(
              Locale.ROOT,
              "bootstrap over rows %d×, seed %d",
              bootstrap.resamples(),
              bootstrap.seed());
    }
    Flag status = beyond.significant() ? Flag.RED : within.significant() ? Flag.GREEN : Flag.WARN;
    SampleSize sample = new SampleSize(bootstrap.rows(), total(rows.get(MetricNames.TOKENS)), null);
    String sentence =
        Evidence.limitSentence(
            metric,
            status,
            gates(rule),
            rule.direction(),
            rule.limit(),
            value,
            interval,
            beyond,
            within,
            sample,
            method,
            policy.correction(),
            policy.alpha());
    return new MetricDecision(
        metric,
        status,
        gates(rule),
        rule.direction(),
        0,
        Double.NaN,
        value,
        rule.beyondLimit(value),
        interval,
        beyond,
        within,
        sample,
        null,
        sentence,
        null);
  }

  private Interval widened(Interval interval, String metric) {
    double floor = widening.getOrDefault(metric, 0.0);
    return floor == 0
        ? interval
        : new Interval(interval.low() - floor, interval.high() + floor, interval.confidence());
  }

  /** The percentiles over tokens the candidate's sketches give, by metric name. */
  private static Map<String, TokenPercentile> percentiles(Map<String, TokenSketch> sketches) {
    TokenSketch kl = sketches.get(MetricNames.KL_TOKENS);
    if (kl == null || kl.isEmpty()) {
      return Map.of();
    }
    return Map.of(MetricNames.KL_P99, new TokenPercentile(kl, 0.99));
  }

  /**
   * The {@code q}-quantile of a value over tokens, tested against a limit by how many tokens lie at
   * or below it: with F the share of tokens at or below the limit, "the quantile is within the
   * limit" is F ≥ q, and the count is binomial. Tokens are treated as independent draws, so the
   * interval is narrower than one that resamples rows would be.
   */
  record TokenPercentile(TokenSketch sketch, double q) {
    double value() {
      return sketch.quantile(q);
    }

    /** {p of "beyond the limit" (H0: within), p of "within the limit" (H0: beyond)}. */
    double[] pValues(MetricPolicy rule) {
      long n = sketch.count();
      long atOrBelow = sketch.countAtMost(rule.limit());
      var binomial = new BinomialDistribution(null, Math.toIntExact(n), q);
      double beyond = binomial.cumulativeProbability(Math.toIntExact(atOrBelow));
      double within =
          atOrBelow == 0 ? 1 : 1 - binomial.cumulativeProbability(Math.toIntExact(atOrBelow - 1));
      if (rule.direction() == Direction.HIGHER_IS_BETTER) {
        return new double[] {within, beyond};
      }
      return new double[] {beyond, within};
    }

    /** The distribution-free interval between the order statistics around rank n·q. */
    Interval interval(double confidence) {
      long n = sketch.count();
      double z =
          new NormalDistribution(null, 0, 1).inverseCumulativeProbability(1 - (1 - confidence) / 2);
      double spread = z * Math.sqrt(n * q * (1 - q));
      double last = Math.max(1, n - 1);
      double low = Math.max(0, Math.floor(n * q - spread)) / last;
      double high = Math.min(last, Math.ceil(n * q + spread)) / last;
      return new Interval(
          sketch.quantile(Math.min(1, low)), sketch.quantile(Math.min(1, high)), confidence);
    }
  }

  /** Badness of each resample: positive is worse, |change| for a two-sided metric. */
  private double[] badness(String metric, BootstrapResult bootstrap) {
    Direction direction = policy.metrics().get(metric).direction();
    return Arrays.stream(bootstrap.resampledChanges().get(metric))
        .map(direction::badness)
        .toArray();
  }

  /**
   * Corrects the gating metrics' p-values as one family; a non-gating metric keeps its raw p-value.
   */
  private double[] adjustGates(List<String> decided, double[] raw) {
    double[] adjusted = raw.clone();
    int[] gateIndexes =
        IntStream.range(0, decided.size())
            .filter(i -> gates(policy.metrics().get(decided.get(i))))
            .toArray();
    double[] gated = Arrays.stream(gateIndexes).mapToDouble(i -> raw[i]).toArray();
    double[] corrected = policy.correction().adjust(gated);
    for (int g = 0; g < gateIndexes.length; g++) {
      adjusted[gateIndexes[g]] = corrected[g];
    }
    return adjusted;
  }

  private SignificanceTest test(double raw, double adjusted) {
    return new SignificanceTest(raw, adjusted, adjusted <= policy.alpha());
  }

  /** (1 + #resamples consistent with H0) / (1 + resamples): the Monte Carlo p-value, never 0. */
  static double pValue(double[] badness, DoublePredicate supportsNull) {
    long support = Arrays.stream(badness).filter(supportsNull).count();
    return (1.0 + support) / (1.0 + badness.length);
  }

  /**
   * Two-sided percentile interval at {@code confidence}, by linear interpolation between order
   * statistics.
   */
  static Interval interval(double[] changes, double confidence) {
    double[] sorted = changes.clone();
    Arrays.sort(sorted);
    double tail = (1 - confidence) / 2;
    return new Interval(quantile(sorted, tail), quantile(sorted, 1 - tail), confidence);
  }

  static double quantile(double[] sorted, double probability) {
    double position = probability * (sorted.length - 1);
    int below = (int) Math.floor(position);
    int above = Math.min(below + 1, sorted.length - 1);
    double fraction = position - below;
    // Equal neighbours give their value exactly, so an unchanged candidate has the interval [0, 0].
    return sorted[below] == sorted[above]
        ? sorted[below]
        : sorted[below] + fraction * (sorted[above] - sorted[below]);
  }

  private static SampleSize sampleSize(String metric, int rows, Map<String, double[]> values) {
    Long tokens =
        MetricNames.PERPLEXITY.equals(metric) ? total(values.get(MetricNames.TOKENS)) : null;
    Long bytes =
        MetricNames.BITS_PER_BYTE.equals(metric) ? total(values.get(MetricNames.BYTES)) : null;
    return new SampleSize(rows, tokens, bytes);
  }

  private static Long total(double[] column) {
    return column == null ? null : Math.round(Arrays.stream(column).sum());
  }

  /** The verdict without a baseline: WARN, since nothing could be compared. */
  public Verdict withoutBaseline(MetricVector vector, String why) {
    return new Verdict(Flag.WARN, alone(vector), List.of(why));
  }

  /**
   * The signature gate: a model whose inputs or outputs changed (with the same tokenizer) is not a
   * drop-in replacement for its baseline, whatever its metrics say: RED.
   */
  public Verdict signatureChanged(
      MetricVector vector,
      String baselineVersion,
      String baselineSignature,
      String candidateSignature) {
    return new Verdict(
        Flag.RED,
        alone(vector),
        List.of(
            "signature gate: the model's inputs or outputs changed, so it"
                + " is not a drop-in replacement for baseline version "
                + baselineVersion
                + ": baseline "
                + baselineSignature
                + "; candidate "
                + candidateSignature));
  }

  /**
   * The verdict on a run against its baseline's rows: the paired decision, each metric's value with
   * its comparison, and the evidence.
   *
   * @param history per metric, its values in the model's production snapshots, oldest first
   * @param notComparable metrics that must not be compared with the baseline, with why
   * @throws IllegalArgumentException when the runs' rows do not pair up
   */
  public Verdict compare(
      MetricVector vector,
      String baselineVersion,
      Map<String, double[]> baselineRows,
      Map<String, List<Double>> history,
      Map<String, String> notComparable) {
    DecisionReport report =
        decide(baselineRows, vector.rowValues(), vector.sketches(), history, notComparable);
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    for (MetricDecision decision : report.metrics().values()) {
      metrics.put(
          decision.metric(),
          notComparable.containsKey(decision.metric())
              ? MetricValue.alone(
                  decision.candidateValue(), vector.rows(), decision.direction().wireName())
              : policy.metrics().get(decision.metric()).hasLimit()
                  ? limitValue(
                      decision, policy.metrics().get(decision.metric()).limit(), vector.rows())
                  : value(decision, vector.rows()));
    }
    alone(vector).forEach(metrics::putIfAbsent);
    List<String> reasons = new ArrayList<>(report.reasons());
    reasons.add(
        String.format(
            Locale.ROOT,
            "decided by policy %s against baseline version %s: paired bootstrap over the"
                + " same %d golden rows (%d resamples, seed %d), %s correction across the gating metrics at %s%% family"
                + " confidence",
            policy.policyVersion(),
            baselineVersion,
            vector.rows(),
            report.resamples(),
            report.seed(),
            policy.correction().name().toLowerCase(Locale.ROOT),
            new BigDecimal(100 * policy.familyConfidence())
                .round(new MathContext(4))
                .stripTrailingZeros()
                .toPlainString()));
    return new Verdict(report.flag(), metrics, reasons);
  }

  private Map<String, MetricValue> alone(MetricVector vector) {
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    vector
        .metrics()
        .forEach(
            (name, value) ->
                metrics.put(
                    name, MetricValue.alone(value, vector.rows(), direction(name).wireName())));
    return metrics;
  }

  /** The policy's direction for a metric it names, else the direction its task defines. */
  private Direction direction(String metric) {
    MetricPolicy rule = policy.metrics().get(metric);
    return rule != null ? rule.direction() : Task.direction(metric);
  }

  private static MetricValue limitValue(MetricDecision d, double limit, long rows) {
    double p =
        d.status() == Flag.RED ? d.degraded().adjustedPValue() : d.nonInferior().adjustedPValue();
    return MetricValue.builder()
        .value(d.candidateValue())
        .n(rows)
        .direction(d.direction().wireName())
        .ciLow(d.interval().low())
        .ciHigh(d.interval().high())
        .ciConfidence(d.interval().confidence())
        .gating(d.gating())
        .pValue(p)
        .status(d.status())
        .evidence(d.sentence())
        .limit(limit)
        .build();
  }

  private static MetricValue value(MetricDecision d, long rows) {
    double p =
        d.status() == Flag.RED ? d.degraded().adjustedPValue() : d.nonInferior().adjustedPValue();
    return MetricValue.builder()
        .value(d.candidateValue())
        .n(rows)
        .direction(d.direction().wireName())
        .baseline(d.baselineValue())
        .delta(d.candidateValue() - d.baselineValue())
        .relativeDelta(d.estimate())
        .ciLow(d.interval().low())
        .ciHigh(d.interval().high())
        .ciConfidence(d.interval().confidence())
        .margin(d.margin())
        .gating(d.gating())
        .pValue(p)
        .bandLow(d.band() == null ? null : d.band().low())
        .bandHigh(d.band() == null ? null : d.band().high())
        .status(d.status())
        .evidence(d.sentence())
        .build();
  }
}
