package io.evalfleet.dispatcher.decision;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

/**
 * Paired bootstrap of the relative change of every metric between a baseline and a candidate scored
 * on the same golden rows. Each resample draws row indices with replacement and applies the same
 * indices to both sides, so row difficulty cancels and only the models' difference varies. Each
 * metric is recomputed on the resampled rows with the definitions of {@link MetricVector#metrics}
 * (through {@link ResampledMetrics}, which gives the same values without copying or sorting per
 * resample), so pooled metrics (perplexity over tokens) are pooled inside each resample, never
 * averaged across rows. The observed values are {@code MetricVector.metrics} itself.
 *
 * <p>The draws are those of one {@link java.util.SplittableRandom} seeded with {@code seed},
 * consumed in a fixed order ({@code nextInt(rows)}, rows times per resample), so the same inputs
 * and seed give the same result bit for bit. Large inputs (from {@value #PARALLEL_DRAWS} draws in
 * all) are resampled on up to {@code threads} threads of a pool this call starts and stops: {@link
 * ResampleDraws} gives each resample its own start in that one stream, and each resample is
 * computed whole by one thread, so the result is the same bit for bit whatever the thread count.
 *
 * <p>Instances are immutable and thread-safe; each call allocates its own buffers, reused across
 * its resamples. 2000 resamples of 240 pairs take a few milliseconds; of a million rows, seconds
 * per metric ({@code evalfleet bench decide-million}).
 */
public final class PairedBootstrap {
  /** Draws (rows × resamples) from which a call resamples on several threads. */
  static final long PARALLEL_DRAWS = 20_000_000;

  private final int resamples;
  private final long seed;
  private final int threads;

  /**
   * Metrics computed by {@link ResampledMetrics}; any other is computed on the expanded resample.
   */
  private final Set<String> fastMetrics;

  /**
   * A bootstrap that resamples large inputs on as many threads as there are processors.
   *
   * @throws IllegalArgumentException when {@code resamples} is below 1
   */
  public PairedBootstrap(int resamples, long seed) {
    this(resamples, seed, Runtime.getRuntime().availableProcessors());
  }

  /**
   * @param threads most threads one call resamples on (only large inputs use more than the
   *     caller's); the result does not depend on it
   * @throws IllegalArgumentException when {@code resamples} or {@code threads} is below 1
   */
  public PairedBootstrap(int resamples, long seed, int threads) {
    this(resamples, seed, threads, Set.copyOf(ResampledMetrics.SUPPORTED));
  }

  PairedBootstrap(int resamples, long seed, Set<String> fastMetrics) {
    this(resamples, seed, 1, fastMetrics);
  }

  PairedBootstrap(int resamples, long seed, int threads, Set<String> fastMetrics) {
    if (resamples < 1) {
      throw new IllegalArgumentException("resamples must be at least 1, was " + resamples);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, was " + threads);
    }
    this.resamples = resamples;
    this.seed = seed;
    this.threads = threads;
    this.fastMetrics = Set.copyOf(fastMetrics);
  }

  /**
   * Resamples the rows of both runs.
   *
   * @param baseline per-row values of the baseline, by {@link io.evalfleet.common.task.MetricNames}
   *     name
   * @param candidate per-row values of the candidate on the same rows in the same order
   * @throws IllegalArgumentException when a column's length differs from the others (on either
   *     side), when the runs share no column, or when there are no rows
   */
  public BootstrapResult resample(Map<String, double[]> baseline, Map<String, double[]> candidate) {
    return resample(baseline, candidate, null);
  }

