package io.evalfleet.cli.progress;

import io.evalfleet.common.contract.RunProgress;
import java.io.Console;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows runs' progress as it arrives: on a terminal, one live bar per run (the progressbar library)
 * with rows scored, rows/s and the ETA the dispatcher's rate gives; elsewhere (a pipe, a CI log)
 * one plain line per update. Not thread-safe.
 */
public abstract class ProgressDisplay implements AutoCloseable {
  /**
   * A display for {@code out}: bars when the process has a terminal, plain lines when it has not.
   */
  public static ProgressDisplay forConsole(PrintStream out) {
    return onTerminal() ? bars(out) : lines(out);
  }

  /**
   * Whether the process talks to a terminal. From Java 22 {@code System.console()} exists without
   * one too, and {@code Console.isTerminal()} tells; before, a console exists only on a terminal.
   */
  static boolean onTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  public static ProgressDisplay bars(PrintStream out) {
    return new Bars(out);
  }

  public static ProgressDisplay lines(PrintStream out) {
    return new Lines(out);
  }

  /**
   * Runs whose flag arrived, the most recent ones: progress read after a run's flag is not shown
   * again.
   */
  private final Map<String, Boolean> finished =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > 10_000;
        }
      };

  /** Shows one progress record, unless its run already ended. */
  public final void show(RunProgress progress) {
    if (!finished.containsKey(progress.runId())) {
      draw(progress);
    }
  }

  /** The run ended (its flag arrived): its bar is completed and closed. */
  public final void finish(String runId) {
    finished.put(runId, Boolean.TRUE);
    end(runId);
  }

  protected abstract void draw(RunProgress progress);

  protected abstract void end(String runId);

  @Override
  public abstract void close();

  /** {@code 12/55 shards · 2,300 rows/s · ETA 5 s}, the words both displays use. */
  static String describe(RunProgress p) {
    String eta = p.etaSeconds().isPresent() ? " · ETA " + duration(p.etaSeconds().getAsLong()) : "";
    return String.format(
        Locale.ROOT,
        "%d/%d shards · %,.0f rows/s%s",
        p.shardsDone(),
        p.shardsTotal(),
        p.rowsPerSecond(),
        eta);
  }

  private static String duration(long seconds) {
    return seconds < 60
        ? seconds + " s"
        : seconds < 3600
            ? (seconds / 60) + " min " + (seconds % 60) + " s"
            : (seconds / 3600) + " h " + (seconds % 3600 / 60) + " min";
  }

  private static final class Bars extends ProgressDisplay {
    private final PrintStream out;
    private final Map<String, ProgressBar> bars = new LinkedHashMap<>();

    Bars(PrintStream out) {
      this.out = out;
    }

    @Override
    protected void draw(RunProgress p) {
      ProgressBar bar =
          bars.computeIfAbsent(
              p.runId(),
              id ->
                  new ProgressBarBuilder()
                      .setTaskName(p.model() + " " + p.version())
                      .setInitialMax(Math.max(1, p.rowsTotal()))
                      .setUnit(" rows", 1)
                      .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                      .setUpdateIntervalMillis(250)
                      // The library's own ETA would be from this process's view; the message
                      // carries the dispatcher's.
                      .setConsumer(new ConsoleProgressBarConsumer(out))
                      .hideEta()
                      .build());
      bar.maxHint(Math.max(1, p.rowsTotal()));
      bar.stepTo(p.rowsScored());
      bar.setExtraMessage(describe(p));
      if (p.complete()) {
        bar.refresh();
      }
    }

    @Override
    protected void end(String runId) {
      ProgressBar bar = bars.remove(runId);
      if (bar != null) {
        bar.stepTo(bar.getMax());
        bar.close();
      }
    }

    @Override
    public void close() {
      bars.values().forEach(ProgressBar::close);
      bars.clear();
    }
  }

  private static final class Lines extends ProgressDisplay {
    private final PrintStream out;
    private final Map<String, Long> shown = new LinkedHashMap<>();

    Lines(PrintStream out) {
      this.out = out;
    }

    @Override
    protected void draw(RunProgress p) {
      Long before = shown.put(p.runId(), p.rowsScored());
      if (before != null && before == p.rowsScored() && !p.complete()) {
        return;
      }
      double percent = p.rowsTotal() == 0 ? 0 : 100.0 * p.rowsScored() / p.rowsTotal();
      out.println(
          String.format(
              Locale.ROOT,
              "progress %s %s: %,d/%,d rows (%.0f%%) · %s",
              p.model(),
              p.version(),
              p.rowsScored(),
              p.rowsTotal(),
              percent,
              describe(p)));
      out.flush();
    }

    @Override
    protected void end(String runId) {
      shown.remove(runId);
    }

    @Override
    public void close() {}
  }
}
