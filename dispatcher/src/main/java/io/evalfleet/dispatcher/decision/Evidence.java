package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.Direction;
import java.math.BigDecimal;
import java.util.Locale;

/**
 * Puts a metric decision into words a promotion reviewer reads without the statistics. Relative
 * changes have two decimals, as in the review's metric table, so a sentence never says "0.0% worse"
 * beside a table that says −0.05%. A two-sided metric (either way is a change, none is worse) is
 * "changed by" a signed amount and its verdict speaks of a change beyond the margin, never of a
 * degradation.
 */
final class Evidence {
  private Evidence() {}

  /**
   * E.g. {@code perplexity RED: 5.10% worse than baseline 9.916 → 10.42 (97.5% CI 4.20% to 6.00%
   * worse, n=40 rows / 5,321 tokens, paired bootstrap 2000×, seed 7); margin 2.00%: the whole
   * interval lies beyond the margin; degradation beyond the margin is significant (Holm-adjusted
   * p=0.0010, α=0.05)}; for a two-sided metric {@code mean_cosine RED (reported, not gating):
   * changed by +38.00% from baseline 0.6000 → 0.8280 (95% CI +35.10% to +40.90%, ...); margin 5.00%
   * either way: the whole interval lies beyond the margin; a change beyond the margin either way is
   * significant (p=0.0005, α=0.05)}.
   */
  static String sentence(
      String metric,
      Flag status,
      boolean gating,
      Direction direction,
      double margin,
      double baseline,
      double candidate,
      double estimate,
      Interval interval,
      SignificanceTest degraded,
      SignificanceTest nonInferior,
      SampleSize sample,
      int resamples,
      long seed,
      Correction correction,
      double alpha,
      boolean outsideBand) {
    String change =
        direction == Direction.TWO_SIDED
            ? signedChange(estimate)
            : badnessChange(direction.badness(estimate));
    return String.format(
        Locale.ROOT,
        "%s %s%s: %s baseline %s → %s (%s CI %s, n=%s, paired bootstrap %d×, seed %d);"
            + " margin %s%s: %s; %s",
        metric,
        status,
        gating ? "" : " (reported, not gating)",
        change,
        number(baseline),
        number(candidate),
        level(interval.confidence()),
        intervalWords(direction, interval),
        sampleWords(sample),
        resamples,
        seed,
        percent(margin),
        direction == Direction.TWO_SIDED ? " either way" : "",
        intervalVersusMargin(direction, interval, margin),
        verdictWords(
            direction,
            status,
            degraded,
            nonInferior,
            gating ? correction : Correction.NONE,
            alpha,
            outsideBand));
  }

  /**
   * E.g. {@code kl_mean RED: 0.0831 against a limit of at most 0.05 (97.5% CI 0.0712 to 0.0950,
   * n=40 rows / 5,321 tokens, bootstrap over rows 2000×, seed 7); the whole interval lies beyond
   * the limit; beyond the limit significantly (Holm-adjusted p=0.0005, α=0.05)}.
   */
  static String limitSentence(
      String metric,
      Flag status,
      boolean gating,
      Direction direction,
      double limit,
      double value,
      Interval interval,
      SignificanceTest beyond,
      SignificanceTest within,
      SampleSize sample,
      String method,
      Correction correction,
      double alpha) {
    boolean lowerIsBetter = direction != Direction.HIGHER_IS_BETTER;
    double worst = lowerIsBetter ? interval.high() : interval.low();
    double best = lowerIsBetter ? interval.low() : interval.high();
    boolean bestBeyond = lowerIsBetter ? best > limit : best < limit;
    boolean worstWithin = lowerIsBetter ? worst <= limit : worst >= limit;
    String where =
        bestBeyond
            ? "the whole interval lies beyond the limit"
            : worstWithin
                ? "the whole interval lies within the limit"
                : "the interval straddles the limit";
    String adjusted =
        !gating || correction == Correction.NONE
            ? "p"
            : capitalized(correction.wireName()) + "-adjusted p";
    String verdict =
        switch (status) {
          case RED ->
              String.format(
                  Locale.ROOT,
                  "beyond the limit significantly (%s=%s, α=%s)",
                  adjusted,
                  pValue(beyond.adjustedPValue()),
                  trimmed(alpha));
          case GREEN ->
              String.format(
                  Locale.ROOT,
                  "within the limit significantly (%s=%s, α=%s)",
                  adjusted,
                  pValue(within.adjustedPValue()),
                  trimmed(alpha));
          default ->
              String.format(
                  Locale.ROOT,
                  "inconclusive: neither beyond (%s=%s) nor within the limit (%s=%s) is"
                      + " significant at α=%s",
                  adjusted,
                  pValue(beyond.adjustedPValue()),
                  adjusted,
                  pValue(within.adjustedPValue()),
                  trimmed(alpha));
        };
    return String.format(
        Locale.ROOT,
        "%s %s%s: %s against a limit of %s %s (%s CI %s to %s, n=%s, %s); %s; %s",
        metric,
        status,
        gating ? "" : " (reported, not gating)",
        number(value),
        lowerIsBetter ? "at most" : "at least",
        BigDecimal.valueOf(limit).stripTrailingZeros().toPlainString(),
        level(interval.confidence()),
        number(interval.low()),
        number(interval.high()),
        sampleWords(sample),
        method,
        where,
        verdict);
  }

