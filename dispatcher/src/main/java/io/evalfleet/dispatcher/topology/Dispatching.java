package io.evalfleet.dispatcher.topology;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.signing.FlagKeys;
import io.evalfleet.common.signing.FlagSigner;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.Decider;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.SequentialDecider;
import io.evalfleet.dispatcher.plan.RetrievalPlanner;
import io.evalfleet.dispatcher.plan.ShardPlanner;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * What every task of the dispatcher shares: its settings, pre-flight, the archive, the policy and
 * the meters. Thread-safe: the stream threads of one instance use one.
 */
public final class Dispatching {
  /** Attempts of a job before the dispatcher stops sending it. */
  static final int MAX_ATTEMPTS = 3;

  final Preflight preflight;
  final EvaluationArchive archive;
  final Policy policy;
  final Decider decider;

  /**
   * The fixed-sample decider of a run that was looked at and not stopped: the α its looks did not
   * spend, so looks and end together stay within the policy's α.
   */
  final Decider deciderAfterLooks;

  /** Looks at a sequential run's completed prefix. */
  final SequentialDecider sequential;

  final ShardPlanner planner;
  final RetrievalPlanner retrievalPlanner;

  /**
   * The cut-offs of recall a retrieval run scores: those the policy names, at least {@code
   * recall@10}.
   */
  final List<Integer> recallAt;

  final int maxInFlightPerRun;
  final int maxInFlight;
  final Duration runDeadline;
  final Duration jobTimeout;
  final Duration decidedLookBack;
  final boolean reuseScores;
  final Duration tick;
  final MeterRegistry registry;

  /** Signs every flag published, when {@link FleetConfig#FLAG_SIGNING_KEY} names a key; or null. */
  final FlagSigner signer;

  /** Computes decisions off the stream threads. */
  final Executor decisions;

  /**
   * Per model and production version, its production snapshots' metric values (the band), read from
   * the archive once per baseline; bounded, since models come and go.
   */
  final Cache<String, Map<String, List<Double>>> bandHistory =
      Caffeine.newBuilder().maximumSize(1_000).build();

  /**
   * Baselines' archived per-row scores, by score file, read once for the looks of the runs compared
   * with them; bounded by the values held (about 400 MB of doubles).
   */
  final Cache<String, Map<String, double[]>> baselineScores =
      Caffeine.newBuilder()
          .maximumWeight(50_000_000)
          .<String, Map<String, double[]>>weigher(
              (uri, columns) -> columns.values().stream().mapToInt(column -> column.length).sum())
          .build();

  /**
   * The partitions of {@code evalfleet.results}, once the dispatcher has read them (0: unknown): a
   * result found on another partition than its key's is sent on to the task that owns its model.
   */
  private volatile int resultsPartitions;

  /** Per task: runs and jobs in flight, summed by the gauges. */
  private final Map<String, int[]> load = new ConcurrentHashMap<>();

  /** Jobs published, by kind (first, retry, resent): looked up once per kind, not once per job. */
  private final Map<String, Counter> jobsPublished = new ConcurrentHashMap<>();

  /** Records dead-lettered, by the topic they came from. */
  private final Map<String, Counter> deadLetters = new ConcurrentHashMap<>();

  final Counter resultsDuplicate;
  final Counter resultsRerouted;
  final Counter resultsUnknownRun;
  final Counter resultsAccepted;
  final Timer decisionDuration;

  /**
   * @param decisions runs the statistics of complete runs (a thread pool owned by the caller; a
   *     direct executor decides on the stream thread, as tests may)
   */
  public Dispatching(
      FleetConfig config,
      Preflight preflight,
      EvaluationArchive archive,
      Policy policy,
      MeterRegistry registry,
      Executor decisions) {
    this(config, preflight, archive, policy, registry, decisions, Duration.ofMillis(250));
  }

