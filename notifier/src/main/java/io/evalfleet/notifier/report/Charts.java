package io.evalfleet.notifier.report;

import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.task.Direction;
import io.evalfleet.notifier.review.RowChanges;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's charts, drawn on the server by JFreeChart as PNG. Each kind of chart draws its data
 * in its own colour ({@link #HISTOGRAM}, {@link #SCATTER}, {@link #INTERVAL}, {@link #HISTORY}), so
 * that a rendered page can be checked for them. Thread-safe (each call builds its own chart).
 */
public final class Charts {
  public static final Color HISTOGRAM = new Color(0x1f, 0x77, 0xb4);
  public static final Color SCATTER = new Color(0xd6, 0x27, 0x28);
  public static final Color INTERVAL = new Color(0x2c, 0xa0, 0x2c);
  public static final Color HISTORY = new Color(0x94, 0x67, 0xbd);

  /** The side of a margin or limit a metric must not cross, and the production band. */
  private static final Color BAD_REGION = new Color(0xf4, 0xcc, 0xcc);

  private static final Color BAND = new Color(0xdd, 0xdd, 0xf4);

  /**
   * The edges of the production band and the margin or limit itself, drawn as lines only where they
   * lie inside the plot: a rendered page shows both band edges, or the chart does not show its
   * band.
   */
  public static final Color BAND_EDGE = new Color(0x55, 0x55, 0xc8);

  public static final Color MARGIN_EDGE = new Color(0xc8, 0x3c, 0x3c);
  private static final BasicStroke EDGE = new BasicStroke(2f);

  /**
   * The room an axis leaves beyond the outermost thing it must show, as a share of what it shows.
   */
  static final double AXIS_PADDING = 0.08;

  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private Charts() {}

  /** The per-row change (or score, without a baseline) as a histogram. */
  public static byte[] histogram(RowChanges changes, int bins, String title) {
    RowChanges.Bins histogram = changes.bins(bins);
    XYIntervalSeries series = new XYIntervalSeries("rows");
    for (int i = 0; i < histogram.counts().length; i++) {
      double low = histogram.edges()[i];
      double high = histogram.edges()[i + 1];
      series.add((low + high) / 2, low, high, histogram.counts()[i], 0, histogram.counts()[i]);
    }
    XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
    data.addSeries(series);
    XYBarRenderer bars = new XYBarRenderer(0.05);
    bars.setBarPainter(new StandardXYBarPainter());
    bars.setShadowVisible(false);
    bars.setSeriesPaint(0, HISTOGRAM);
    XYPlot plot =
        new XYPlot(
            data,
            new NumberAxis(
                changes.hasBaseline()
                    ? "change of " + changes.score().name()
                    : changes.score().name()),
            new NumberAxis("rows"),
            bars);
    if (changes.hasBaseline()) {
      plot.addDomainMarker(new ValueMarker(0, Color.DARK_GRAY, new BasicStroke(1f)));
    }
    return png(chart(title, plot), 720, 360);
  }

  /**
   * The most points a scatter draws; larger runs are drawn from an evenly spaced sample of their
   * rows.
   */
  static final int SCATTER_POINTS = 20_000;

  /**
   * Each row's score in the baseline against the candidate, with the line of no change. Over {@link
   * #SCATTER_POINTS} rows, every k-th row is drawn (and the title says so), plus the rows that
   * moved most, so that the outliers a reviewer looks for are never sampled away.
   */
  public static byte[] scatter(RowChanges changes, String baselineVersion, String version) {
    XYSeries rows = new XYSeries("rows", false, true);
    double low = Double.POSITIVE_INFINITY;
    double high = Double.NEGATIVE_INFINITY;
    List<RowChanges.MovedRow> pairs = changes.pairs();
    int step = Math.max(1, (int) Math.ceil(pairs.size() / (double) SCATTER_POINTS));
    List<RowChanges.MovedRow> drawn = new ArrayList<>();
    for (int i = 0; i < pairs.size(); i += step) {
      drawn.add(pairs.get(i));
    }
    if (step > 1) {
      drawn.addAll(changes.mostMoved(100));
    }
    for (RowChanges.MovedRow row : drawn) {
      rows.add(row.baseline(), row.candidate());
      low = Math.min(low, Math.min(row.baseline(), row.candidate()));
      high = Math.max(high, Math.max(row.baseline(), row.candidate()));
    }
    XYSeries same = new XYSeries("no change", false, true);
    if (low <= high) {
      same.add(low, low);
      same.add(high, high);
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(rows);
    data.addSeries(same);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
    renderer.setSeriesLinesVisible(0, false);
    renderer.setSeriesShapesVisible(0, true);
    renderer.setSeriesShape(0, new Ellipse2D.Double(-2.5, -2.5, 5, 5));
    renderer.setSeriesPaint(0, SCATTER);
    renderer.setSeriesShapesVisible(1, false);
    renderer.setSeriesPaint(1, Color.GRAY);
    String name = changes.score().name();
    NumberAxis x = new NumberAxis(name + ", " + baselineVersion);
    NumberAxis y = new NumberAxis(name + ", " + version);
    x.setAutoRangeIncludesZero(false);
    y.setAutoRangeIncludesZero(false);
    String title =
        step == 1
            ? "per row: baseline against candidate"
            : String.format(
                Locale.ROOT,
                "per row: baseline against candidate (every %d. of %,d rows)",
                step,
                pairs.size());
    return png(chart(title, new XYPlot(data, x, y, renderer)), 520, 520);
  }

  /**
   * A metric's relative change with its confidence interval, against the margin the policy allows
   * (the forbidden side shaded, the margin drawn); for a metric judged on its own value, the value
   * and its interval against the limit. The axis always includes the interval, zero (or the limit)
   * and the margin, so the line the metric is held to is inside the plot.
   */
  public static byte[] interval(String metric, MetricValue value) {
    return value.limit() != null ? limitInterval(metric, value) : changeInterval(metric, value);
  }

  private static byte[] changeInterval(String metric, MetricValue value) {
    double change = 100 * value.relativeDelta();
    double low = value.ciLow() == null ? change : 100 * value.ciLow();
    double high = value.ciHigh() == null ? change : 100 * value.ciHigh();
    NumberAxis x = new NumberAxis("relative change (%)");
    XYPlot plot = intervalPlot(change, low, high, x);
    plot.addDomainMarker(new ValueMarker(0, Color.DARK_GRAY, new BasicStroke(1f)));
    double extent = Math.max(Math.abs(low), Math.abs(high));
    if (value.margin() != null) {
      double margin = 100 * value.margin();
      extent = Math.max(extent, margin);
      Direction direction = Direction.valueOf(value.direction().toUpperCase(Locale.ROOT));
      double far = 1e6;
      if (direction != Direction.HIGHER_IS_BETTER) {
        plot.addDomainMarker(forbidden(margin, far), Layer.BACKGROUND);
      }
      if (direction != Direction.LOWER_IS_BETTER) {
        plot.addDomainMarker(forbidden(-far, -margin), Layer.BACKGROUND);
      }
    }
    extent = Math.max(extent * (1 + 3 * AXIS_PADDING), 1e-3);
    x.setRange(-extent, extent);
    return png(chart(metric + ": change and interval against the margin", plot), 720, 180);
  }

  private static byte[] limitInterval(String metric, MetricValue value) {
    double limit = value.limit();
    double low = value.ciLow() == null ? value.value() : value.ciLow();
    double high = value.ciHigh() == null ? value.value() : value.ciHigh();
    NumberAxis x = new NumberAxis(metric);
    XYPlot plot = intervalPlot(value.value(), low, high, x);
    double far = 1e12;
    plot.addDomainMarker(
        "higher_is_better".equals(value.direction())
            ? forbidden(-far, limit)
            : forbidden(limit, far),
        Layer.BACKGROUND);
    double[] range =
        padded(
            Math.min(Math.min(low, value.value()), limit),
            Math.max(Math.max(high, value.value()), limit));
    x.setRange(range[0], range[1]);
    return png(chart(metric + ": value and interval against the limit", plot), 720, 180);
  }

  private static XYPlot intervalPlot(double estimate, double low, double high, NumberAxis x) {
    XYIntervalSeries series = new XYIntervalSeries("interval");
    series.add(estimate, low, high, 0, 0, 0);
    XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
    data.addSeries(series);
    XYErrorRenderer renderer = new XYErrorRenderer();
    renderer.setDrawYError(false);
    renderer.setDrawXError(true);
    renderer.setErrorPaint(INTERVAL);
    renderer.setErrorStroke(new BasicStroke(4f));
    renderer.setCapLength(14);
    renderer.setSeriesPaint(0, INTERVAL);
    renderer.setSeriesShape(0, new Ellipse2D.Double(-6, -6, 12, 12));
    NumberAxis y = new NumberAxis();
    y.setVisible(false);
    y.setRange(-1, 1);
    return new XYPlot(data, x, y, renderer);
  }

  /** The forbidden side of a margin or limit: shaded, its finite edge drawn as a line. */
  private static IntervalMarker forbidden(double from, double to) {
    IntervalMarker marker = new IntervalMarker(from, to, BAD_REGION, EDGE, MARGIN_EDGE, EDGE, 1f);
    return marker;
  }

  /**
   * {@code [low, high]} widened by {@link #AXIS_PADDING} on each side (around the value when they
   * are equal).
   */
  static double[] padded(double low, double high) {
    double span = high - low;
    double pad = span > 0 ? span * AXIS_PADDING : Math.max(Math.abs(low) * AXIS_PADDING, 1e-6);
    return new double[] {low - pad, high + pad};
  }

  /**
   * A metric's value in each archived evaluation, oldest first, over the production band when there
   * is one. The value axis spans the points and the whole band (both edges drawn), so a band wider
   * than the points' spread is seen as a band and not as a shaded plot.
   */
  public static byte[] history(
      String metric, List<EvaluationLock> locks, Double bandLow, Double bandHigh) {
    XYSeries series = new XYSeries(metric, false, true);
    String[] versions = new String[locks.size()];
    for (int i = 0; i < locks.size(); i++) {
      versions[i] = locks.get(i).version();
      EvaluationLock.LockedMetric value = locks.get(i).metrics().get(metric);
      if (value != null) {
        series.add(i, value.value());
      }
    }
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    renderer.setSeriesPaint(0, HISTORY);
    renderer.setSeriesStroke(0, new BasicStroke(2.5f));
    renderer.setSeriesShape(0, new Ellipse2D.Double(-4, -4, 8, 8));
    SymbolAxis x = new SymbolAxis("version", versions);
    x.setGridBandsVisible(false);
    NumberAxis y = new NumberAxis(metric);
    y.setAutoRangeIncludesZero(false);
    XYPlot plot = new XYPlot(new XYSeriesCollection(series), x, y, renderer);
    if (bandLow != null && bandHigh != null) {
      plot.addRangeMarker(
          new IntervalMarker(
              Math.min(bandLow, bandHigh),
              Math.max(bandLow, bandHigh),
              BAND,
              EDGE,
              BAND_EDGE,
              EDGE,
              1f),
          Layer.BACKGROUND);
      double low = Math.min(bandLow, bandHigh);
      double high = Math.max(bandLow, bandHigh);
      if (!series.isEmpty()) {
        low = Math.min(low, series.getMinY());
        high = Math.max(high, series.getMaxY());
      }
      double[] range = padded(low, high);
      y.setRange(range[0], range[1]);
    }
    return png(
        chart(
            metric + " across versions" + (bandLow != null ? " (shaded: production band)" : ""),
            plot),
        720,
        300);
  }

  private static JFreeChart chart(String title, XYPlot plot) {
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xe0, 0xe0, 0xe0));
    plot.setRangeGridlinePaint(new Color(0xe0, 0xe0, 0xe0));
    JFreeChart chart = new JFreeChart(title, TITLE, plot, false);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  private static byte[] png(JFreeChart chart, int width, int height) {
    BufferedImage image = chart.createBufferedImage(width, height);
    try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      ChartUtils.writeBufferedImageAsPNG(out, image);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
