package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.dispatcher.decision.MetricVector;
import io.evalfleet.dispatcher.decision.PairedBootstrap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The paired bootstrap's cost, next to the obvious way of computing it: copy every resample's rows
 * and compute its metrics from scratch (commons-math Spearman, which sorts and boxes every value).
 */
@Command(
    name = "bootstrap",
    header = "Times the paired bootstrap next to recomputing every resample.",
    description =
        "Time the paired bootstrap (2000 resamples by default) on synthetic STS rows, next to rebuilding each resample's rows and recomputing its metrics from scratch; prints both and their ratio.")
public final class BootstrapBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--rows",
      defaultValue = "240",
      description = "Golden rows (pairs). Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--resamples",
      defaultValue = "2000",
      description = "Bootstrap resamples. Default: ${DEFAULT-VALUE}.")
  int resamples;

  @Option(
      names = "--rounds",
      defaultValue = "5",
      description = "Timed rounds (median reported). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-bootstrap"));
    SplittableRandom random = new SplittableRandom(11);
    Map<String, double[]> baseline = new LinkedHashMap<>();
    Map<String, double[]> candidate = new LinkedHashMap<>();
    double[] gold = new double[rows];
    double[] cosineBase = new double[rows];
    double[] cosineCandidate = new double[rows];
    for (int i = 0; i < rows; i++) {
      gold[i] = Math.round(random.nextDouble(0, 5) * 5) / 5.0; // ties, as human scores have
      cosineBase[i] = 0.1 + 0.17 * gold[i] + random.nextGaussian() * 0.08;
      cosineCandidate[i] = cosineBase[i] + random.nextGaussian() * 0.02;
    }
    baseline.put(MetricNames.COSINE, cosineBase);
    baseline.put(MetricNames.GOLD, gold);
    candidate.put(MetricNames.COSINE, cosineCandidate);
    candidate.put(MetricNames.GOLD, gold);

    PairedBootstrap bootstrap = new PairedBootstrap(resamples, 7);
    bootstrap.resample(baseline, candidate); // warm-up
    recompute(baseline, candidate);
    double[] fast = new double[rounds];
    double[] naive = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long started = System.nanoTime();
      bootstrap.resample(baseline, candidate);
      fast[r] = (System.nanoTime() - started) / 1e9;
      started = System.nanoTime();
      recompute(baseline, candidate);
      naive[r] = (System.nanoTime() - started) / 1e9;
    }
    double f = Rounds.median(fast);
    double n = Rounds.median(naive);
    System.out.printf(
        Locale.ROOT,
        "paired bootstrap, %d resamples x %d pairs (median of %d rounds):%n",
        resamples,
        rows,
        rounds);
    System.out.printf(
        Locale.ROOT, "  evalfleet (ranks once, multiplicities per resample): %8.1f ms%n", f * 1e3);
    System.out.printf(
        Locale.ROOT, "  rebuild rows and recompute every resample:            %8.1f ms%n", n * 1e3);
    System.out.printf(Locale.ROOT, "  ratio: %.1fx faster%n", n / f);
    return 0;
  }

  /** The obvious implementation: materialise each resample of both runs and compute its metrics. */
  private void recompute(Map<String, double[]> baseline, Map<String, double[]> candidate) {
    SplittableRandom random = new SplittableRandom(7);
    for (int r = 0; r < resamples; r++) {
      int[] picks = new int[rows];
      for (int i = 0; i < rows; i++) {
        picks[i] = random.nextInt(rows);
      }
      MetricVector.metrics(pick(baseline, picks));
      MetricVector.metrics(pick(candidate, picks));
    }
  }

  private static Map<String, double[]> pick(Map<String, double[]> columns, int[] picks) {
    Map<String, double[]> picked = new LinkedHashMap<>();
    columns.forEach(
        (name, values) -> {
          double[] out = new double[picks.length];
          for (int i = 0; i < picks.length; i++) {
            out[i] = values[picks[i]];
          }
          picked.put(name, out);
        });
    return picked;
  }
}
