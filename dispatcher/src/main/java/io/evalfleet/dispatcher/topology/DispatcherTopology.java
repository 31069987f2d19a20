package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.kafka.JsonSerde;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The dispatcher's Kafka Streams topology, built here and nowhere else. Three input topics, all
 * keyed by model name and co-partitioned, feed one processor: the partition of a model's events is
 * also the partition of its shard results and of its baseline, so one task owns everything about a
 * model, and several dispatcher instances share the models. Everything a run needs survives its
 * instance in state stores backed by changelog topics; the processor writes them, its jobs, its
 * flags and its baselines in one transaction ({@code exactly_once_v2}).
 *
 * <p>An event staged under another key than its model's name is staged again keyed by model, so
 * that it reaches the task that will receive its results.
 *
 * <p>The steps (intake, result collection, flow control, decision) share one processor per task
 * because flow control counts the jobs in flight over all of the task's runs.
 */
public final class DispatcherTopology {
  public static final String STAGED_SOURCE = "staged-events";
  public static final String RESULTS_SOURCE = "shard-results-in";
  public static final String BASELINES_SOURCE = "baselines-in";
  public static final String DISPATCH = "dispatch";
  public static final String JOBS_SINK = "jobs-out";
  public static final String FLAGS_SINK = "flags-out";
  public static final String BASELINES_SINK = "baselines-out";
  public static final String DEAD_LETTERS_SINK = "dead-letters-out";
  public static final String PROGRESS_SINK = "progress-out";
  /** Staged events that were not keyed by model, staged again keyed by model. */
  public static final String RESTAGED_SINK = "restaged-out";

  /** Runs in progress by run id ({@link RunState}). */
  public static final String RUNS = "runs";
  /** Every shard of every run in progress by job id ({@link ShardState}). */
  public static final String SHARDS = "shards";
  /** Accepted shard results by job id, as the workers sent them: one shard's per-row values each. */
  public static final String SHARD_RESULTS = "shard-results";
  /** The production baseline of each model by model name, following {@code evalfleet.baselines}. */
  public static final String BASELINES = "baselines";
  /** Per model, the runs staged while it had no baseline, in order ({@link FirstVersions}). */
  public static final String FIRST_VERSIONS = "first-versions";
  /** Decided run ids with when (epoch ms), for {@code dispatcher.decided-look-back}. */
  public static final String DECIDED = "decided";

  public static final Serde<BaselineRecord> BASELINE_SERDE = JsonSerde.of(BaselineRecord.class);

  private DispatcherTopology() {}

  /** @param streams the application's Kafka Streams settings (topology-level ones apply here) */
  public static Topology build(Dispatching dispatching, java.util.Properties streams) {
    Topology topology = new Topology(new org.apache.kafka.streams.TopologyConfig(
        new org.apache.kafka.streams.StreamsConfig(streams)));
    var keys = Serdes.String().deserializer();
    var bytes = Serdes.ByteArray().deserializer();
    topology.addSource(STAGED_SOURCE, keys, bytes, Topics.STAGED);
    topology.addSource(RESULTS_SOURCE, keys, bytes, Topics.RESULTS);
    topology.addSource(BASELINES_SOURCE, keys, bytes, Topics.BASELINES);
    topology.addProcessor(DISPATCH, () -> new DispatchProcessor(dispatching), STAGED_SOURCE, RESULTS_SOURCE,
        BASELINES_SOURCE);
    topology.addStateStore(store(RUNS, RunState.SERDE), DISPATCH);
    topology.addStateStore(store(SHARDS, ShardState.SERDE), DISPATCH);
    topology.addStateStore(store(SHARD_RESULTS, Serdes.ByteArray()), DISPATCH);
    topology.addStateStore(store(BASELINES, BASELINE_SERDE), DISPATCH);
    topology.addStateStore(store(FIRST_VERSIONS, FirstVersions.SERDE), DISPATCH);
    topology.addStateStore(store(DECIDED, Serdes.Long()), DISPATCH);
    var out = Serdes.String().serializer();
    var raw = Serdes.ByteArray().serializer();
    topology.addSink(JOBS_SINK, Topics.JOBS, out, raw, DISPATCH);
    topology.addSink(FLAGS_SINK, Topics.DRIFT_FLAGS, out, raw, DISPATCH);
    topology.addSink(BASELINES_SINK, Topics.BASELINES, out, raw, DISPATCH);
    topology.addSink(PROGRESS_SINK, Topics.RUN_PROGRESS, out, raw, DISPATCH);
    topology.addSink(DEAD_LETTERS_SINK, Topics.DLQ, out, raw, DISPATCH);
    topology.addSink(RESTAGED_SINK, Topics.STAGED, out, raw, DISPATCH);
    return topology;
  }

  private static <V> org.apache.kafka.streams.state.StoreBuilder<?> store(String name, Serde<V> values) {
    // Cached: a run's state changes with every result, and only its last value per commit goes to
    // RocksDB and the changelog.
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.String(), values)
        .withCachingEnabled();
  }
}
