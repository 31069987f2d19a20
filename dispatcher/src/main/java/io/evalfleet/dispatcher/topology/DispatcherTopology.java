package io.evalfleet.dispatcher.topology;

import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.kafka.JsonSerde;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.util.OptionalInt;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The dispatcher's Kafka Streams topology, built here and nowhere else. One processor per task owns
 * everything about the models of its partition: their staged events, their shard results and their
 * baselines. Everything a run needs survives its instance in state stores backed by changelog
 * topics; the processor writes them, its jobs, its flags and its baselines in one transaction
 * ({@code exactly_once_v2}).
 *
 * <p><b>Any producer.</b> Staged events and baseline records are written by clients we do not
 * control, each with its own partitioner (librdkafka's CRC32, sarama's FNV-1a, the Java client's
 * murmur2) and any key. Both are therefore keyed by the model named in their value and
 * repartitioned through a topic the application owns ({@code
 * evalfleet-dispatcher-staged-by-model-repartition}, {@code
 * evalfleet-dispatcher-baselines-by-model-repartition}) with the Java client's partitioner, the one
 * the workers use for results: a model's events, baselines and results meet in one task whatever
 * partition and key their producer chose. Results are read directly (workers are ours); a result
 * that reaches a task which does not hold its run is routed on or counted and named by {@link
 * Collector}.
 *
 * <p>The steps (intake, result collection, flow control, decision) share one processor per task
 * because flow control counts the jobs in flight over all of the task's runs.
 */
public final class DispatcherTopology {
  public static final String STAGED_SOURCE = "staged-events";
  public static final String RESULTS_SOURCE = "shard-results-in";
  public static final String BASELINES_SOURCE = "baselines-in";

  /** Keys a staged event by the model its value names. */
  public static final String KEY_STAGED = "key-staged-by-model";

  /** Keys a baseline record by the model its value names. */
  public static final String KEY_BASELINES = "key-baselines-by-model";

  /**
   * The repartition of staged events by model (topic {@code <application
   * id>-staged-by-model-repartition}).
   */
  public static final String STAGED_BY_MODEL = "staged-by-model";

  /** The repartition of baseline records by model. */
  public static final String BASELINES_BY_MODEL = "baselines-by-model";

  public static final String DISPATCH = "dispatch";
  public static final String JOBS_SINK = "jobs-out";
  public static final String FLAGS_SINK = "flags-out";
  public static final String BASELINES_SINK = "baselines-out";
  public static final String DEAD_LETTERS_SINK = "dead-letters-out";
  public static final String PROGRESS_SINK = "progress-out";

  /** Shard results that reached a task other than their model's, sent on keyed as they came. */
  public static final String REROUTED_RESULTS_SINK = "rerouted-results-out";

  /** Runs decided before their end, whose jobs still out the workers skip. */
  public static final String CANCELLED_SINK = "cancelled-runs-out";

  /** Runs in progress by run id ({@link RunState}). */
  public static final String RUNS = "runs";

  /** Every shard of every run in progress by job id ({@link ShardState}). */
  public static final String SHARDS = "shards";

  /**
   * Accepted shard results by job id ({@link ShardResult}, the workers' JSON): one shard's per-row
   * values each.
   */
  public static final String SHARD_RESULTS = "shard-results";

  /** The production baseline of each model by model name, following {@code evalfleet.baselines}. */
  public static final String BASELINES = "baselines";

  /** Per model, the runs staged while it had no baseline, in order ({@link FirstVersions}). */
  public static final String FIRST_VERSIONS = "first-versions";

  /** Decided run ids with when (epoch ms), for {@code dispatcher.decided-look-back}. */
  public static final String DECIDED = "decided";

  public static final Serde<BaselineRecord> BASELINE_SERDE = JsonSerde.of(BaselineRecord.class);

  /**
   * Shard results in the {@code shard-results} store: the same JSON as on {@code
   * evalfleet.results}.
   */
  static final Serde<ShardResult> SHARD_RESULT_SERDE = JsonSerde.of(ShardResult.class);

