package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.MetricNames;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Realistic per-row values at the demo's sizes: an STS-like embedding set (240 pairs, gold scores
 * 0..5 in five bands, Spearman ≈ 0.87) and a causal-LM text set (40 rows of 100–400 tokens,
 * perplexity ≈ 10), plus candidates derived from a baseline by per-row noise or degradation.
 */
final class GoldenRows {
  static final int STS_PAIRS = 240;
  static final int TEXT_ROWS = 40;

  private GoldenRows() {}

  /**
   * 240 pairs: 48 per gold band [b, b+1), gold in steps of 0.2; cosine = 0.15 + 0.15·gold + N(0,
   * 0.14).
   */
  static Map<String, double[]> sts(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] gold = new double[STS_PAIRS];
    double[] cosine = new double[STS_PAIRS];
    for (int i = 0; i < STS_PAIRS; i++) {
      int band = i % 5;
      gold[i] = Math.min(5, band + 0.2 * random.nextInt(6));
      cosine[i] = clip(0.15 + 0.15 * gold[i] + 0.14 * gaussian(random));
    }
    return columns(MetricNames.COSINE, cosine, MetricNames.GOLD, gold);
  }

  /**
   * 40 rows of 100–400 tokens, ~4.2 bytes a token; per-token nll around ln 10 with row-to-row
   * difficulty.
   */
  static Map<String, double[]> text(long seed) {
    return text(seed, TEXT_ROWS);
  }

  /** {@code rows} rows like {@link #text(long)}'s (the demo's held-out subset has 16). */
  static Map<String, double[]> text(long seed, int rows) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] tokens = new double[rows];
    double[] bytes = new double[rows];
    double[] nll = new double[rows];
    for (int i = 0; i < rows; i++) {
      tokens[i] = 100 + random.nextInt(301);
      bytes[i] = Math.round(tokens[i] * (3.8 + 0.8 * random.nextDouble()));
      nll[i] = tokens[i] * (Math.log(10) + 0.25 * gaussian(random));
    }
    return columns(MetricNames.NLL_SUM, nll, MetricNames.TOKENS, tokens, MetricNames.BYTES, bytes);
  }

  /** The baseline's pairs with zero-mean N(0, sd) noise added to every cosine. */
  static Map<String, double[]> cosineNoise(Map<String, double[]> sts, double sd, long noiseSeed) {
    SplittableRandom random = new SplittableRandom(noiseSeed);
    double[] cosine = sts.get(MetricNames.COSINE).clone();
    for (int i = 0; i < cosine.length; i++) {
      cosine[i] = clip(cosine[i] + sd * gaussian(random));
    }
    return columns(MetricNames.COSINE, cosine, MetricNames.GOLD, sts.get(MetricNames.GOLD));
  }

  /**
   * The baseline's pairs with cosine noise scaled (by bisection on its size) so that Spearman is
   * {@code drop} lower, relatively, than the baseline's: the candidate ranks pairs less well.
   */
  static Map<String, double[]> spearmanDrop(
      Map<String, double[]> sts, double drop, long noiseSeed) {
    double target = spearman(sts) * (1 - drop);
    double low = 0;
    double high = 1;
    for (int step = 0; step < 60; step++) {
      double sd = (low + high) / 2;
      if (spearman(cosineNoise(sts, sd, noiseSeed)) > target) {
        low = sd;
      } else {
        high = sd;
      }
    }
    return cosineNoise(sts, (low + high) / 2, noiseSeed);
  }

  /**
   * The text rows with each row's nll raised by {@code ln(1 + increase)} per token (pooled
   * perplexity exactly {@code 1 + increase} times the baseline's) plus zero-mean noise of {@code
   * sd·√tokens} nats per row, as two close checkpoints differ token by token.
   */
  static Map<String, double[]> perplexityIncrease(
      Map<String, double[]> text, double increase, double sd, long noiseSeed) {
    SplittableRandom random = new SplittableRandom(noiseSeed);
    double[] tokens = text.get(MetricNames.TOKENS);
    double[] nll = text.get(MetricNames.NLL_SUM).clone();
    for (int i = 0; i < nll.length; i++) {
      nll[i] += tokens[i] * Math.log1p(increase) + sd * Math.sqrt(tokens[i]) * gaussian(random);
    }
    return columns(
        MetricNames.NLL_SUM,
        nll,
        MetricNames.TOKENS,
        tokens,
        MetricNames.BYTES,
        text.get(MetricNames.BYTES));
  }

  static double spearman(Map<String, double[]> sts) {
    return MetricVector.metrics(sts).get(MetricNames.SPEARMAN);
  }

  static double perplexity(Map<String, double[]> text) {
    return MetricVector.metrics(text).get(MetricNames.PERPLEXITY);
  }

  /** Standard normal by Box–Muller: SplittableRandom has no nextGaussian in Java 17. */
  static double gaussian(SplittableRandom random) {
    double u = 1 - random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
  }

  private static double clip(double cosine) {
    return Math.max(-1, Math.min(1, cosine));
  }

  private static Map<String, double[]> columns(Object... namesAndValues) {
    Map<String, double[]> columns = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      columns.put((String) namesAndValues[i], (double[]) namesAndValues[i + 1]);
    }
    return columns;
  }
}
