package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.SequentialSettings;
import io.evalfleet.dispatcher.decision.SequentialSimulation;
import io.evalfleet.dispatcher.decision.SequentialSimulation.Arm;
import io.evalfleet.dispatcher.decision.SequentialSimulation.Result;
import io.evalfleet.dispatcher.decision.SequentialSimulation.Rows;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What stopping early buys and costs: over simulated paired runs with a known true change, how
 * often the sequential decision ends RED, GREEN or undecided and how many rows it scores, next to
 * one fixed-sample test on all rows and to naive peeking.
 */
@Command(
    name = "sequential",
    header =
        "Simulates early stopping: error rates, power and rows scored against scoring every row.",
    description = {
      "Simulate paired runs (perplexity-like rows of 100 to 400 tokens and nDCG-like per-query values in [0, 1]) with a known true change, look after every shard, and print per change: P(RED), P(GREEN), P(undecided at the end) and the mean share of rows scored, for the sequential decision, the fixed-sample test on all rows, the fixed test checked at every look (naive peeking), and the sequential decision followed by the fixed test where it ran to the end.",
      "A change is a relative change in the bad direction; the margin is the policy's non-inferiority margin, so a change at the margin is the worst case for both a false RED and a false GREEN."
    })
public final class SequentialBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Spec CommandSpec spec;

  @Option(
      names = "--runs",
      defaultValue = "2000",
      description = "Simulated runs per change and row model. Default: ${DEFAULT-VALUE}.")
  int runs;

  @Option(
      names = "--rows",
      defaultValue = "10000",
      description = "Rows of each run. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--shard-rows",
      defaultValue = "50",
      description = "Rows between two looks (one shard). Default: ${DEFAULT-VALUE}.")
  int shardRows;

  @Option(
      names = "--margin",
      defaultValue = "0.02",
      description = "Non-inferiority margin, a relative change. Default: ${DEFAULT-VALUE}.")
  double margin;

  @Option(
      names = "--min-rows",
      defaultValue = "100",
      description = "Fewest rows a look needs before it may stop. Default: ${DEFAULT-VALUE}.")
  int minRows;

  @Option(
      names = "--tuning-rows",
      defaultValue = "1000",
      description = "Rows at which the confidence sequence is tightest. Default: ${DEFAULT-VALUE}.")
  int tuningRows;

  @Option(
      names = "--alpha-share",
      defaultValue = "0.5",
      description =
          "Share of α the looks spend; a run no look stopped is decided by the fixed test at the"
              + " rest. Default: ${DEFAULT-VALUE}.")
  double alphaShare;

  @Option(
      names = "--changes",
      split = ",",
      defaultValue = "0,0.01,0.02,0.03,0.06",
      description = "True relative changes in the bad direction. Default: ${DEFAULT-VALUE}.")
  List<Double> changes;

  @Option(
      names = "--nll-noise",
      defaultValue = "0.1",
      description =
          "Perplexity rows: sd of the candidate's per-row NLL per token around the baseline's, in"
              + " nats. Default: ${DEFAULT-VALUE}.")
  double nllNoise;

  @Option(
      names = "--ndcg-noise",
      defaultValue = "0.2",
      description =
          "nDCG rows: half-width of the uniform noise on the candidate's per-query value. Default:"
              + " ${DEFAULT-VALUE}.")
  double ndcgNoise;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Seed of the first run. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (runs < 1 || shardRows < 1 || rows < minRows) {
      throw new ParameterException(
          spec.commandLine(),
          String.format(
              Locale.ROOT,
              "--runs and --shard-rows must be at least 1 and --rows at least --min-rows (%d) so"
                  + " that a look can stop; got --runs %d, --shard-rows %d, --rows %d",
              minRows,
              runs,
              shardRows,
              rows));
    }
    System.out.println("full log: " + logging.apply("bench-sequential"));
    SequentialSettings settings =
        SequentialSettings.enabled(minRows, tuningRows).withAlphaShare(alphaShare);
    Policy example = Rows.PERPLEXITY.policy(margin, 0.95, settings);
    System.out.printf(
        Locale.ROOT,
        "%,d runs of %,d rows per change, a look every %d rows from %d rows on, margin %s,"
            + " α=%.4g (the looks %.4g, the fixed test of a run they did not stop %.4g), ρ tuned to"
            + " %,d rows%n",
        runs,
        rows,
        shardRows,
        minRows,
        String.format(Locale.ROOT, "%.2f%%", 100 * margin),
        example.alpha(),
        example.lookAlpha(),
        example.afterLooks().alpha(),
        tuningRows);
    for (Rows model : Rows.values()) {
      Policy policy = model.policy(margin, 0.95, settings);
      double noise = model == Rows.PERPLEXITY ? nllNoise : ndcgNoise;
      System.out.printf(
          Locale.ROOT,
          "%n%s (paired noise %s)%n%-8s %-22s %6s %7s %7s %7s%n",
          model.metric(),
          noise,
          "change",
          "decision",
          "P(RED)",
          "P(GRN)",
          "P(end)",
          "rows");
      long started = System.nanoTime();
      for (double change : changes) {
        Result result =
            SequentialSimulation.run(model, change, runs, rows, shardRows, policy, noise, seed);
        print(change, "sequential", result.sequential());
        print(change, "fixed, all rows", result.fixed());
        print(change, "peeking (naive)", result.peeking());
        print(change, "sequential, then fixed", result.sequentialThenFixed());
      }
      System.out.printf(
          Locale.ROOT,
          "(%d changes simulated in %.1f s)%n",
          changes.size(),
          (System.nanoTime() - started) / 1e9);
    }
    return 0;
  }

  private static void print(double change, String decision, Arm arm) {
    System.out.printf(
        Locale.ROOT,
        "%-8s %-22s %6.3f %7.3f %7.3f %7.3f%n",
        String.format(Locale.ROOT, "%+.1f%%", 100 * change),
        decision,
        arm.red(),
        arm.green(),
        arm.end(),
        arm.fractionScored());
  }
}
