package io.evalfleet.scoring.floor;

import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.archive.NoiseFloorRecord.MetricSpread;
import io.evalfleet.common.archive.NoiseFloorRecord.RowSpread;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.ShardScorer;
import io.evalfleet.scoring.embedding.EmbeddingScorer;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ExecutionProvider;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.subset.SubsetReader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Measures a model's A/A noise floor: the same weights scored on the same golden rows under several
 * {@link Setup}s (execution provider, batch size, intra-op threads, deterministic compute), through
 * the worker's own scorers, and how far the values spread. Every embedding model runs in padded
 * batches of the setup's batch size, even one a worker would run one text at a time (a dynamically
 * quantised graph): the floor shows what batching does to it. A setup whose provider this build or
 * machine lacks (CUDA) is skipped and said so. Not thread-safe; each measurement opens its own
 * sessions and closes them.
 */
public final class NoiseFloorMeter {
  private final Storage storage;
  private final Path cacheDir;
  private final Function<Map<String, double[]>, Map<String, Double>> metrics;
  private final int defaultMaxSeqLen;
  private final Clock clock;

  /**
   * One way to score: a point of the envelope the floor varies.
   *
   * @param provider the execution provider asked for
   * @param batchSize the most rows in one forward pass
   * @param intraOpThreads ONNX Runtime intra-op threads
   * @param deterministicCompute whether the session asks for deterministic kernels
   */
  public record Setup(
      ExecutionProvider provider, int batchSize, int intraOpThreads, boolean deterministicCompute) {
    public Setup {
      if (batchSize < 1 || intraOpThreads < 1) {
        throw new IllegalArgumentException(
            "batch size and threads must be positive, got batch "
                + batchSize
                + ", threads "
                + intraOpThreads);
      }
    }

    /** e.g. {@code cpu batch 8 threads 2 det off}. */
    public String label() {
      return String.format(
          Locale.ROOT,
          "%s batch %d threads %d det %s",
          provider.name().toLowerCase(Locale.ROOT),
          batchSize,
          intraOpThreads,
          deterministicCompute ? "on" : "off");
    }

    /**
     * Every combination of the given values, batch size varying fastest: the first is the
     * reference.
     */
    public static List<Setup> grid(
        List<ExecutionProvider> providers,
        List<Integer> batchSizes,
        List<Integer> threads,
        List<Boolean> deterministic) {
      List<Setup> grid = new ArrayList<>();
      for (ExecutionProvider provider : providers) {
        for (boolean det : deterministic) {
          for (int t : threads) {
            for (int b : batchSizes) {
              grid.add(new Setup(provider, b, t, det));
            }
          }
        }
      }
      return grid;
    }
  }

  /**
   * One setup scored.
   *
   * @param values the per-row values
   * @param metrics the run metrics of those values
   * @param envelope the envelope the worker's scorer reported
   */
  public record Run(
      Setup setup,
      Map<String, double[]> values,
      Map<String, Double> metrics,
      ScoringEnvelope envelope,
      long millis) {}

  /**
   * What a measurement found.
   *
   * @param runs the setups scored, in order
   * @param skipped each setup that could not run, with why (e.g. {@code cuda: not available,
   *     skipped})
   * @param floors one noise floor per hardware profile that at least two runs share
   */
  public record Measurement(List<Run> runs, List<String> skipped, List<NoiseFloorRecord> floors) {}

  /**
   * @param cacheDir where models are cached while measuring
   * @param metrics the run metrics of a run's per-row values (the dispatcher's formulas)
   * @param defaultMaxSeqLen where texts are truncated when the job does not say
   */
  public NoiseFloorMeter(
      Storage storage,
      Path cacheDir,
      Function<Map<String, double[]>, Map<String, Double>> metrics,
      int defaultMaxSeqLen,
      Clock clock) {
    this.storage = storage;
    this.cacheDir = cacheDir;
    this.metrics = metrics;
    this.defaultMaxSeqLen = defaultMaxSeqLen;
    this.clock = clock;
  }