  /**
   * A metric compared with its baseline at a look of a sequential decision, e.g. {@code perplexity
   * RED: 6.00% worse than baseline 9.916 → 10.51 (sequential decision at look 12, on the first 600
   * of 10,000 rows; confidence sequence 4.10% to 7.90% worse, each bound at 98.75% at every look);
   * margin 2.00%: the whole interval lies beyond the margin; degradation beyond the margin is clear
   * (Holm-adjusted anytime p=0.0008, α=0.05)}.
   *
   * @param interval the confidence sequence at this look, or null while it is unbounded
   * @param boundLevel the confidence of each bound, valid at every look
   * @param red the adjusted anytime p-value of "beyond the margin"
   * @param green the adjusted anytime p-value of "within the margin"
   * @param where the look in words: "look 12, on the first 600 of 10,000 rows"
   */
  static String sequentialSentence(
      String metric,
      Flag status,
      boolean gating,
      Direction direction,
      double margin,
      double baseline,
      double candidate,
      double estimate,
      Interval interval,
      double boundLevel,
      double red,
      double green,
      Correction correction,
      double alpha,
      String where) {
    String change =
        direction == Direction.TWO_SIDED
            ? signedChange(estimate)
            : badnessChange(direction.badness(estimate));
    String adjusted = adjustedWords(gating, correction);
    String verdict =
        switch (status) {
          case RED ->
              String.format(
                  Locale.ROOT,
                  "%s is clear (%s=%s, α=%s)",
                  direction == Direction.TWO_SIDED
                      ? "a change beyond the margin either way"
                      : "degradation beyond the margin",
                  adjusted,
                  pValue(red),
                  trimmed(alpha));
          case GREEN ->
              String.format(
                  Locale.ROOT,
                  "%s is clear (%s=%s, α=%s)",
                  direction == Direction.TWO_SIDED
                      ? "staying within the margin either way"
                      : "non-inferiority",
                  adjusted,
                  pValue(green),
                  trimmed(alpha));
          default ->
              String.format(
                  Locale.ROOT,
                  "undecided so far: neither beyond (%s=%s) nor within the margin (%s=%s) is clear at"
                      + " α=%s",
                  adjusted,
                  pValue(red),
                  adjusted,
                  pValue(green),
                  trimmed(alpha));
        };
    return String.format(
        Locale.ROOT,
        "%s %s%s: %s baseline %s → %s (sequential decision at %s; confidence sequence %s, each"
            + " bound at %s at every look); margin %s%s: %s; %s",
        metric,
        status,
        gating ? "" : " (reported, not gating)",
        change,
        number(baseline),
        number(candidate),
        where,
        interval == null ? "not yet bounded" : intervalWords(direction, interval),
        level(boundLevel),
        percent(margin),
        direction == Direction.TWO_SIDED ? " either way" : "",
        interval == null
            ? "the interval is not yet bounded"
            : intervalVersusMargin(direction, interval, margin),
        verdict);
  }