  /**
   * @param tick how often flow control, job timeouts and run deadlines are looked at (wall-clock
   *     time)
   */
  public Dispatching(
      FleetConfig config,
      Preflight preflight,
      EvaluationArchive archive,
      Policy policy,
      MeterRegistry registry,
      Executor decisions,
      Duration tick) {
    this.decisions = decisions;
    this.preflight = preflight;
    this.archive = archive;
    this.policy = policy;
    this.decider = new Decider(policy);
    this.deciderAfterLooks = new Decider(policy.afterLooks());
    this.sequential = new SequentialDecider(policy);
    this.planner =
        new ShardPlanner(config.get(FleetConfig.SHARD_ROWS), config.get(FleetConfig.JOB_TOKENS));
    this.retrievalPlanner = new RetrievalPlanner(config.get(FleetConfig.SHARD_ROWS));
    this.recallAt =
        RetrievalTask.RECALL_CUTOFFS.stream()
            .filter(
                k ->
                    k == RetrievalTask.CUTOFF
                        || policy.metrics().containsKey(RetrievalTask.recall(k)))
            .toList();
    this.maxInFlightPerRun = config.get(FleetConfig.MAX_IN_FLIGHT_PER_RUN);
    this.maxInFlight = config.get(FleetConfig.MAX_IN_FLIGHT);
    this.runDeadline = config.get(FleetConfig.RUN_DEADLINE);
    this.jobTimeout = config.get(FleetConfig.JOB_TIMEOUT);
    this.decidedLookBack = config.get(FleetConfig.DECIDED_LOOK_BACK);
    this.reuseScores = config.get(FleetConfig.REUSE_SCORES);
    this.tick = tick;
    this.registry = registry;
    this.signer = signer(config);
    FleetMeter.RUNS_ACTIVE.gauge(registry, () -> load.values().stream().mapToInt(l -> l[0]).sum());
    FleetMeter.DISPATCHER_JOBS_IN_FLIGHT.gauge(
        registry, () -> load.values().stream().mapToInt(l -> l[1]).sum());
    FleetMeter.DISPATCHER_JOBS_LIMIT.gauge(registry, () -> maxInFlight);
    for (String kind : List.of("first", "retry", "resent")) {
      jobsPublished(kind);
    }
    for (String source : List.of(Topics.STAGED, Topics.RESULTS)) {
      deadLetters(source);
    }
    this.resultsDuplicate = FleetMeter.RESULTS_DUPLICATE.counter(registry);
    this.resultsRerouted = FleetMeter.RESULTS_REROUTED.counter(registry);
    this.resultsUnknownRun = FleetMeter.RESULTS_UNKNOWN_RUN.counter(registry);
    this.resultsAccepted = FleetMeter.RESULTS_ACCEPTED.counter(registry);
    this.decisionDuration = FleetMeter.DECISION_DURATION.timer(registry);
  }

  /**
   * The seeded order a run of {@code task} on a subset scores its rows in, or null when it scores
   * them in file order: under a policy with sequential decisions, for embedding and causal-LM runs.
   * Retrieval runs keep the file order: a query's metrics need the whole corpus embedded first, so
   * there is no prefix of queries to look at before the corpus shards are done, and the corpus is
   * most of the work.
   *
   * <p>Its blocks follow the subset's row groups ({@code rowGroupSizes}, in file order; {@link
   * RowOrder#of(long, String, List)}), so that a job reads about its own share of the file rather
   * than a row group per block, as long as that leaves the policy's {@code min_rows} sampling units
   * a look needs; a subset of fewer, larger row groups keeps blocks of a few rows (early stops stay
   * possible, and each job reads the row groups its scattered blocks fall in).
   */
  RowOrder rowOrder(Task task, String subsetSha256, List<Long> rowGroupSizes) {
    if (!policy.sequential().enabled() || task == Task.RETRIEVAL) {
      return null;
    }
    RowOrder byRowGroups = RowOrder.of(policy.seed(), subsetSha256, rowGroupSizes);
    if (byRowGroups.units() >= policy.sequential().minRows()) {
      return byRowGroups;
    }
    return RowOrder.of(policy.seed(), subsetSha256, byRowGroups.rowsTotal());
  }

  /**
   * The signer of the key {@link FleetConfig#FLAG_SIGNING_KEY} names, or null when it names none.
   *
   * @throws IllegalArgumentException naming the file, when the key cannot be read
   */
  static FlagSigner signer(FleetConfig config) {
    String file = config.get(FleetConfig.FLAG_SIGNING_KEY);
    if (file.isEmpty()) {
      return null;
    }
    try {
      return FlagSigner.of(Path.of(file));
    } catch (FlagKeys.KeyFileException e) {
      // A setting's mistake (exit 2), like any other bad setting: no retry finds the key.
      throw new IllegalArgumentException(
          "cannot sign flags (" + FleetConfig.FLAG_SIGNING_KEY.key() + "): " + e.getMessage(), e);
    }
  }

  /** The counter of jobs published of {@code kind} (first, retry or resent). */
  Counter jobsPublished(String kind) {
    return jobsPublished.computeIfAbsent(kind, k -> FleetMeter.JOBS_PUBLISHED.counter(registry, k));
  }

  /** The counter of records dead-lettered from {@code topic}. */
  Counter deadLetters(String topic) {
    return deadLetters.computeIfAbsent(topic, t -> FleetMeter.DEAD_LETTERS.counter(registry, t));
  }

  /**
   * Tells result collection how many partitions {@code evalfleet.results} has (see {@link
   * Collector}).
   */
  public Dispatching resultsPartitions(int partitions) {
    this.resultsPartitions = partitions;
    return this;
  }

  /**
   * The pause before a job (or a pre-flight) that met an unavailable dependency is tried again: 1,
   * 2, 4 ... seconds, at most 30, long enough for a circuit breaker to close again.
   */
  static Duration unavailableBackoff(int retriesSoFar) {
    return Duration.ofSeconds(Math.min(30, 1L << Math.min(retriesSoFar, 5)));
  }

  int resultsPartitions() {
    return resultsPartitions;
  }

  void load(String task, int runs, int jobsInFlight) {
    load.put(task, new int[] {runs, jobsInFlight});
  }

  void unload(String task) {
    load.remove(task);
  }
}
