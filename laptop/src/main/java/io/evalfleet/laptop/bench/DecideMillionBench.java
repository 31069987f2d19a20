package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.dispatcher.decision.Decider;
import io.evalfleet.dispatcher.decision.DecisionReport;
import io.evalfleet.dispatcher.decision.PairedBootstrap;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.PolicyFile;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What deciding a million-row subset costs, metric by metric, under the default policy: synthetic
 * paired rows for an embedding task with gold scores (Spearman, mean cosine), a causal LM with a
 * token shift (perplexity, bits per byte, the token shift's means) and a retrieval task (nDCG@10,
 * recall@k, MRR@10 and the index metrics), each timed next to the run deadline's default.
 */
@Command(
    name = "decide-million",
    header = "Times the decision of a million-row subset, metric by metric.",
    description =
        "Build a million synthetic paired rows per task (embedding with gold scores, causal LM with a token shift, retrieval) and time, under the default policy, each metric's paired bootstrap alone and the whole decision of each task; prints them next to the run deadline's default (dispatcher.run-deadline).")
public final class DecideMillionBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--rows",
      defaultValue = "1000000",
      description = "Paired rows per task. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--rounds",
      defaultValue = "1",
      description = "Timed rounds (median reported). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-decide-million"));
    Policy policy = PolicyFile.defaults();
    Duration deadline =
        FleetConfig.RUN_DEADLINE.parser().apply(FleetConfig.RUN_DEADLINE.defaultValue());
    int threads = Runtime.getRuntime().availableProcessors();
    System.out.printf(
        Locale.ROOT,
        "decision of %,d paired rows per task under policy %s (%d resamples, seed %d) on %d"
            + " threads; run deadline default (%s) %s%n",
        rows,
        policy.policyVersion(),
        policy.bootstrapResamples(),
        policy.seed(),
        threads,
        FleetConfig.RUN_DEADLINE.key(),
        deadline);
    System.out.println("wall seconds (process CPU seconds), median of " + rounds + " round(s)");
    Decider decider = new Decider(policy);
    PairedBootstrap bootstrap =
        new PairedBootstrap(policy.bootstrapResamples(), policy.seed(), threads);
    for (SyntheticTask task : tasks()) {
      System.out.println(task.name());
      for (String metric : task.metrics()) {
        Timing timing =
            time(() -> bootstrap.resample(task.baseline(), task.candidate(), Set.of(metric)));
        System.out.printf(Locale.ROOT, "  %-16s %s%n", metric, timing);
      }
      DecisionReport[] report = new DecisionReport[1];
      Timing whole =
          time(() -> report[0] = decider.decide(task.baseline(), task.candidate(), Map.of()));
      System.out.printf(
          Locale.ROOT,
          "  %-16s %s: %.1f%% of the run deadline; flag %s%n",
          "whole decision",
          whole,
          100 * whole.wall() / deadline.toSeconds(),
          report[0].flag());
    }
    return 0;
  }

  /** Wall and process CPU seconds of a round. */
  private record Timing(double wall, double cpu) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%7.2f s (%6.2f s CPU)", wall, cpu);
    }
  }

  /** Rounds of a million rows need no warm-up round: their loops are compiled within the first. */
  private Timing time(Runnable round) {
    double[] wall = new double[rounds];
    double[] cpu = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      long cpuStarted = processCpuNanos();
      long started = System.nanoTime();
      round.run();
      wall[r] = (System.nanoTime() - started) / 1e9;
      cpu[r] = (processCpuNanos() - cpuStarted) / 1e9;
    }
    return new Timing(Rounds.median(wall), Rounds.median(cpu));
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** One task's paired rows and the metrics they give. */
  private record SyntheticTask(
      String name,
      Map<String, double[]> baseline,
      Map<String, double[]> candidate,
      List<String> metrics) {}

  private List<SyntheticTask> tasks() {
    return List.of(sts(), causal(), retrieval());
  }

  /**
   * STS pairs: gold scores in steps of 0.2 (ties, as human scores have), the baseline's cosine
   * follows them, the candidate's is the baseline's plus noise, both rounded to float as a model's
   * output is (more ties).
   */
  private SyntheticTask sts() {
    SplittableRandom random = new SplittableRandom(11);
    double[] gold = new double[rows];
    double[] before = new double[rows];
    double[] after = new double[rows];
    for (int i = 0; i < rows; i++) {
      gold[i] = Math.round(random.nextDouble(0, 5) * 5) / 5.0;
      before[i] = (float) (0.1 + 0.17 * gold[i] + random.nextGaussian() * 0.08);
      after[i] = (float) (before[i] + random.nextGaussian() * 0.02);
    }
    return new SyntheticTask(
        "embedding with gold scores (sts)",
        Map.of(MetricNames.COSINE, before, MetricNames.GOLD, gold),
        Map.of(MetricNames.COSINE, after, MetricNames.GOLD, gold),
        List.of(MetricNames.SPEARMAN, MetricNames.MEAN_COSINE));
  }

  /**
   * Causal LM rows of 20 to 220 tokens, about 4 bytes each; the candidate's nll is the baseline's
   * within 1%, and its token shift against the baseline is small.
   */
  private SyntheticTask causal() {
    SplittableRandom random = new SplittableRandom(12);
    double[] tokens = new double[rows];
    double[] bytes = new double[rows];
    double[] before = new double[rows];
    double[] after = new double[rows];
    double[] kl = new double[rows];
    double[] agree = new double[rows];
    double[] dpTrue = new double[rows];
    for (int i = 0; i < rows; i++) {
      tokens[i] = 20 + random.nextInt(200);
      bytes[i] = Math.round(tokens[i] * random.nextDouble(3.5, 4.5));
      before[i] = tokens[i] * random.nextDouble(2, 3);
      after[i] = before[i] * (1 + random.nextGaussian() * 0.01);
      kl[i] = tokens[i] * random.nextDouble(0, 0.04);
      agree[i] = Math.round(tokens[i] * random.nextDouble(0.92, 1));
      dpTrue[i] = -tokens[i] * random.nextDouble(0, 0.01);
    }
    Map<String, double[]> baseline = new LinkedHashMap<>();
    baseline.put(MetricNames.NLL_SUM, before);
    baseline.put(MetricNames.TOKENS, tokens);
    baseline.put(MetricNames.BYTES, bytes);
    Map<String, double[]> candidate = new LinkedHashMap<>();
    candidate.put(MetricNames.NLL_SUM, after);
    candidate.put(MetricNames.TOKENS, tokens);
    candidate.put(MetricNames.BYTES, bytes);
    candidate.put(MetricNames.KL_SUM, kl);
    candidate.put(MetricNames.TOP1_AGREE, agree);
    candidate.put(MetricNames.DP_TRUE_SUM, dpTrue);
    return new SyntheticTask(
        "causal LM with a token shift",
        baseline,
        candidate,
        List.of(
            MetricNames.PERPLEXITY,
            MetricNames.BITS_PER_BYTE,
            MetricNames.KL_MEAN,
            MetricNames.TOP1_AGREEMENT,
            MetricNames.DP_TRUE_MEAN));
  }

  /**
   * Retrieval queries: per-query nDCG@10, reciprocal rank and recall@k; the candidate's move a
   * little, and against the baseline's index it keeps most of its nDCG and overlap.
   */
  private SyntheticTask retrieval() {
    SplittableRandom random = new SplittableRandom(13);
    Map<String, double[]> baseline = new LinkedHashMap<>();
    Map<String, double[]> candidate = new LinkedHashMap<>();
    double[] ndcgBefore = new double[rows];
    double[] ndcgAfter = new double[rows];
    double[] index = new double[rows];
    double[] overlap = new double[rows];
    double[] rrBefore = new double[rows];
    double[] rrAfter = new double[rows];
    for (int i = 0; i < rows; i++) {
      ndcgBefore[i] = random.nextDouble();
      ndcgAfter[i] = Math.min(1, Math.max(0, ndcgBefore[i] + random.nextGaussian() * 0.05));
      index[i] = ndcgAfter[i] * random.nextDouble(0.97, 1);
      overlap[i] = Math.round(random.nextDouble(0.6, 1) * 10) / 10.0;
      rrBefore[i] = 1.0 / (1 + random.nextInt(10));
      rrAfter[i] = random.nextInt(10) == 0 ? 1.0 / (1 + random.nextInt(10)) : rrBefore[i];
    }
    baseline.put(MetricNames.NDCG_AT_10, ndcgBefore);
    baseline.put(MetricNames.RR_AT_10, rrBefore);
    candidate.put(MetricNames.NDCG_AT_10, ndcgAfter);
    candidate.put(MetricNames.RR_AT_10, rrAfter);
    for (int k : RetrievalTask.RECALL_CUTOFFS) {
      double[] before = new double[rows];
      double[] after = new double[rows];
      for (int i = 0; i < rows; i++) {
        before[i] = random.nextInt(k + 1) / (double) k;
        after[i] = random.nextInt(20) == 0 ? random.nextInt(k + 1) / (double) k : before[i];
      }
      baseline.put(RetrievalTask.recall(k), before);
      candidate.put(RetrievalTask.recall(k), after);
    }
    candidate.put(MetricNames.INDEX_NDCG_AT_10, index);
    candidate.put(MetricNames.OVERLAP_AT_10, overlap);
    return new SyntheticTask(
        "retrieval",
        baseline,
        candidate,
        List.of(
            MetricNames.NDCG_AT_10,
            RetrievalTask.recall(10),
            MetricNames.MRR_AT_10,
            MetricNames.INDEX_LOSS,
            MetricNames.OVERLAP_AT_10));
  }
}