  /**
   * A metric judged against its limit at a look of a sequential decision, e.g. {@code kl_mean RED:
   * 0.0831 against a limit of at most 0.05 (sequential decision at look 3, on the first 300 of
   * 2,000 rows / 41,000 tokens; confidence sequence 0.0712 to 0.0950, each bound at 98.75% at every
   * look); the whole interval lies beyond the limit; beyond the limit clearly (Holm-adjusted
   * anytime p=0.0005, α=0.05)}.
   */
  static String sequentialLimitSentence(
      String metric,
      Flag status,
      boolean gating,
      Direction direction,
      double limit,
      double value,
      Interval interval,
      double boundLevel,
      double red,
      double green,
      Correction correction,
      double alpha,
      String where) {
    boolean lowerIsBetter = direction != Direction.HIGHER_IS_BETTER;
    String place;
    if (interval == null) {
      place = "the interval is not yet bounded";
    } else {
      double worst = lowerIsBetter ? interval.high() : interval.low();
      double best = lowerIsBetter ? interval.low() : interval.high();
      place =
          (lowerIsBetter ? best > limit : best < limit)
              ? "the whole interval lies beyond the limit"
              : (lowerIsBetter ? worst <= limit : worst >= limit)
                  ? "the whole interval lies within the limit"
                  : "the interval straddles the limit";
    }
    String adjusted = adjustedWords(gating, correction);
    String verdict =
        switch (status) {
          case RED ->
              String.format(
                  Locale.ROOT,
                  "beyond the limit clearly (%s=%s, α=%s)",
                  adjusted,
                  pValue(red),
                  trimmed(alpha));
          case GREEN ->
              String.format(
                  Locale.ROOT,
                  "within the limit clearly (%s=%s, α=%s)",
                  adjusted,
                  pValue(green),
                  trimmed(alpha));
          default ->
              String.format(
                  Locale.ROOT,
                  "undecided so far: neither beyond (%s=%s) nor within the limit (%s=%s) is clear at"
                      + " α=%s",
                  adjusted,
                  pValue(red),
                  adjusted,
                  pValue(green),
                  trimmed(alpha));
        };
    return String.format(
        Locale.ROOT,
        "%s %s%s: %s against a limit of %s %s (sequential decision at %s; confidence sequence %s,"
            + " each bound at %s at every look); %s; %s",
        metric,
        status,
        gating ? "" : " (reported, not gating)",
        number(value),
        lowerIsBetter ? "at most" : "at least",
        BigDecimal.valueOf(limit).stripTrailingZeros().toPlainString(),
        where,
        interval == null
            ? "not yet bounded"
            : number(interval.low()) + " to " + number(interval.high()),
        level(boundLevel),
        place,
        verdict);
  }

  /**
   * How a sequential interval reads in a one-line reason: "4.10% to 7.90% worse", "0.0712 to
   * 0.0950".
   */
  static String sequentialRange(Direction direction, Interval interval, boolean limit) {
    if (interval == null) {
      return "not yet bounded";
    }
    return limit
        ? number(interval.low()) + " to " + number(interval.high())
        : intervalWords(direction, interval);
  }

  private static String adjustedWords(boolean gating, Correction correction) {
    return !gating || correction == Correction.NONE
        ? "anytime p"
        : capitalized(correction.wireName()) + "-adjusted anytime p";
  }

  static String bandSentence(
      String metric, double candidate, VarianceBand band, int available, int needed) {
    if (band == null) {
      return String.format(
          Locale.ROOT,
          "%s: no production band yet (%d snapshot%s, %d needed); band check skipped",
          metric,
          available,
          available == 1 ? "" : "s",
          needed);
    }
    String where = band.contains(candidate) ? "inside" : "outside";
    String tail =
        band.contains(candidate) ? "" : "; unlike recent production models, so WARN at best";
    String width =
        band.k() * band.sigma() >= band.minHalfWidth()
            ? String.format(
                Locale.ROOT,
                "mean %s ± %s·σ, σ=%s",
                number(band.mean()),
                trimmed(band.k()),
                number(band.sigma()))
            : String.format(
                Locale.ROOT,
                "mean %s ± the margin, wider than %s·σ=%s",
                number(band.mean()),
                trimmed(band.k()),
                number(band.k() * band.sigma()));
    return String.format(
        Locale.ROOT,
        "%s: candidate %s lies %s the production band %s to %s (%s, last %d snapshots)%s",
        metric,
        number(candidate),
        where,
        number(band.low()),
        number(band.high()),
        width,
        band.snapshots(),
        tail);
  }

  private static String verdictWords(
      Direction direction,
      Flag status,
      SignificanceTest degraded,
      SignificanceTest nonInferior,
      Correction correction,
      double alpha,
      boolean outsideBand) {
    String adjusted =
        correction == Correction.NONE ? "p" : capitalized(correction.wireName()) + "-adjusted p";
    if (direction == Direction.TWO_SIDED) {
      return switch (status) {
        case RED ->
            String.format(
                Locale.ROOT,
                "a change beyond the margin either way is significant (%s=%s, α=%s)",
                adjusted,
                pValue(degraded.adjustedPValue()),
                trimmed(alpha));
        case GREEN ->
            String.format(
                Locale.ROOT,
                "staying within the margin either way is significant (%s=%s, α=%s)",
                adjusted,
                pValue(nonInferior.adjustedPValue()),
                trimmed(alpha));
        default ->
            nonInferior.significant() && outsideBand
                ? String.format(
                    Locale.ROOT,
                    "within the margin (%s=%s, α=%s), but outside the production band",
                    adjusted,
                    pValue(nonInferior.adjustedPValue()),
                    trimmed(alpha))
                : String.format(
                    Locale.ROOT,
                    "inconclusive: neither a change beyond the margin (%s=%s) nor staying within"
                        + " it (%s=%s) is significant at α=%s",
                    adjusted,
                    pValue(degraded.adjustedPValue()),
                    adjusted,
                    pValue(nonInferior.adjustedPValue()),
                    trimmed(alpha));
      };
    }
    return switch (status) {
      case RED ->
          String.format(
              Locale.ROOT,
              "degradation beyond the margin is significant (%s=%s, α=%s)",
              adjusted,
              pValue(degraded.adjustedPValue()),
              trimmed(alpha));
      case GREEN ->
          String.format(
              Locale.ROOT,
              "non-inferiority is significant (%s=%s, α=%s)",
              adjusted,
              pValue(nonInferior.adjustedPValue()),
              trimmed(alpha));
      default ->
          nonInferior.significant() && outsideBand
              ? String.format(
                  Locale.ROOT,
                  "non-inferior (%s=%s, α=%s), but outside the production band",
                  adjusted,
                  pValue(nonInferior.adjustedPValue()),
                  trimmed(alpha))
              : String.format(
                  Locale.ROOT,
                  "inconclusive: neither degradation (%s=%s) nor non-inferiority (%s=%s) is significant at α=%s",
                  adjusted,
                  pValue(degraded.adjustedPValue()),
                  adjusted,
                  pValue(nonInferior.adjustedPValue()),
                  trimmed(alpha));
    };
  }