  private DispatcherTopology() {}

  /** The topology with repartition topics as many partitions as their sources. */
  public static Topology build(Dispatching dispatching, Properties streams) {
    return build(dispatching, streams, OptionalInt.empty());
  }

  /**
   * @param streams the application's Kafka Streams settings (topology-level ones apply here)
   * @param partitions the partitions of {@code evalfleet.results}, when known: the repartition
   *     topics get as many, so that a model's events and its results meet in one task
   */
  public static Topology build(
      Dispatching dispatching, Properties streams, OptionalInt partitions) {
    StreamsBuilder builder = new StreamsBuilder(new TopologyConfig(new StreamsConfig(streams)));
    Serde<String> keys = Serdes.String();
    Serde<byte[]> bytes = Serdes.ByteArray();
    KStream<String, byte[]> staged =
        byModel(
            builder.stream(Topics.STAGED, Consumed.with(keys, bytes).withName(STAGED_SOURCE)),
            KEY_STAGED,
            STAGED_BY_MODEL,
            partitions);
    KStream<String, byte[]> baselines =
        byModel(
            builder.stream(Topics.BASELINES, Consumed.with(keys, bytes).withName(BASELINES_SOURCE)),
            KEY_BASELINES,
            BASELINES_BY_MODEL,
            partitions);
    KStream<String, byte[]> results =
        builder.stream(Topics.RESULTS, Consumed.with(keys, bytes).withName(RESULTS_SOURCE));

    for (StoreBuilder<?> store :
        new StoreBuilder<?>[] {
          store(RUNS, RunState.SERDE),
          store(SHARDS, ShardState.SERDE),
          store(SHARD_RESULTS, SHARD_RESULT_SERDE),
          store(BASELINES, BASELINE_SERDE),
          store(FIRST_VERSIONS, FirstVersions.SERDE),
          store(DECIDED, Serdes.Long())
        }) {
      builder.addStateStore(store);
    }
    KStream<String, byte[]> out =
        staged
            .merge(results, Named.as("staged-and-results"))
            .merge(baselines, Named.as("dispatch-inputs"))
            .process(
                () -> new DispatchProcessor(dispatching),
                Named.as(DISPATCH),
                RUNS,
                SHARDS,
                SHARD_RESULTS,
                BASELINES,
                FIRST_VERSIONS,
                DECIDED);
    // The processor forwards each record to one of these by name.
    sink(out, JOBS_SINK, Topics.JOBS);
    sink(out, FLAGS_SINK, Topics.DRIFT_FLAGS);
    sink(out, BASELINES_SINK, Topics.BASELINES);
    sink(out, PROGRESS_SINK, Topics.RUN_PROGRESS);
    sink(out, DEAD_LETTERS_SINK, Topics.DLQ);
    sink(out, REROUTED_RESULTS_SINK, Topics.RESULTS);
    sink(out, CANCELLED_SINK, Topics.RUNS_CANCELLED);
    return builder.build();
  }

  /** The repartition topic's name for a step, as Kafka Streams names it. */
  static String repartitionTopic(String applicationId, String step) {
    return applicationId + "-" + step + "-repartition";
  }

  private static KStream<String, byte[]> byModel(
      KStream<String, byte[]> in, String keyStep, String repartition, OptionalInt partitions) {
    Repartitioned<String, byte[]> by =
        Repartitioned.<String, byte[]>as(repartition)
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.ByteArray());
    if (partitions.isPresent()) {
      by = by.withNumberOfPartitions(partitions.getAsInt());
    }
    return in.process(KeyByModel::new, Named.as(keyStep)).repartition(by);
  }

  private static void sink(KStream<String, byte[]> out, String name, String topic) {
    out.to(topic, Produced.with(Serdes.String(), Serdes.ByteArray()).withName(name));
  }

  private static <V> StoreBuilder<?> store(String name, Serde<V> values) {
    // Cached: a run's state changes with every result, and only its last value per commit goes to
    // RocksDB and the changelog.
    return Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(name), Serdes.String(), values)
        .withCachingEnabled();
  }
}
