package io.evalfleet.common.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Every meter the fleet exports, in one place: its name, what it measures, its type, unit and tag
 * keys. The metric reference ({@code docs/metrics.md}) is generated from this catalogue, and the
 * Grafana dashboards and alert rules query these names. Tag values are bounded: partitions, topics,
 * tasks, outcomes, flag values, and model names (a fleet judges a bounded set of models).
 *
 * <p>Names are Micrometer's dotted names; Prometheus sees them with underscores, counters with
 * {@code _total}, timers with {@code _seconds}, and byte gauges with {@code _bytes}.
 */
public enum FleetMeter {
  // ---- queue depth, measured by the dispatcher (no external exporter needed)
  QUEUE_LAG(
      "evalfleet.queue.lag",
      Type.GAUGE,
      "records",
      "Records on a topic partition not yet committed by its consumer group (jobs: the workers; staged events: the dispatcher).",
      "topic",
      "partition"),
  QUEUE_LAG_SECONDS(
      "evalfleet.queue.lag.seconds",
      Type.GAUGE,
      "seconds",
      "Age of the oldest record not yet committed on a topic partition (0 when there is none).",
      "topic",
      "partition"),
  QUEUE_END_OFFSET(
      "evalfleet.queue.end.offset",
      Type.GAUGE,
      "records",
      "End offset of a topic partition: its rate is the produce rate.",
      "topic",
      "partition"),
  QUEUE_COMMITTED_OFFSET(
      "evalfleet.queue.committed.offset",
      Type.GAUGE,
      "records",
      "Offset committed by the consuming group on a topic partition: its rate is the consume rate.",
      "topic",
      "partition"),

  // ---- dispatcher
  RUNS_ACTIVE(
      "evalfleet.dispatcher.runs.active",
      Type.GAUGE,
      "runs",
      "Runs in pre-flight or being scored."),
  DISPATCHER_JOBS_IN_FLIGHT(
      "evalfleet.dispatcher.jobs.in.flight",
      Type.GAUGE,
      "jobs",
      "Jobs published and not yet answered, over all runs."),
  DISPATCHER_JOBS_LIMIT(
      "evalfleet.dispatcher.jobs.limit",
      Type.GAUGE,
      "jobs",
      "dispatcher.max-jobs-in-flight: the most jobs the dispatcher keeps unanswered."),
  JOBS_PUBLISHED(
      "evalfleet.jobs.published",
      Type.COUNTER,
      "jobs",
      "Jobs published: first attempts, retries after a transient failure, and re-sends after dispatcher.job-timeout.",
      "kind"),
  RESULTS_DUPLICATE(
      "evalfleet.results.duplicate",
      Type.COUNTER,
      "results",
      "Shard results ignored because their job was already answered (redeliveries, re-sends)."),
  RESULTS_REROUTED(
      "evalfleet.results.rerouted",
      Type.COUNTER,
      "results",
      "Shard results read on another partition than their model's (a producer with another partitioner) and sent on to the dispatcher task that owns the model."),
  RESULTS_UNKNOWN_RUN(
      "evalfleet.results.unknown.run",
      Type.COUNTER,
      "results",
      "Shard results for a run the dispatcher neither holds nor decided within dispatcher.decided-look-back; each is logged with its run and job."),
  FLAGS(
      "evalfleet.flags",
      Type.COUNTER,
      "flags",
      "Drift flags published, by model and flag value.",
      "model",
      "flag"),
  RESULTS_ACCEPTED(
      "evalfleet.results.accepted",
      Type.COUNTER,
      "results",
      "Shard results the dispatcher accepted (first answers to jobs in flight, scored or failed)."),
  DECISION_DURATION(
      "evalfleet.dispatcher.decision",
      Type.TIMER,
      "seconds",
      "Time to decide a complete run off the stream thread: its metric vector, the paired bootstrap against its baseline, archiving its scores and lockfile."),
  RUN_DURATION(
      "evalfleet.run.duration",
      Type.TIMER,
      "seconds",
      "From a staged event to its flag, by flag value.",
      "flag"),

