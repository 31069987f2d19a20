package io.evalfleet.laptop.review;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.notifier.report.Charts;
import io.evalfleet.notifier.report.HtmlReport;
import io.evalfleet.notifier.review.ReviewMaterial;
import io.evalfleet.notifier.testing.Flags;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Charts show what they claim, measured on the page a browser renders: the production band's two
 * edges and the margin lie inside their plots. Known data: spearman between 0.49 and 0.69 over four
 * versions, a production band from 0.23 to 0.89 (an axis that followed the points would show
 * 0.49–0.69 entirely shaded, and neither edge).
 */
class ChartsIT {
  @TempDir static Path dir;

  @BeforeAll
  static void chromium() {
    Assumptions.assumeTrue(HeadlessChromium.available(), "Debian's chromium is not installed");
  }

  static List<EvaluationLock> history() {
    double[] values = {0.49, 0.55, 0.69, 0.6};
    List<EvaluationLock> locks = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      locks.add(
          EvaluationLock.builder()
              .model("m")
              .version("v" + i)
              .eventId("ev-v" + i)
              .runId("run-v" + i)
              .commit("c0ffee" + i)
              .task("embedding")
              .policyVersion("1")
              .flag(Flag.GREEN)
              .metrics(
                  Map.of(
                      "spearman",
                      EvaluationLock.LockedMetric.builder()
                          .value(values[i])
                          .status(Flag.GREEN)
                          .margin(0.02)
                          .bandLow(0.23)
                          .bandHigh(0.89)
                          .build()))
              .scoresReused(false)
              .decidedAt(Instant.parse("2026-12-01T00:00:00Z"))
              .build());
    }
    return locks;
  }

  @Test
  void historyPageShowsBothEdgesOfTheProductionBandInsideThePlot() throws Exception {
    Path page = dir.resolve("history.html");
    Files.writeString(
        page, HtmlReport.renderHistory("m", history(), Instant.parse("2026-12-02T00:00:00Z")));
    BufferedImage shot = HeadlessChromium.open(page, dir).screenshot();

    List<int[]> edges = rows(shot, Charts.BAND_EDGE, 300);
    assertThat(edges).as("rows of the band's upper and lower edge on the rendered page").hasSize(2);
    int[] plot = plotRows(shot, edges.get(0)[0], edges.get(1)[1]);
    System.out.printf(
        "history in chromium: band edges at rows %d and %d, plot area rows %d to %d%n",
        edges.get(0)[0], edges.get(1)[1], plot[0], plot[1]);
    assertThat(edges.get(0)[0]).as("plot area left above the band").isGreaterThan(plot[0] + 3);
    assertThat(edges.get(1)[1]).as("plot area left below the band").isLessThan(plot[1] - 3);
    assertThat(rows(shot, Charts.HISTORY, 1)).as("the points are drawn").isNotEmpty();
  }

  @Test
  void reportPageDrawsTheMarginInsideTheIntervalChartAndTheBandInsideTheHistoryChart()
      throws Exception {
    var flag = Flags.flag("m", "v4", Flag.GREEN, null);
    ReviewMaterial material = ReviewMaterial.unarchived(flag, history());
    Path page = dir.resolve("report.html");
    Files.writeString(
        page, HtmlReport.render(material, Instant.parse("2026-12-02T00:00:00Z")).html());
    BufferedImage shot = HeadlessChromium.open(page, dir).screenshot();
    assertThat(columns(shot, Charts.MARGIN_EDGE, 40))
        .as("the margin line of the interval chart")
        .hasSize(1);
    assertThat(rows(shot, Charts.BAND_EDGE, 300))
        .as("the band's edges in the history chart")
        .hasSize(2);
  }

  /**
   * Runs of consecutive rows with at least {@code minimum} pixels of exactly {@code color}: {first,
   * last}.
   */
  static List<int[]> rows(BufferedImage image, Color color, int minimum) {
    return runs(image, color, minimum, true);
  }

  static List<int[]> columns(BufferedImage image, Color color, int minimum) {
    return runs(image, color, minimum, false);
  }

  private static List<int[]> runs(BufferedImage image, Color color, int minimum, boolean byRow) {
    int rgb = color.getRGB() & 0xffffff;
    int outer = byRow ? image.getHeight() : image.getWidth();
    int inner = byRow ? image.getWidth() : image.getHeight();
    List<int[]> runs = new ArrayList<>();
    for (int a = 0; a < outer; a++) {
      int count = 0;
      for (int b = 0; b < inner; b++) {
        if ((image.getRGB(byRow ? b : a, byRow ? a : b) & 0xffffff) == rgb) {
          count++;
        }
      }
      if (count >= minimum) {
        if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] == a - 1) {
          runs.get(runs.size() - 1)[1] = a;
        } else {
          runs.add(new int[] {a, a});
        }
      }
    }
    return runs;
  }

  /**
   * The plot area's first and last row in a column of the band's upper edge: from the band, over
   * the plot's white background and light gridlines, up and down to the plot's darker outline.
   */
  static int[] plotRows(BufferedImage image, int top, int bottom) {
    int rgb = Charts.BAND_EDGE.getRGB() & 0xffffff;
    int x = -1;
    for (int c = image.getWidth() / 3; c < image.getWidth() && x < 0; c++) {
      if ((image.getRGB(c, top) & 0xffffff) == rgb && (image.getRGB(c, bottom) & 0xffffff) == rgb) {
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
