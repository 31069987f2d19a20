package io.evalfleet.common.kafka;

import java.util.List;

/** The Kafka topics of the fleet. Names are fixed so that any Kafka client can talk to it. */
public final class Topics {
  /** Staged-weight events published by training pipelines; keyed by model name. */
  public static final String STAGED = "evalfleet.weights.staged";

  /** Bounded scoring jobs, one per shard of a run; keyed by job id. */
  public static final String JOBS = "evalfleet.jobs";

  /**
   * Shard results published by workers; keyed by model name, like the staged events, so that a
   * run's results reach the dispatcher task that owns its model (the topics are co-partitioned).
   */
  public static final String RESULTS = "evalfleet.results";

  /**
   * Exactly one drift flag per staged event; keyed by model name (compacted: latest verdict per
   * model).
   */
  public static final String DRIFT_FLAGS = "evalfleet.drift-flags";

  /** The production baseline per model; keyed by model name (compacted). */
  public static final String BASELINES = "evalfleet.baselines";

  /** Progress of runs in progress ({@code RunProgress}); keyed by model name, kept briefly. */
  public static final String RUN_PROGRESS = "evalfleet.run-progress";

  /**
   * The monitor's scheduled checks of production models on their traffic ({@code MonitorResult});
   * keyed by model name.
   */
  public static final String MONITOR = "evalfleet.monitor";

  /**
   * Requests to retrain a model ({@code RetrainRequest}), one per cause; keyed by cause id
   * (compacted).
   */
  public static final String RETRAIN_REQUESTS = "evalfleet.retrain-requests";

  /**
   * Runs whose remaining jobs need not be scored (a sequential run stopped early); keyed by run id
   * (compacted), the value the time it ended. Every worker follows it and skips those runs' jobs.
   */
  public static final String RUNS_CANCELLED = "evalfleet.runs.cancelled";

  /**
   * Records that could not be parsed or processed, with headers saying where from and why; keyed as
   * the original.
   */
  public static final String DLQ = "evalfleet.dlq";

  public static final List<String> ALL =
      List.of(
          STAGED,
          JOBS,
          RESULTS,
          DRIFT_FLAGS,
          BASELINES,
          RUN_PROGRESS,
          MONITOR,
          RETRAIN_REQUESTS,
          RUNS_CANCELLED,
          DLQ);

  /** Topics whose latest value per key is all that matters. */
  public static boolean isCompacted(String topic) {
    return topic.equals(DRIFT_FLAGS)
        || topic.equals(BASELINES)
        || topic.equals(RETRAIN_REQUESTS)
        || topic.equals(RUNS_CANCELLED);
  }

  private Topics() {}
}
