package io.evalfleet.monitor.drift;

import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.monitor.traffic.TrafficWindows;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One check of a production causal LM on its traffic: the perplexity of a sample of the window that
 * just ended against the reference window's, pooled over tokens, with a permutation test of rows
 * between the two samples (statistic: the difference of NLL per token, either way), and, with a
 * shadow candidate, the candidate's token shift from the production model on the window's texts.
 * Not thread-safe (the reference is scored on first use).
 */
public final class PerplexityCheck implements WindowCheck {
  /** Scores texts with the production model, and a shadow candidate against it. */
  public interface LanguageModel {
    /** Per text: its NLL sum and scored tokens. */
    double[][] nll(List<String> texts) throws IOException;

    /**
     * The shadow candidate's token shift from the production model on these texts; empty without
     * one.
     */
    Map<String, Double> shadowShift(List<String> texts) throws IOException;
  }

  private final DriftCheck.Settings settings;
  private final TrafficWindows traffic;
  private final LanguageModel model;
  private double[][] reference;

  public PerplexityCheck(
      DriftCheck.Settings settings, TrafficWindows traffic, LanguageModel model) {
    this.settings = settings;
    this.traffic = traffic;
    this.model = model;
  }

  @Override
  public MonitorResult check(Instant windowEnd, MonitorResult previous, Instant now)
      throws IOException {
    Instant windowStart = windowEnd.minus(settings.window());
    double[][] before = reference();
    List<String> texts = traffic.sample(windowStart, windowEnd, settings.sample(), settings.seed());
    if (texts.size() < DriftCheck.MIN_TEXTS) {
      return DriftCheck.tooLittleTraffic(settings, windowEnd, texts.size(), before[0].length, now);
    }
    double[][] after = model.nll(texts);
    double pValue =
        permutationPValue(
            before, after, settings.permutations(), settings.seed() ^ windowEnd.toEpochMilli());
    double perplexity = Math.exp(sum(after[0]) / sum(after[1]));
    double referencePerplexity = Math.exp(sum(before[0]) / sum(before[1]));
    boolean drifted = pValue <= settings.alpha();
    Instant episode = WindowCheck.episodeStart(drifted, previous, windowEnd);
    Map<String, Double> shadow = model.shadowShift(texts);
    String evidence =
        String.format(
            Locale.ROOT,
            "%s: perplexity %.4g on %d texts of %s to %s against %.4g on %d of the"
                + " reference window %s to %s, permutation p=%.4f (%d permutations of rows); %s at α=%s%s",
            drifted ? "drift" : "no drift",
            perplexity,
            texts.size(),
            windowStart,
            windowEnd,
            referencePerplexity,
            before[0].length,
            settings.referenceStart(),
            settings.referenceEnd(),
            pValue,
            settings.permutations(),
            drifted ? "significant" : "not significant",
            settings.alpha(),
            shadow.isEmpty()
                ? ""
                : String.format(
                    Locale.ROOT,
                    "; shadow candidate: mean KL %.4f, top-1 agreement %.3f",
                    shadow.get("kl_mean"),
                    shadow.get("top1_agreement")));
    return MonitorResult.builder()
        .model(settings.model())
        .version(settings.version())
        .windowStart(windowStart)
        .windowEnd(windowEnd)
        .referenceStart(settings.referenceStart())
        .referenceEnd(settings.referenceEnd())
        .texts(texts.size())
        .referenceTexts(before[0].length)
        .pValue(pValue)
        .alpha(settings.alpha())
        .drifted(drifted)
        .episodeStart(episode)
        .evidence(evidence)
        .evaluatedAt(now)
        .perplexity(perplexity)
        .referencePerplexity(referencePerplexity)
        .shadow(shadow)
        .build();
  }

  /**
   * Two-sided permutation p-value of the difference in NLL per token between two samples of rows:
   * rows are shuffled between the samples, keeping their sizes.
   */
  static double permutationPValue(double[][] a, double[][] b, int permutations, long seed) {
    int n = a[0].length;
    int total = n + b[0].length;
    double[] nll = new double[total];
    double[] tokens = new double[total];
    System.arraycopy(a[0], 0, nll, 0, n);
    System.arraycopy(b[0], 0, nll, n, b[0].length);
    System.arraycopy(a[1], 0, tokens, 0, n);
    System.arraycopy(b[1], 0, tokens, n, b[1].length);
    int[] order = new int[total];
    for (int i = 0; i < total; i++) {
      order[i] = i;
    }
    double observed = Math.abs(difference(nll, tokens, order, n));
    SplittableRandom random = new SplittableRandom(seed);
    int atLeast = 0;
    for (int p = 0; p < permutations; p++) {
      for (int i = total - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        int swap = order[i];
        order[i] = order[j];
        order[j] = swap;
      }
      if (Math.abs(difference(nll, tokens, order, n)) >= observed) {
        atLeast++;
      }
    }
    return (1.0 + atLeast) / (1.0 + permutations);
  }

  /**
   * NLL per token of the rows after the first {@code n} minus that of the first {@code n}, in
   * {@code order}.
   */
  private static double difference(double[] nll, double[] tokens, int[] order, int n) {
    double nllA = 0;
    double tokA = 0;
    double nllB = 0;
    double tokB = 0;
    for (int i = 0; i < order.length; i++) {
      if (i < n) {
        nllA += nll[order[i]];
        tokA += tokens[order[i]];
      } else {
        nllB += nll[order[i]];
        tokB += tokens[order[i]];
      }
    }
    return nllB / tokB - nllA / tokA;
  }

  private double[][] reference() throws IOException {
    if (reference == null) {
      reference = model.nll(DriftCheck.referenceSample(traffic, settings));
    }
    return reference;
  }

  private static double sum(double[] values) {
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum;
  }
}