  // ---- workers
  WORKER_JOBS_IN_FLIGHT(
      "evalfleet.worker.jobs.in.flight",
      Type.GAUGE,
      "jobs",
      "Jobs a worker holds: running or waiting in its executor."),
  WORKER_CAPACITY(
      "evalfleet.worker.capacity",
      Type.GAUGE,
      "jobs",
      "worker.concurrency: jobs a worker scores at once."),
  PARTITIONS_ASSIGNED(
      "evalfleet.worker.partitions.assigned",
      Type.GAUGE,
      "partitions",
      "Jobs-topic partitions assigned to the worker."),
  PARTITIONS_PAUSED(
      "evalfleet.worker.partitions.paused",
      Type.GAUGE,
      "partitions",
      "Jobs-topic partitions the worker has paused because its executor is full."),
  REBALANCES(
      "evalfleet.worker.rebalances",
      Type.COUNTER,
      "events",
      "Consumer-group rebalance callbacks on the worker, by kind (assigned, revoked, lost).",
      "kind"),
  ISOLATED_SCORINGS(
      "evalfleet.worker.isolated.scorings",
      Type.COUNTER,
      "jobs",
      "Suspect jobs (worker.max-deliveries deliveries without an answer) scored alone in a process of their own, by outcome: answered (the job was innocent), died (the evidence: the job is answered as crashed), abandoned (the worker stopped meanwhile; delivered again), failed (the process could not be started).",
      "outcome"),
  JOBS_SKIPPED(
      "evalfleet.worker.jobs.skipped",
      Type.COUNTER,
      "jobs",
      "Jobs a worker received and did not score, by outcome: cancelled (the run was decided before its end, as a sequential run that stopped early; the job is committed without loading its model).",
      "outcome"),
  JOB_DURATION(
      "evalfleet.job.duration",
      Type.TIMER,
      "seconds",
      "Time to score one job (Parquet read, tokenisation, inference), by task and outcome (scored, failed).",
      "task",
      "outcome"),
  ROWS_SCORED(
      "evalfleet.rows.scored", Type.COUNTER, "rows", "Golden-subset rows scored, by task.", "task"),
  TOKENS_SCORED(
      "evalfleet.tokens.scored",
      Type.COUNTER,
      "tokens",
      "Tokens scored by causal LMs (perplexity).",
      "task"),
  PADDING_RATIO(
      "evalfleet.padding.ratio",
      Type.SUMMARY,
      "ratio",
      "Share of the token slots fed to a causal LM that were padding, per job.",
      "task"),
  MODEL_CACHE_HITS(
      "evalfleet.model.cache.hits",
      Type.FUNCTION_COUNTER,
      "artifacts",
      "Remote artifacts served from the local model cache."),
  MODEL_CACHE_FETCHES(
      "evalfleet.model.cache.fetches",
      Type.FUNCTION_COUNTER,
      "artifacts",
      "Remote artifacts streamed into the local model cache (verified while streaming)."),
  MODEL_CACHE_EVICTIONS(
      "evalfleet.model.cache.evictions",
      Type.FUNCTION_COUNTER,
      "artifacts",
      "Cache entries deleted to stay within worker.cache-max-bytes."),
  MODEL_CACHE_BYTES(
      "evalfleet.model.cache", Type.GAUGE, "bytes", "Bytes held by the local model cache."),
  MODEL_CACHE_LIMIT("evalfleet.model.cache.limit", Type.GAUGE, "bytes", "worker.cache-max-bytes."),
  MODEL_LOADS(
      "evalfleet.model.loads",
      Type.TIMER,
      "seconds",
      "ONNX Runtime session loads (fetch, verification and session creation), by outcome (loaded, failed).",
      "outcome"),
  MODEL_SESSIONS("evalfleet.model.sessions", Type.GAUGE, "sessions", "ONNX Runtime sessions open."),
  PROVIDER_FALLBACKS(
      "evalfleet.execution.provider.fallbacks",
      Type.COUNTER,
      "loads",
      "Model loads that asked for CUDA (auto) and ran on CPU."),
  SESSIONS_BY_PROVIDER(
      "evalfleet.model.sessions.loaded",
      Type.COUNTER,
      "loads",
      "Model sessions created, by execution provider (cpu, cuda).",
      "provider"),

  // ---- notifier
  REVIEW_DELIVERIES(
      "evalfleet.notifier.deliveries",
      Type.COUNTER,
      "reviews",
      "Reviews delivered to a target (webhook, github, gitlab), by outcome: delivered, or dead_lettered after the last attempt failed.",
      "target",
      "outcome"),
  REVIEW_ATTEMPTS_FAILED(
      "evalfleet.notifier.attempts.failed",
      Type.COUNTER,
      "attempts",
      "Delivery attempts that failed (a 5xx or 429 answer, a refused connection), each retried or dead-lettered.",
      "target"),
  REVIEW_DELIVERY_DURATION(
      "evalfleet.notifier.delivery",
      Type.TIMER,
      "seconds",
      "From a flag read by the notifier to its review delivered or dead-lettered, retries included.",
      "target"),
  REVIEWS_IN_FLIGHT(
      "evalfleet.notifier.reviews.in.flight",
      Type.GAUGE,
      "reviews",
      "Flags read by the notifier whose reviews are still being written or delivered."),

  // ---- monitor
  MONITOR_CHECKS(
      "evalfleet.monitor.checks",
      Type.COUNTER,
      "checks",
      "Scheduled checks of a production model on a window of its traffic, by model and outcome: drift, no_drift, too_little_traffic.",
      "model",
      "outcome"),
  MONITOR_P_VALUE(
      "evalfleet.monitor.p.value",
      Type.GAUGE,
      "",
      "The latest check's permutation p-value of \"the window's traffic is distributed as the reference window's\" (NaN before the first), by model.",
      "model"),
  RETRAIN_REQUESTS(
      "evalfleet.retrain.requests",
      Type.COUNTER,
      "requests",
      "Retraining requests published, once per cause, by model and cause: drift, cadence.",
      "model",
      "cause"),