  /**
   * As {@link #resample(Map, Map)}, resampling only the named metrics (the others' observed values
   * are still in the result's metric vectors). The draws are the same, so each named metric's
   * resampled values are those of the full call.
   *
   * @param only the metrics to resample; null for all
   */
  public BootstrapResult resample(
      Map<String, double[]> baseline, Map<String, double[]> candidate, Set<String> only) {
    List<String> columns = sharedColumns(baseline, candidate);
    int rows = rowCount(columns, baseline, candidate);
    Map<String, Double> baselineMetrics = MetricVector.metrics(baseline);
    Map<String, Double> candidateMetrics = MetricVector.metrics(candidate);
    List<String> metrics = new ArrayList<>(baselineMetrics.keySet());
    metrics.retainAll(candidateMetrics.keySet());
    if (only != null) {
      metrics.retainAll(only);
    }

    // A metric with a fast resampled form uses it; any other (a new task's, say) is recomputed with
    // MetricVector.metrics on each resample's expanded rows: slower, and just as exact.
    List<String> fast = metrics.stream().filter(fastMetrics::contains).toList();
    List<String> slow = metrics.stream().filter(m -> !fastMetrics.contains(m)).toList();
    metrics = new ArrayList<>(fast);
    metrics.addAll(slow);
    // Metrics of the candidate alone (a token shift compares it with the baseline already) are
    // resampled with the same draws: a one-sample bootstrap of their values.
    List<String> alone =
        candidateMetrics.keySet().stream()
            .filter(m -> !baselineMetrics.containsKey(m) && fastMetrics.contains(m))
            .filter(m -> only == null || only.contains(m))
            .toList();
    int[] units = units(columns, baseline, candidate, rows);
    // Only the drawn units are kept (in row order), so draws index them directly and a row that is
    // never drawn is never read.
    Map<String, double[]> before = compact(baseline, units, rows);
    Map<String, double[]> after = compact(candidate, units, rows);
    Resampling plan =
        new Resampling(
            new ResampleDraws(seed, units.length),
            new ResampledMetrics(before, fast),
            new ResampledMetrics(after, fast),
            new ResampledMetrics(after, alone),
            slow.isEmpty() ? null : before,
            slow.isEmpty() ? null : after,
            columns,
            slow,
            new double[metrics.size()][resamples],
            new double[alone.size()][resamples]);
    int workers = workers(units.length);
    if (workers == 1) {
      plan.run(plan.draws.starts(resamples, null), new Worker(plan, true), 0, 1);
    } else {
      runInParallel(plan, workers);
    }
    Map<String, double[]> byMetric = new LinkedHashMap<>();
    for (int m = 0; m < metrics.size(); m++) {
      byMetric.put(metrics.get(m), plan.changes[m]);
    }
    Map<String, double[]> aloneByMetric = new LinkedHashMap<>();
    for (int m = 0; m < alone.size(); m++) {
      aloneByMetric.put(alone.get(m), plan.values[m]);
    }
    return new BootstrapResult(
        units.length, resamples, seed, baselineMetrics, candidateMetrics, byMetric, aloneByMetric);
  }

  /**
   * How many threads resample: one for small inputs, where starting threads would cost more than it
   * saves; up to {@code threads} once the draws number in the tens of millions.
   */
  private int workers(int units) {
    long draws = (long) units * resamples;
    return draws < PARALLEL_DRAWS ? 1 : Math.min(threads, resamples);
  }

