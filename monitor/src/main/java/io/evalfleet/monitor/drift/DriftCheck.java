package io.evalfleet.monitor.drift;

import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.monitor.traffic.TrafficWindows;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * One check of a production model on its traffic: a sample of the window ending at the check time,
 * embedded by the model and tested against the reference window's sample (embedded once) with the
 * MMD² permutation test. Not thread-safe (the reference embeddings are computed on first use).
 */
public final class DriftCheck implements WindowCheck {
  /** Fewer texts than this in a window: nothing is tested. */
  public static final int MIN_TEXTS = 10;

  /** Embeds texts with the production model. */
  @FunctionalInterface
  public interface Embedder {
    double[][] embed(List<String> texts) throws IOException;
  }

  /**
   * @param window each checked window's length
   * @param sample texts per window
   */
  public record Settings(
      String model,
      String version,
      Duration window,
      int sample,
      Instant referenceStart,
      Instant referenceEnd,
      double alpha,
      int permutations,
      long seed) {}

  private final Settings settings;
  private final TrafficWindows traffic;
  private final Embedder embedder;
  private double[][] reference;

  public DriftCheck(Settings settings, TrafficWindows traffic, Embedder embedder) {
    this.settings = settings;
    this.traffic = traffic;
    this.embedder = embedder;
  }

  @Override
  public MonitorResult check(Instant windowEnd, MonitorResult previous, Instant now)
      throws IOException {
    Instant windowStart = windowEnd.minus(settings.window());
    double[][] baseline = reference();
    List<String> texts = traffic.sample(windowStart, windowEnd, settings.sample(), settings.seed());
    if (texts.size() < MIN_TEXTS) {
      return tooLittleTraffic(settings, windowEnd, texts.size(), baseline.length, now);
    }
    MmdPermutationTest.Result tested =
        new MmdPermutationTest(settings.permutations(), settings.seed() ^ windowEnd.toEpochMilli())
            .test(baseline, embedder.embed(texts));
    boolean drifted = tested.drifted(settings.alpha());
    Instant episode = WindowCheck.episodeStart(drifted, previous, windowEnd);
    String evidence =
        String.format(
            Locale.ROOT,
            "%s: %d texts of %s to %s against %d of the reference window %s to %s,"
                + " MMD² %.5f (Gaussian kernel, bandwidth %.4f), permutation p=%.4f (%d permutations); %s at α=%s",
            drifted ? "drift" : "no drift",
            texts.size(),
            windowStart,
            windowEnd,
            baseline.length,
            settings.referenceStart(),
            settings.referenceEnd(),
            tested.mmd2(),
            tested.bandwidth(),
            tested.pValue(),
            tested.permutations(),
            drifted ? "significant" : "not significant",
            settings.alpha());
    return MonitorResult.builder()
        .model(settings.model())
        .version(settings.version())
        .windowStart(windowStart)
        .windowEnd(windowEnd)
        .referenceStart(settings.referenceStart())
        .referenceEnd(settings.referenceEnd())
        .texts(texts.size())
        .referenceTexts(baseline.length)
        .mmd2(tested.mmd2())
        .pValue(tested.pValue())
        .alpha(settings.alpha())
        .drifted(drifted)
        .episodeStart(episode)
        .evidence(evidence)
        .evaluatedAt(now)
        .build();
  }

  private double[][] reference() throws IOException {
    if (reference == null) {
      reference = embedder.embed(referenceSample(traffic, settings));
    }
    return reference;
  }

  /** The result of a window with fewer than {@link #MIN_TEXTS} texts: nothing tested, no drift. */
  static MonitorResult tooLittleTraffic(
      Settings settings, Instant windowEnd, int texts, int referenceTexts, Instant now) {
    return MonitorResult.builder()
        .model(settings.model())
        .version(settings.version())
        .windowStart(windowEnd.minus(settings.window()))
        .windowEnd(windowEnd)
        .referenceStart(settings.referenceStart())
        .referenceEnd(settings.referenceEnd())
        .texts(texts)
        .referenceTexts(referenceTexts)
        .alpha(settings.alpha())
        .drifted(false)
        .evidence(
            "too little traffic: "
                + texts
                + " texts in the window, "
                + MIN_TEXTS
                + " needed; nothing tested")
        .evaluatedAt(now)
        .build();
  }

  /** The reference window's sample, which a check cannot do without. */
  static List<String> referenceSample(TrafficWindows traffic, Settings settings)
      throws IOException {
    List<String> texts =
        traffic.sample(
            settings.referenceStart(), settings.referenceEnd(), settings.sample(), settings.seed());
    if (texts.size() < MIN_TEXTS) {
      throw new InputException(
          "the reference window "
              + settings.referenceStart()
              + " to "
              + settings.referenceEnd()
              + " holds "
              + texts.size()
              + " texts; "
              + MIN_TEXTS
              + " needed");
    }
    return texts;
  }
}
