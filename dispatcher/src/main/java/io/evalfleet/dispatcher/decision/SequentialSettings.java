package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Whether and how a run may stop early (see {@link SequentialDecider}): the policy's {@code
 * "sequential"} object and each metric's {@code "sequential"} switch.
 *
 * @param enabled whether the dispatcher looks at completed prefixes at all; off: every row is
 *     scored and the fixed-sample decision alone decides
 * @param minRows fewest sampling units (rows, or blocks of rows) a look needs before it may stop,
 *     at least {@value #MIN_UNITS}: the confidence sequence is asymptotic and its variance is
 *     estimated
 * @param tuningRows the number of units at which the confidence sequence is tightest (its ρ is
 *     tuned there); at least 1
 * @param alphaShare the share of the family's α the looks spend, in (0, 1]; the fixed-sample
 *     decision of a run no look stopped gets the rest ({@link Policy#afterLooks()}), so that a
 *     run's chance of a false RED (or a false GREEN) over its looks and its end together stays at
 *     most α. 1: looks and end each at α, which bounds the whole only by 2α
 * @param metrics each metric's own switch, by name, as the policy file states it; a metric not
 *     named is judged at each look when it is a mean of per-row values ({@link #judgeable})
 * @throws InvalidPolicyException listing every bad value
 */
public record SequentialSettings(
    boolean enabled, int minRows, int tuningRows, double alphaShare, Map<String, Boolean> metrics) {

  /** Below this many units the estimated variance of the per-unit values is not trusted. */
  public static final int MIN_UNITS = 20;

  /** {@code min_rows} when a policy's "sequential" object leaves it out. */
  public static final int DEFAULT_MIN_ROWS = 100;

  /** {@code tuning_rows} when a policy's "sequential" object leaves it out. */
  public static final int DEFAULT_TUNING_ROWS = 1000;

  /**
   * {@code alpha_share} when a policy's "sequential" object leaves it out: half of α for the looks,
   * half for the fixed decision of a run no look stopped.
   */
  public static final double DEFAULT_ALPHA_SHARE = 0.5;

  /** Early stopping off: the behaviour of a policy that has no {@code "sequential"} object. */
  public static final SequentialSettings DISABLED =
      new SequentialSettings(false, 100, 1000, 1, Map.of());

  /** Metrics that are a mean, or a ratio of sums, of per-row values: a look can judge them. */
  private static final Set<String> JUDGEABLE =
      Set.of(
          MetricNames.MEAN_COSINE,
          MetricNames.PERPLEXITY,
          MetricNames.BITS_PER_BYTE,
          MetricNames.KL_MEAN,
          MetricNames.TOP1_AGREEMENT,
          MetricNames.DP_TRUE_MEAN,
          MetricNames.NDCG_AT_10,
          MetricNames.MRR_AT_10,
          MetricNames.INDEX_LOSS,
          MetricNames.OVERLAP_AT_10,
          MetricNames.TEXT_COSINE);

  public SequentialSettings {
    List<String> problems = problems(minRows, tuningRows, alphaShare, metrics);
    if (!problems.isEmpty()) {
      throw new InvalidPolicyException("sequential settings", problems);
    }
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  /** Settings with the whole α spent by the looks. */
  public SequentialSettings(
      boolean enabled, int minRows, int tuningRows, Map<String, Boolean> metrics) {
    this(enabled, minRows, tuningRows, 1, metrics);
  }

  /** Early stopping on, every judgeable metric judged at each look, the looks spending all of α. */
  public static SequentialSettings enabled(int minRows, int tuningRows) {
    return new SequentialSettings(true, minRows, tuningRows, 1, Map.of());
  }

  /** These settings with the looks spending {@code share} of α. */
  public SequentialSettings withAlphaShare(double share) {
    return new SequentialSettings(enabled, minRows, tuningRows, share, metrics);
  }

  /**
   * Whether a look judges {@code metric}: early stopping is on, the metric is a mean of per-row
   * values, and the policy did not switch it off.
   */
  public boolean covers(String metric) {
    return enabled && judgeable(metric) && metrics.getOrDefault(metric, true);
  }

  /**
   * Whether {@code metric} is a mean or a ratio of sums of per-row values, so that a confidence
   * sequence over its rows exists. Spearman (a rank correlation over all rows) and percentiles over
   * tokens ({@code kl_p99}) are not.
   */
  public static boolean judgeable(String metric) {
    return JUDGEABLE.contains(metric)
        || RetrievalTask.RECALL_CUTOFFS.stream()
            .anyMatch(k -> RetrievalTask.recall(k).equals(metric));
  }

  /** Why a look cannot judge {@code metric}, for messages. */
  static String whyNotJudgeable(String metric) {
    if (MetricNames.SPEARMAN.equals(metric)) {
      return "a rank correlation over all rows, not a mean of per-row values";
    }
    if (MetricNames.KL_P99.equals(metric)) {
      return "a percentile over tokens, not a mean of per-row values";
    }
    return "not a mean of per-row values";
  }

  /** Every problem with the numbers, each naming its field and value; nulls are skipped. */
  static List<String> problems(
      Integer minRows, Integer tuningRows, Double alphaShare, Map<String, Boolean> metrics) {
    List<String> problems = new ArrayList<>();
    if (alphaShare != null && !(alphaShare > 0 && alphaShare <= 1)) {
      problems.add(
          String.format(
              Locale.ROOT, "sequential.alpha_share must be in (0, 1], was %s", alphaShare));
    }
    if (minRows != null && minRows < MIN_UNITS) {
      problems.add(
          String.format(
              Locale.ROOT,
              "sequential.min_rows must be at least %d (the confidence sequence is asymptotic), was"
                  + " %d",
              MIN_UNITS,
              minRows));
    }
    if (tuningRows != null && tuningRows < 1) {
      problems.add(
          String.format(
              Locale.ROOT, "sequential.tuning_rows must be at least 1, was %d", tuningRows));
    }
    if (metrics == null) {
      problems.add("sequential metric switches are missing");
    } else {
      metrics.forEach(
          (name, on) -> {
            if (Boolean.TRUE.equals(on) && !judgeable(name)) {
              problems.add(metricProblem("metrics." + name + ".sequential", name));
            }
          });
    }
    return problems;
  }

  static String metricProblem(String field, String metric) {
    return field
        + " is true, but "
        + metric
        + " is "
        + whyNotJudgeable(metric)
        + ", so no look can judge it; set it false or leave it out";
  }
}
