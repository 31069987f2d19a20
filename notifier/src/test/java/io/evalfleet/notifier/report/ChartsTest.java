package io.evalfleet.notifier.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ChartsTest {
  /**
   * Values between 0.49 and 0.69, and a production band from 0.23 to 0.89: far wider than the
   * points.
   */
  static List<EvaluationLock> history(double... values) {
    List<EvaluationLock> locks = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      locks.add(
          lock(
              "v" + i,
              Map.of(
                  "spearman",
                  EvaluationLock.LockedMetric.builder()
                      .value(values[i])
                      .status(Flag.GREEN)
                      .margin(0.02)
                      .bandLow(0.23)
                      .bandHigh(0.89)
                      .build())));
    }
    return locks;
  }

  static EvaluationLock lock(String version, Map<String, EvaluationLock.LockedMetric> metrics) {
    return EvaluationLock.builder()
        .model("m")
        .version(version)
        .eventId("ev-" + version)
        .runId("run-" + version)
        .commit("c0ffee")
        .task("embedding")
        .policyVersion("1")
        .flag(Flag.GREEN)
        .metrics(metrics)
        .scoresReused(false)
        .decidedAt(java.time.Instant.parse("2026-12-01T00:00:00Z"))
        .build();
  }

  @Test
  void historyAxisSpansTheWholeBandSoBothItsEdgesAreDrawnInsideThePlot() throws Exception {
    BufferedImage chart =
        image(Charts.history("spearman", history(0.49, 0.55, 0.69, 0.6), 0.23, 0.89));
    List<int[]> edges = lines(chart, Charts.BAND_EDGE, 300);
    assertThat(edges).as("the band's lower and upper edge").hasSize(2);
    int top = edges.get(0)[0];
    int bottom = edges.get(1)[1];
    // the band (0.66 wide) takes most, not all, of an axis that spans 0.23..0.89 plus padding
    int[] plot = plotRows(chart, top, bottom);
    assertThat(top).as("white plot above the band's upper edge").isGreaterThan(plot[0] + 3);
    assertThat(bottom).as("white plot below the band's lower edge").isLessThan(plot[1] - 3);
    double share = (bottom - top) / (double) (plot[1] - plot[0]);
    assertThat(share)
        .isBetween(
            1 / (1 + 2 * Charts.AXIS_PADDING) - 0.03, 1 / (1 + 2 * Charts.AXIS_PADDING) + 0.03);
  }

  @Test
  void aBandInsideThePointsLeavesTheAxisToThePoints() throws Exception {
    BufferedImage chart = image(Charts.history("spearman", history(0.1, 0.5, 0.9), 0.45, 0.55));
    List<int[]> edges = lines(chart, Charts.BAND_EDGE, 300);
    assertThat(edges).hasSize(2);
    int[] plot = plotRows(chart, edges.get(0)[0], edges.get(1)[1]);
    double share = (edges.get(1)[1] - edges.get(0)[0]) / (double) (plot[1] - plot[0]);
    assertThat(share).as("a band of 0.1 on an axis of about 0.8").isBetween(0.08, 0.16);
  }

  @Test
  void intervalAxisIncludesTheMarginEvenWhenTheIntervalIsTiny() throws Exception {
    MetricValue value =
        MetricValue.builder()
            .value(0.85)
            .n(240)
            .direction("higher_is_better")
            .baseline(0.85)
            .delta(0.0)
            .relativeDelta(-0.0005)
            .ciLow(-0.001)
            .ciHigh(0.0)
            .ciConfidence(0.95)
            .margin(0.02)
            .gating(true)
            .pValue(0.001)
            .status(Flag.GREEN)
            .evidence("e")
            .build();
    BufferedImage chart = image(Charts.interval("spearman", value));
    assertThat(columns(chart, Charts.MARGIN_EDGE, 40)).as("the margin at -2%").hasSize(1);
  }

  @Test
  void limitMetricIsDrawnAgainstItsLimitNotAsAPercentChange() throws Exception {
    // kl_mean 0.0831 (0.0712 to 0.0950) against a limit of at most 0.05: the limit lies left of the
    // interval
    MetricValue value =
        MetricValue.builder()
            .value(0.0831)
            .n(40)
            .direction("lower_is_better")
            .ciLow(0.0712)
            .ciHigh(0.0950)
            .ciConfidence(0.975)
            .gating(true)
            .pValue(0.0005)
            .status(Flag.RED)
            .evidence("e")
            .limit(0.05)
            .build();
    BufferedImage chart = image(Charts.interval("kl_mean", value));
    List<int[]> limit = columns(chart, Charts.MARGIN_EDGE, 40);
    assertThat(limit).as("the limit line").hasSize(1);
    int interval = firstColumn(chart, Charts.INTERVAL);
    assertThat(interval)
        .as("the interval starts right of the limit")
        .isGreaterThan(limit.get(0)[1]);
  }

  static BufferedImage image(byte[] png) throws Exception {
    return ImageIO.read(new ByteArrayInputStream(png));
  }

  /**
   * Runs of consecutive rows in which at least {@code minimum} pixels have exactly {@code color}:
   * {first, last}.
   */
  static List<int[]> lines(BufferedImage image, Color color, int minimum) {
    List<int[]> runs = new ArrayList<>();
    int rgb = color.getRGB() & 0xffffff;
    for (int y = 0; y < image.getHeight(); y++) {
      int count = 0;
      for (int x = 0; x < image.getWidth(); x++) {
        if ((image.getRGB(x, y) & 0xffffff) == rgb) {
          count++;
        }
      }
      if (count >= minimum) {
        if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] == y - 1) {
          runs.get(runs.size() - 1)[1] = y;
        } else {
          runs.add(new int[] {y, y});
        }
      }
    }
    return runs;
  }

  /**
   * Runs of consecutive columns in which at least {@code minimum} pixels have exactly {@code
   * color}.
   */
  static List<int[]> columns(BufferedImage image, Color color, int minimum) {
    List<int[]> runs = new ArrayList<>();
    int rgb = color.getRGB() & 0xffffff;
    for (int x = 0; x < image.getWidth(); x++) {
      int count = 0;
      for (int y = 0; y < image.getHeight(); y++) {
        if ((image.getRGB(x, y) & 0xffffff) == rgb) {
          count++;
        }
      }
      if (count >= minimum) {
        if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] == x - 1) {
          runs.get(runs.size() - 1)[1] = x;
        } else {
          runs.add(new int[] {x, x});
        }
      }
    }
    return runs;
  }

  static int firstColumn(BufferedImage image, Color color) {
    int rgb = color.getRGB() & 0xffffff;
    for (int x = 0; x < image.getWidth(); x++) {
      for (int y = 0; y < image.getHeight(); y++) {
        if ((image.getRGB(x, y) & 0xffffff) == rgb) {
          return x;
        }
      }
    }
    return -1;
  }

  /**
   * The plot area's first and last row, found from the band: in the middle column of the band's
   * edge line, walk up and down over the plot's white background and light gridlines until the
   * plot's grey outline (or the image's border).
   */
  static int[] plotRows(BufferedImage image, int top, int bottom) {
    int rgb = Charts.BAND_EDGE.getRGB() & 0xffffff;
    int x = -1;
    for (int c = image.getWidth() / 2; c < image.getWidth() && x < 0; c++) {
      if ((image.getRGB(c, top) & 0xffffff) == rgb) {
        x = c;
      }
    }
    int up = top - 1;
    while (up > 0 && light(image.getRGB(x, up - 1))) {
      up--;
    }
    int down = bottom + 1;
    while (down < image.getHeight() - 1 && light(image.getRGB(x, down + 1))) {
      down++;
    }
    return new int[] {up, down};
  }

  private static boolean light(int argb) {
    Color c = new Color(argb);
    return c.getRed() >= 0xd0 && c.getGreen() >= 0xd0 && c.getBlue() >= 0xd0;
  }
}
