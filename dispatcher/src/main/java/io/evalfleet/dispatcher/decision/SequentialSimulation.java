package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.Direction;
import io.evalfleet.common.task.MetricNames;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * Simulated paired runs with a known true change, judged three ways: sequentially as {@link
 * SequentialDecider} does (a look after every shard), by one fixed-sample test on all rows, and by
 * naive peeking (the fixed-sample normal interval checked at every look). What the error rates and
 * the rows saved of early stopping are measured with; the decisions are taken from running sums
 * with the decider's own confidence sequence and tests, so thousands of runs take seconds.
 *
 * <p>Row models, one gating metric each, margin m:
 *
 * <ul>
 *   <li>{@link Rows#PERPLEXITY}: rows of 100–400 tokens, baseline NLL per token ln 10 + N(0, 0.25)
 *       per row, candidate NLL = baseline + tokens·(ln(1 + effect) + N(0, noise)): perplexity's
 *       true relative change is exactly {@code effect};
 *   <li>{@link Rows#NDCG}: per-query values in [0, 1], 25% at 0, 15% at 1, the rest uniform;
 *       candidate = (1 − effect)·baseline + U(−noise, noise): the mean's true relative loss is
 *       exactly {@code effect}.
 * </ul>
 *
 * Stateless and thread-safe.
 */
public final class SequentialSimulation {
  private static final NormalDistribution NORMAL = new NormalDistribution(null, 0, 1);

  private SequentialSimulation() {}

  /** Which per-row values a simulated run has. */
  public enum Rows {
    PERPLEXITY(MetricNames.PERPLEXITY, Direction.LOWER_IS_BETTER, 0.1),
    NDCG(MetricNames.NDCG_AT_10, Direction.HIGHER_IS_BETTER, 0.2);

    private final String metric;
    private final Direction direction;
    private final double defaultNoise;

    Rows(String metric, Direction direction, double defaultNoise) {
      this.metric = metric;
      this.direction = direction;
      this.defaultNoise = defaultNoise;
    }

    public String metric() {
      return metric;
    }

    /** Paired noise: per-token NLL sd for perplexity, the half-width of the uniform for nDCG. */
    public double defaultNoise() {
      return defaultNoise;
    }

    /** A one-metric policy judging this row model's metric against {@code margin}. */
    public Policy policy(double margin, double familyConfidence, SequentialSettings settings) {
      return new Policy(
          "simulation",
          familyConfidence,
          Policy.MIN_RESAMPLES,
          7,
          Correction.HOLM,
          3,
          3,
          10,
          Map.of(metric, new MetricPolicy(direction, margin, true)),
          settings);
    }
  }

  /**
   * How often one way of deciding ended RED, GREEN, or undecided (at the last row), and the mean
   * share of rows it scored.
   */
  public record Arm(double red, double green, double end, double fractionScored) {}

  /**
   * @param effect the true relative change in the bad direction
   * @param sequential the sequential decision; runs that reach the last row undecided count in
   *     {@code end}
   * @param fixed one test on all rows at α (normal approximation of the paired bootstrap)
   * @param peeking the fixed test at every look, stopping at the first RED or GREEN
   * @param sequentialThenFixed the sequential decision, and for runs it left undecided at the last
   *     row the fixed test at the α the looks left ({@link Policy#afterLooks()})
   */
  public record Result(
      Rows rows,
      double effect,
      int runs,
      Arm sequential,
      Arm fixed,
      Arm peeking,
      Arm sequentialThenFixed) {}

  /** One simulated run's per-row values, by {@link MetricNames} name. */
  public record RunColumns(Map<String, double[]> baseline, Map<String, double[]> candidate) {}

  /**
   * One run's columns, from its own seed.
   *
   * @param noise the paired noise ({@link Rows#defaultNoise()})
   */
  public static RunColumns columns(Rows model, double effect, int rows, double noise, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] baseline = new double[rows];
    double[] candidate = new double[rows];
    double[] tokens = model == Rows.PERPLEXITY ? new double[rows] : null;
    for (int i = 0; i < rows; i++) {
      if (model == Rows.PERPLEXITY) {
        tokens[i] = 100 + random.nextInt(301);
        baseline[i] = tokens[i] * (Math.log(10) + 0.25 * random.nextGaussian());
        candidate[i] =
            baseline[i] + tokens[i] * (Math.log1p(effect) + noise * random.nextGaussian());
      } else {
        double u = random.nextDouble();
        baseline[i] = u < 0.25 ? 0 : u < 0.40 ? 1 : random.nextDouble();
        candidate[i] = (1 - effect) * baseline[i] + noise * (2 * random.nextDouble() - 1);
      }
    }
    Map<String, double[]> b = new LinkedHashMap<>();
    Map<String, double[]> c = new LinkedHashMap<>();
    if (model == Rows.PERPLEXITY) {
      b.put(MetricNames.NLL_SUM, baseline);
      b.put(MetricNames.TOKENS, tokens);
      c.put(MetricNames.NLL_SUM, candidate);
      c.put(MetricNames.TOKENS, tokens.clone());
    } else {
      b.put(MetricNames.NDCG_AT_10, baseline);
      c.put(MetricNames.NDCG_AT_10, candidate);
    }
    return new RunColumns(b, c);
  }

  /**
   * Simulates {@code runs} runs of {@code rowsPerRun} rows, a look after every {@code shardRows}
   * rows; run r uses seed {@code seed + r}.
   */
  public static Result run(
      Rows model,
      double effect,
      int runs,
      int rowsPerRun,
      int shardRows,
      Policy policy,
      double noise,
      long seed) {
    MetricPolicy rule = policy.metrics().get(model.metric());
    SequentialSettings settings = policy.sequential();
    double alpha = policy.alpha();
    double lookAlpha = policy.lookAlpha();
    double endAlpha = policy.afterLooks().alpha();
    double rho2 = ConfidenceSequence.rho2(lookAlpha, settings.tuningRows());
    Tally sequential = new Tally();
    Tally fixed = new Tally();
    Tally peeking = new Tally();
    Tally combined = new Tally();
    for (int r = 0; r < runs; r++) {
      RunColumns columns = columns(model, effect, rowsPerRun, noise, seed + r);
      double[] a = new double[rowsPerRun];
      double[] b = new double[rowsPerRun];
      linearise(model, columns, a, b);
      boolean logScale = model == Rows.PERPLEXITY;
      Moments moments = new Moments(logScale);
      int seqStop = 0;
      int seqAt = rowsPerRun;
      int peekStop = 0;
      int peekAt = rowsPerRun;
      for (int i = 0; i < rowsPerRun; i++) {
        moments.add(a[i], b[i]);
        int n = i + 1;
        boolean look = n % shardRows == 0 || n == rowsPerRun;
        if (!look || n < settings.minRows()) {
          continue;
        }
        if (seqStop == 0) {
          double[] p =
              SequentialDecider.redGreen(
                  rule,
                  theta -> moments.anytime(theta, rho2, true),
                  theta -> moments.anytime(theta, rho2, false));
          seqStop = p[0] <= lookAlpha ? 1 : p[1] <= lookAlpha ? 2 : 0;
          seqAt = seqStop == 0 ? rowsPerRun : n;
        }
        if (peekStop == 0) {
          double[] p =
              SequentialDecider.redGreen(
                  rule, theta -> moments.fixed(theta, true), theta -> moments.fixed(theta, false));
          peekStop = p[0] <= alpha ? 1 : p[1] <= alpha ? 2 : 0;
          peekAt = peekStop == 0 ? rowsPerRun : n;
        }
      }
      double[] p =
          SequentialDecider.redGreen(
              rule, theta -> moments.fixed(theta, true), theta -> moments.fixed(theta, false));
      int fixedStop = p[0] <= alpha ? 1 : p[1] <= alpha ? 2 : 0;
      int endStop = p[0] <= endAlpha ? 1 : p[1] <= endAlpha ? 2 : 0;
      sequential.add(seqStop, seqAt / (double) rowsPerRun);
      peeking.add(peekStop, peekAt / (double) rowsPerRun);
      fixed.add(fixedStop, 1);
      combined.add(seqStop != 0 ? seqStop : endStop, seqAt / (double) rowsPerRun);
    }
    return new Result(
        model, effect, runs, sequential.arm(), fixed.arm(), peeking.arm(), combined.arm());
  }

  /** Per-row (a, b) of the model's linearised test, as {@link SequentialForm} builds them. */
  private static void linearise(Rows model, RunColumns columns, double[] a, double[] b) {
    SequentialForm form =
        SequentialForm.margin(model.metric(), columns.baseline(), columns.candidate(), 1, a.length)
            .form();
    System.arraycopy(form.a(), 0, a, 0, a.length);
    System.arraycopy(form.b(), 0, b, 0, b.length);
  }

  /** Outcome counts of one way of deciding. */
  private static final class Tally {
    int runs;
    int red;
    int green;
    double scored;

    void add(int outcome, double fraction) {
      runs++;
      red += outcome == 1 ? 1 : 0;
      green += outcome == 2 ? 1 : 0;
      scored += fraction;
    }

    Arm arm() {
      return new Arm(
          red / (double) runs,
          green / (double) runs,
          (runs - red - green) / (double) runs,
          scored / runs);
    }
  }

  /** Running sums of a and b, giving the mean and sd of a − η·b at any η. */
  private static final class Moments {
    final boolean logScale;
    long n;
    double sa;
    double sb;
    double saa;
    double sab;
    double sbb;

    Moments(boolean logScale) {
      this.logScale = logScale;
    }

    void add(double a, double b) {
      n++;
      sa += a;
      sb += b;
      saa += a * a;
      sab += a * b;
      sbb += b * b;
    }

    /** {mean, sd} of a − η(θ)·b; null where θ has no η. */
    double[] meanSd(double theta) {
      double eta = logScale ? (theta > -1 ? Math.log1p(theta) : Double.NaN) : theta;
      if (Double.isNaN(eta)) {
        return null;
      }
      double mean = (sa - eta * sb) / n;
      double squares = saa - 2 * eta * sab + eta * eta * sbb - n * mean * mean;
      return new double[] {mean, Math.sqrt(Math.max(0, squares) / (n - 1))};
    }

    double anytime(double theta, double rho2, boolean above) {
      double[] m = meanSd(theta);
      if (m == null) {
        return 1;
      }
      return ConfidenceSequence.pValueAbove(above ? m[0] : -m[0], m[1], n, rho2);
    }

    /** One-sided normal p-value of the fixed-sample test. */
    double fixed(double theta, boolean above) {
      double[] m = meanSd(theta);
      if (m == null) {
        return 1;
      }
      if (m[1] == 0) {
        return (above ? m[0] : -m[0]) > 0 ? 0 : 1;
      }
      double t = Math.sqrt(n) * (above ? m[0] : -m[0]) / m[1];
      return 1 - NORMAL.cumulativeProbability(t);
    }
  }
}