  private void runInParallel(Resampling plan, int workers) {
    ExecutorService executor =
        Executors.newFixedThreadPool(
            workers,
            task -> {
              Thread thread = new Thread(task, "paired-bootstrap");
              thread.setDaemon(true);
              return thread;
            });
    try {
      long[] starts = plan.draws.starts(resamples, executor);
      List<Callable<Void>> tasks = new ArrayList<>();
      for (int w = 0; w < workers; w++) {
        int first = w;
        Worker worker = new Worker(plan, w == 0);
        tasks.add(
            () -> {
              plan.run(starts, worker, first, workers);
              return null;
            });
      }
      for (Future<Void> done : executor.invokeAll(tasks)) {
        done.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while resampling", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("resampling failed", e.getCause());
    } finally {
      executor.shutdownNow();
    }
  }

  /**
   * What every resample shares, and where each writes its values: resample r fills column r of
   * {@code changes} and {@code values}, whichever thread draws it.
   */
  private record Resampling(
      ResampleDraws draws,
      ResampledMetrics before,
      ResampledMetrics after,
      ResampledMetrics alone,
      Map<String, double[]> baselineRows,
      Map<String, double[]> candidateRows,
      List<String> columns,
      List<String> slow,
      double[][] changes,
      double[][] values) {

    /** Resamples {@code first}, {@code first + step}, ... */
    void run(long[] starts, Worker worker, int first, int step) {
      int units = worker.counts.length;
      int fast = changes.length - slow.size();
      for (int r = first; r < starts.length; r += step) {
        Arrays.fill(worker.counts, 0);
        draws.draw(starts[r], worker.counts);
        worker.before.compute(worker.counts, units, worker.beforeValues);
        worker.after.compute(worker.counts, units, worker.afterValues);
        worker.alone.compute(worker.counts, units, worker.aloneValues);
        for (int m = 0; m < values.length; m++) {
          values[m][r] = worker.aloneValues[m];
        }
        for (int m = 0; m < fast; m++) {
          changes[m][r] =
              BootstrapResult.relativeChange(worker.beforeValues[m], worker.afterValues[m]);
        }
        if (!slow.isEmpty()) {
          Map<String, Double> beforeSlow =
              MetricVector.metrics(expand(baselineRows, columns, worker.counts, units));
          Map<String, Double> afterSlow =
              MetricVector.metrics(expand(candidateRows, columns, worker.counts, units));
          for (int m = 0; m < slow.size(); m++) {
            changes[fast + m][r] =
                BootstrapResult.relativeChange(
                    beforeSlow.get(slow.get(m)), afterSlow.get(slow.get(m)));
          }
        }
      }
    }
  }

  /** One thread's draws and scratch. */
  private static final class Worker {
    final int[] counts;
    final ResampledMetrics before;
    final ResampledMetrics after;
    final ResampledMetrics alone;
    final double[] beforeValues;
    final double[] afterValues;
    final double[] aloneValues;

    Worker(Resampling plan, boolean first) {
      this.counts = new int[plan.draws().units()];
      this.before = first ? plan.before() : plan.before().forAnotherThread();
      this.after = first ? plan.after() : plan.after().forAnotherThread();
      this.alone = first ? plan.alone() : plan.alone().forAnotherThread();
      this.beforeValues = new double[plan.changes().length];
      this.afterValues = new double[plan.changes().length];
      this.aloneValues = new double[plan.values().length];
    }
  }

  /**
   * The rows both runs scored, the units that are drawn: every row, except rows whose shared values
   * are NaN on either side (a retrieval run's docs and judgements, which only its queries are
   * judged on).
   */
  private static int[] units(
      List<String> columns,
      Map<String, double[]> baseline,
      Map<String, double[]> candidate,
      int rows) {
    boolean[] scored = new boolean[rows];
    Arrays.fill(scored, true);
    for (String column : columns) {
      double[] before = baseline.get(column);
      double[] after = candidate.get(column);
      for (int i = 0; i < rows; i++) {
        scored[i] &= !Double.isNaN(before[i]) && !Double.isNaN(after[i]);
      }
    }
    int[] units = IntStream.range(0, rows).filter(i -> scored[i]).toArray();
    if (units.length == 0) {
      throw new IllegalArgumentException("no row was scored by both runs; nothing to compare");
    }
    return units;
  }

  /** The run's columns at the units' rows only; the columns themselves when every row is one. */
  private static Map<String, double[]> compact(Map<String, double[]> run, int[] units, int rows) {
    Map<String, double[]> compacted = new LinkedHashMap<>();
    run.forEach(
        (name, values) -> {
          if (units.length == rows || values.length != rows) {
            compacted.put(name, values);
          } else {
            double[] kept = new double[units.length];
            for (int u = 0; u < units.length; u++) {
              kept[u] = values[units[u]];
            }
            compacted.put(name, kept);
          }
        });
    return compacted;
  }

  /** The resample's rows: {@code counts[i]} copies of row i of each column, in row order. */
  private static Map<String, double[]> expand(
      Map<String, double[]> run, List<String> columns, int[] counts, int drawn) {
    Map<String, double[]> expanded = new LinkedHashMap<>();
    for (String column : columns) {
      double[] values = run.get(column);
      double[] out = new double[drawn];
      int at = 0;
      for (int i = 0; i < counts.length; i++) {
        for (int c = 0; c < counts[i]; c++) {
          out[at++] = values[i];
        }
      }
      expanded.put(column, out);
    }
    return expanded;
  }

  private static List<String> sharedColumns(
      Map<String, double[]> baseline, Map<String, double[]> candidate) {
    List<String> columns = new ArrayList<>(baseline.keySet());
    columns.retainAll(candidate.keySet());
    if (columns.isEmpty()) {
      throw new IllegalArgumentException(
          "baseline columns "
              + baseline.keySet()
              + " and candidate columns "
              + candidate.keySet()
              + " share none; nothing to compare");
    }
    return columns;
  }

  private static int rowCount(
      List<String> columns, Map<String, double[]> baseline, Map<String, double[]> candidate) {
    int rows = baseline.get(columns.get(0)).length;
    for (String column : columns) {
      int before = baseline.get(column).length;
      int after = candidate.get(column).length;
      if (before != rows || after != rows) {
        throw new IllegalArgumentException(
            String.format(
                "'%s' has %d baseline rows and %d candidate rows, but '%s' has %d: a paired bootstrap needs the"
                    + " same golden rows, in the same order, in every column of both runs",
                column, before, after, columns.get(0), rows));
      }
    }
    if (rows == 0) {
      throw new IllegalArgumentException("the runs have no rows; nothing to compare");
    }
    return rows;
  }
}