  // ---- every role
  DEAD_LETTERS(
      "evalfleet.dead.letters",
      Type.COUNTER,
      "records",
      "Records copied to evalfleet.dlq, by the topic they came from.",
      "source"),
  PROCESS_RSS(
      "evalfleet.process.resident.memory",
      Type.GAUGE,
      "bytes",
      "Resident set size of the process (JVM heap, metaspace and ONNX Runtime's native memory)."),
  BUILD_INFO(
      "evalfleet.build.info",
      Type.GAUGE,
      "",
      "Always 1; tags say which role and version.",
      "role",
      "version");

  /** Meter types, as Micrometer registers them. */
  public enum Type {
    COUNTER,
    FUNCTION_COUNTER,
    GAUGE,
    TIMER,
    SUMMARY
  }

  private final String meterName;
  private final Type type;
  private final String unit;
  private final String description;
  private final List<String> tagKeys;

  FleetMeter(String meterName, Type type, String unit, String description, String... tagKeys) {
    this.meterName = meterName;
    this.type = type;
    this.unit = unit;
    this.description = description;
    this.tagKeys = List.of(tagKeys);
  }

  public String meterName() {
    return meterName;
  }

  public Type type() {
    return type;
  }

  public String unit() {
    return unit;
  }

  public String description() {
    return description;
  }

  public List<String> tagKeys() {
    return tagKeys;
  }

  /** The name Prometheus shows, as Micrometer's Prometheus naming convention writes it. */
  public String prometheusName() {
    String base = meterName.replace('.', '_');
    return switch (type) {
      case COUNTER, FUNCTION_COUNTER -> base + "_total";
      case TIMER -> base + "_seconds";
      case SUMMARY -> base;
      case GAUGE -> unit.equals("bytes") ? base + "_bytes" : base;
    };
  }

  /** The unit Micrometer is told: only real units, which Prometheus names carry as a suffix. */
  private String baseUnit() {
    return unit.equals("bytes") || unit.equals("seconds") ? unit : null;
  }

  /** A counter of this meter with the given tag values, in {@link #tagKeys()} order. */
  public Counter counter(MeterRegistry registry, String... tagValues) {
    requireType(Type.COUNTER);
    return Counter.builder(meterName)
        .description(description)
        .baseUnit(baseUnit())
        .tags(tags(tagValues))
        .register(registry);
  }

  /**
   * A timer of this meter, publishing a percentile histogram (for latency percentiles across
   * instances).
   */
  public Timer timer(MeterRegistry registry, String... tagValues) {
    requireType(Type.TIMER);
    return Timer.builder(meterName)
        .description(description)
        .tags(tags(tagValues))
        .publishPercentileHistogram()
        .register(registry);
  }

  public DistributionSummary summary(MeterRegistry registry, String... tagValues) {
    requireType(Type.SUMMARY);
    return DistributionSummary.builder(meterName)
        .description(description)
        .baseUnit(baseUnit())
        .tags(tags(tagValues))
        .register(registry);
  }

  /** A gauge sampling {@code value} (held strongly by the registry). */
  public void gauge(MeterRegistry registry, Supplier<Number> value, String... tagValues) {
    requireType(Type.GAUGE);
    Gauge.builder(meterName, value)
        .description(description)
        .baseUnit(baseUnit())
        .tags(tags(tagValues))
        .strongReference(true)
        .register(registry);
  }

  public <T> void functionCounter(MeterRegistry registry, T source, ToDoubleFunction<T> count) {
    requireType(Type.FUNCTION_COUNTER);
    FunctionCounter.builder(meterName, source, count)
        .description(description)
        .baseUnit(baseUnit())
        .register(registry);
  }

  private Tags tags(String... values) {
    if (values.length != tagKeys.size()) {
      throw new IllegalArgumentException(
          meterName + " takes tags " + tagKeys + ", got " + values.length + " values");
    }
    Tags tags = Tags.empty();
    for (int i = 0; i < values.length; i++) {
      tags = tags.and(tagKeys.get(i), values[i]);
    }
    return tags;
  }

  private void requireType(Type expected) {
    if (type != expected) {
      throw new IllegalStateException(meterName + " is a " + type + ", not a " + expected);
    }
  }

  /** The catalogue as a Markdown table, for the documentation. */
  public static String markdownReference() {
    StringBuilder out =
        new StringBuilder(
            "| Prometheus name | type | unit | tags | meaning |\n|---|---|---|---|---|\n");
    for (FleetMeter meter : values()) {
      out.append("| `")
          .append(meter.prometheusName())
          .append("` | ")
          .append(meter.type.name().toLowerCase().replace('_', ' '))
          .append(" | ")
          .append(meter.unit.isEmpty() ? "-" : meter.unit)
          .append(" | ")
          .append(meter.tagKeys.isEmpty() ? "-" : "`" + String.join("`, `", meter.tagKeys) + "`")
          .append(" | ")
          .append(meter.description)
          .append(" |\n");
    }
    return out.toString();
  }
}