  /**
   * Scores {@code job} under each setup and measures the spread per hardware profile.
   *
   * @param model the model's name for the records (may be null)
   * @throws ScoringException naming the setup when a run fails (a bad model or subset fails the
   *     first)
   */
  public Measurement measure(String model, ScoringJob job, List<Setup> setups)
      throws ScoringException {
    ArtifactCache cache = new ArtifactCache(storage, cacheDir, Long.MAX_VALUE);
    SubsetReader subsets = new SubsetReader(storage);
    List<Run> runs = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (Setup setup : setups) {
      ModelSessions sessions;
      try {
        sessions =
            new ModelSessions(
                cache,
                setup.intraOpThreads(),
                setup.provider(),
                1,
                1,
                setup.deterministicCompute());
      } catch (IllegalStateException e) {
        String line = setup.provider().name().toLowerCase(Locale.ROOT) + ": not available, skipped";
        if (!skipped.contains(line)) {
          skipped.add(line);
        }
        continue;
      }
      try (sessions) {
        ShardScorer scorer =
            new ShardScorer(
                List.of(
                    new EmbeddingScorer(
                        sessions, subsets, setup.batchSize(), defaultMaxSeqLen, false),
                    new CausalLmScorer(sessions, subsets, setup.batchSize())),
                "noise-floor",
                clock,
                new ShardScorer.SessionSetup(
                    setup.intraOpThreads(), setup.deterministicCompute(), setup.batchSize()));
        long started = System.nanoTime();
        ShardResult result = scorer.score(job);
        if (result.failed()) {
          throw new ScoringException(
              result.error().kind(),
              "scoring under " + setup.label() + " failed: " + result.error().message(),
              null);
        }
        runs.add(
            new Run(
                setup,
                result.values(),
                metrics.apply(result.values()),
                result.environment() == null ? null : result.environment().envelope(),
                (System.nanoTime() - started) / 1_000_000));
      }
    }
    return new Measurement(runs, skipped, floors(model, job, runs));
  }

  /** One record per hardware profile that two or more runs share, the first run the reference. */
  private List<NoiseFloorRecord> floors(String model, ScoringJob job, List<Run> runs) {
    Instant now = clock.instant();
    Map<String, List<Run>> byProfile = new LinkedHashMap<>();
    for (Run run : runs) {
      if (run.envelope() != null) {
        byProfile.computeIfAbsent(run.envelope().profile(), p -> new ArrayList<>()).add(run);
      }
    }
    List<NoiseFloorRecord> floors = new ArrayList<>();
    byProfile.forEach(
        (profile, group) -> {
          if (group.size() >= 2) {
            floors.add(floor(model, job, profile, group, now));
          }
        });
    return floors;
  }

  static NoiseFloorRecord floor(
      String model, ScoringJob job, String profile, List<Run> group, Instant now) {
    Run reference = group.get(0);
    Map<String, MetricSpread> metricSpreads = new LinkedHashMap<>();
    for (String metric : reference.metrics().keySet()) {
      List<Double> values = new ArrayList<>();
      for (Run run : group) {
        Double value = run.metrics().get(metric);
        if (value != null) {
          values.add(value);
        }
      }
      if (values.size() == group.size()) {
        metricSpreads.put(metric, MetricSpread.of(values));
      }
    }
    Map<String, RowSpread> rowSpreads = new LinkedHashMap<>();
    for (var column : reference.values().entrySet()) {
      if (column.getKey().equals(MetricNames.GOLD)) {
        continue; // the subset's own value, not the model's
      }
      rowSpreads.put(column.getKey(), rowSpread(column.getKey(), column.getValue(), group));
    }
    return NoiseFloorRecord.builder()
        .model(model)
        .artifactSha256(job.artifact().sha256())
        .profile(profile)
        .task(job.task().wireName())
        .subsetSha256(job.goldenSubset().sha256())
        .rows(job.rowCount())
        .measuredAt(now)
        .envelopes(group.stream().map(Run::envelope).toList())
        .metrics(metricSpreads)
        .rowValues(rowSpreads)
        .build();
  }

  /** Over the runs after the reference: the largest |Δ| and the largest per-run p99 of |Δ|. */
  static RowSpread rowSpread(String name, double[] reference, List<Run> group) {
    double max = 0;
    double p99 = 0;
    for (Run run : group.subList(1, group.size())) {
      double[] column = run.values().get(name);
      double[] delta = new double[reference.length];
      for (int i = 0; i < reference.length; i++) {
        delta[i] = Math.abs(column[i] - reference[i]);
      }
      Arrays.sort(delta);
      if (delta.length > 0) {
        max = Math.max(max, delta[delta.length - 1]);
        // Nearest rank: the smallest |Δ| at or above which 1% of the rows lie.
        int rank = (int) Math.ceil(0.99 * delta.length) - 1;
        p99 = Math.max(p99, delta[Math.max(0, rank)]);
      }
    }
    return new RowSpread(max, p99);
  }
}