  /**
   * Where the interval lies against the margin, in badness terms (|change| for two-sided metrics).
   */
  private static String intervalVersusMargin(
      Direction direction, Interval interval, double margin) {
    double worstLow;
    double worstHigh;
    if (direction == Direction.TWO_SIDED) {
      boolean beyond = interval.low() > margin || interval.high() < -margin;
      boolean within = interval.low() >= -margin && interval.high() <= margin;
      return beyond
          ? "the whole interval lies beyond the margin"
          : within
              ? "the whole interval lies within the margin"
              : "the interval straddles the margin";
    }
    worstLow = Math.min(direction.badness(interval.low()), direction.badness(interval.high()));
    worstHigh = Math.max(direction.badness(interval.low()), direction.badness(interval.high()));
    return worstLow > margin
        ? "the whole interval lies beyond the margin"
        : worstHigh < margin
            ? "the whole interval lies within the margin"
            : "the interval straddles the margin";
  }

  private static String intervalWords(Direction direction, Interval interval) {
    if (direction == Direction.TWO_SIDED) {
      return signedPercent(interval.low()) + " to " + signedPercent(interval.high());
    }
    double from = Math.min(direction.badness(interval.low()), direction.badness(interval.high()));
    double to = Math.max(direction.badness(interval.low()), direction.badness(interval.high()));
    if (from >= 0 && to > 0) {
      return percent(from) + " to " + percent(to) + " worse";
    }
    if (to <= 0 && from < 0) {
      return percent(-to) + " to " + percent(-from) + " better";
    }
    if (from == 0 && to == 0) {
      return "0.00% to 0.00%";
    }
    return percent(-from) + " better to " + percent(to) + " worse";
  }

  private static String badnessChange(double badness) {
    if (badness == 0) {
      return "unchanged from";
    }
    return percent(Math.abs(badness)) + (badness > 0 ? " worse than" : " better than");
  }

  private static String signedChange(double change) {
    if (change == 0) {
      return "unchanged from";
    }
    return "changed by " + signedPercent(change) + " from";
  }

  private static String sampleWords(SampleSize sample) {
    String rows = String.format(Locale.ROOT, "%,d rows", sample.rows());
    if (sample.tokens() != null) {
      return rows + String.format(Locale.ROOT, " / %,d tokens", sample.tokens());
    }
    if (sample.bytes() != null) {
      return rows + String.format(Locale.ROOT, " / %,d bytes", sample.bytes());
    }
    return rows;
  }

  private static String number(double value) {
    return String.format(Locale.ROOT, "%.4g", value);
  }

  /** Two decimals, as the review's tables show a relative change. */
  static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
  }

  /** 0.95 → "95%", 0.975 → "97.5%", 0.98333 → "98.3%". */
  private static String level(double confidence) {
    return new BigDecimal(String.format(Locale.ROOT, "%.1f", 100 * confidence))
            .stripTrailingZeros()
            .toPlainString()
        + "%";
  }

  static String signedPercent(double fraction) {
    return String.format(Locale.ROOT, "%+.2f%%", 100 * fraction);
  }

  private static String pValue(double p) {
    return String.format(Locale.ROOT, "%.4f", p);
  }

  /** 0.05 → "0.05", 3.0 → "3": at most 4 decimals, no trailing zeros. */
  private static String trimmed(double value) {
    return new BigDecimal(String.format(Locale.ROOT, "%.4f", value))
        .stripTrailingZeros()
        .toPlainString();
  }

  private static String capitalized(String word) {
    return Character.toUpperCase(word.charAt(0)) + word.substring(1);
  }
}
