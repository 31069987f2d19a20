package io.evalfleet.dispatcher;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.kafka.Groups;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.QueueMonitor;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import io.evalfleet.common.process.ProcessMemory;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.PolicyFile;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.evalfleet.dispatcher.topology.DispatcherTopology;
import io.evalfleet.dispatcher.topology.Dispatching;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires one dispatcher instance: the Kafka Streams application ({@link DispatcherTopology}), its
 * meters and the queue monitor. Any number of instances may run: they share the models by
 * partition, and a run whose instance dies continues on another. Owns what it creates.
 */
public class DispatcherRole implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DispatcherRole.class);

  /** The application id, hence the consumer group and the prefix of the changelog topics. */
  public static final String GROUP = Groups.DISPATCHER;

  /** The topics whose partitions must match: all keyed by model, so one task owns a model. */
  public static final List<String> CO_PARTITIONED =
      List.of(Topics.STAGED, Topics.RESULTS, Topics.BASELINES);

  /**
   * Bounds a transaction: a killed instance's open transaction holds back readers of its output
   * (and the restore of its state elsewhere) until it times out, so this is short; a run's decision
   * (the statistics over its rows) must fit in it.
   */
  private static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(30);

  /** The producer's retry backoff (see {@link #properties}); Kafka's default is 100 ms. */
  static final Duration TRANSACTION_RETRY_BACKOFF = Duration.ofMillis(10);

  private final KafkaStreams streams;

  /** Decisions of complete runs, off the stream threads. */
  private final ExecutorService decisions;

  private final KafkaStreamsMetrics streamsMetrics;
  private final Admin admin;
  private final KafkaConsumer<String, byte[]> monitorReader;
  private final QueueMonitor queues;

  public DispatcherRole(FleetConfig config, Clock clock) {
    this(config, clock, new SimpleMeterRegistry());
  }

  /**
   * @param registry where the dispatcher's meters go (a Prometheus registry in production)
   */
  public DispatcherRole(FleetConfig config, Clock clock, MeterRegistry registry) {
    Storage storage = Storage.of(config);
    storage.bindTo(registry);
    this.admin = Admin.create(KafkaClients.adminProperties(config));
    int partitions = checkCoPartitioned(admin);
    int deciders = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    this.decisions =
        Executors.newFixedThreadPool(
            deciders,
            r -> {
              Thread thread = new Thread(r, "evalfleet-decisions");
              thread.setDaemon(true);
              return thread;
            });
    Dispatching dispatching =
        new Dispatching(
                config,
                new Preflight(storage),
                new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT)),
                policy(config),
                registry,
                decisions)
            .resultsPartitions(partitions);
    if (config.get(FleetConfig.FLAG_SIGNING_KEY).isEmpty()) {
      log.warn(
          "flags are unsigned: {} names no key, so anyone who can write {} can forge a verdict",
          FleetConfig.FLAG_SIGNING_KEY.key(),
          Topics.DRIFT_FLAGS);
    }
    Properties properties = properties(config);
    Topology topology =
        DispatcherTopology.build(dispatching, properties, OptionalInt.of(partitions));
    log.debug("dispatcher topology:\n{}", topology.describe());
    this.streams = new KafkaStreams(topology, properties);
    streams.setUncaughtExceptionHandler(DispatcherRole::onStreamThreadFailure);
    this.streamsMetrics = new KafkaStreamsMetrics(streams);
    streamsMetrics.bindTo(registry);
    this.monitorReader = KafkaClients.reader(config, "evalfleet-queue-monitor");
    this.queues =
        new QueueMonitor(
            admin,
            monitorReader,
            Map.of(Topics.JOBS, Groups.WORKERS, Topics.STAGED, GROUP),
            registry,
            clock);
  }

  /**
   * A stream thread's failure: the thread is replaced, unless the cluster denied the principal
   * (credentials or ACLs), which no new thread changes: the instance then shuts down with one line
   * saying what to grant, and {@link #alive()} turns false so that the process exits.
   */
  static StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse onStreamThreadFailure(
      Throwable e) {
    Optional<KafkaDenial> denial = KafkaDenial.of(e);
    if (denial.isPresent()) {
      log.error("dispatcher stopped: {}", denial.get().message(null, FleetRole.DISPATCHER));
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }
    log.error("a dispatcher stream thread failed; replacing it", e);
    return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
  }

  /** The dispatcher's topology as Kafka Streams describes it: sources, processor, stores, sinks. */
  public static String describeTopology(FleetConfig config) {
    Storage storage = Storage.of(config);
    Dispatching dispatching =
        new Dispatching(
            config,
            new Preflight(storage),
            new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT)),
            PolicyFile.defaults(),
            new SimpleMeterRegistry(),
            Runnable::run);
    return DispatcherTopology.build(dispatching, properties(config)).describe().toString();
  }

  /**
   * The Kafka Streams settings: exactly-once, the state directory, standbys, and the fleet's client
   * settings.
   */
  static Properties properties(FleetConfig config) {
    Properties props = new Properties();
    props.putAll(config.kafkaClientProperties());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, GROUP);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, config.get(FleetConfig.DISPATCHER_STATE_DIR));
    props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, config.get(FleetConfig.STANDBY_REPLICAS));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.get(FleetConfig.STREAM_THREADS));
    long session = config.get(FleetConfig.DISPATCHER_SESSION_TIMEOUT).toMillis();
    props.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) session);
    props.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
        (int) Math.max(500, session / 4));
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(
        StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG),
        4 * 1024 * 1024);
    props.put(
        StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 4 * 1024 * 1024);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    // A transaction begun while the coordinator still writes the previous one's markers is refused
    // (CONCURRENT_TRANSACTIONS) and retried after this backoff: at the default 100 ms, nearly every
    // commit that follows another waited that long, and with it the jobs and flags it carried.
    if (!props.containsKey(ProducerConfig.RETRY_BACKOFF_MS_CONFIG)) {
      props.put(
          StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG),
          (int) TRANSACTION_RETRY_BACKOFF.toMillis());
    }
    props.put(
        StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
        (int) TRANSACTION_TIMEOUT.toMillis());
    // A changelog record holds one shard's results: as large as the results topic allows.
    props.put(
        StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG),
        Integer.toString(4 * 1024 * 1024));
    props.put(StreamsConfig.CLIENT_ID_CONFIG, "evalfleet-dispatcher");
    // Processing failures are handled in the processor; this only opts in to the coming default.
    props.put("processing.exception.handler.global.enabled", true);
    return props;
  }

  /**
   * Refuses to start when the model-keyed topics differ in partitions: a model's results would
   * reach another task. Returns their number.
   */
  private static int checkCoPartitioned(Admin admin) {
    Map<String, TopicDescription> topics;
    try {
      topics = admin.describeTopics(CO_PARTITIONED).allTopicNames().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(
          "cannot describe the topics "
              + CO_PARTITIONED
              + " (run `evalfleet topics`"
              + " first): "
              + e.getMessage(),
          e);
    }
    Map<String, Integer> partitions = new TreeMap<>();
    topics.forEach((name, description) -> partitions.put(name, description.partitions().size()));
    if (partitions.values().stream().distinct().count() > 1) {
      throw new IllegalStateException(
          "the topics "
              + CO_PARTITIONED
              + " must have the same number of partitions"
              + " (they are keyed by model and co-partitioned), but they have "
              + partitions
              + ": add partitions to the smaller ones before any event is staged");
    }
    return partitions.get(Topics.RESULTS);
  }

  /**
   * The policy file the settings name, or the bundled one; a bad file stops the start with every
   * problem listed.
   */
  static Policy policy(FleetConfig config) {
    String file = config.get(FleetConfig.POLICY);
    Policy policy = file.isEmpty() ? PolicyFile.defaults() : PolicyFile.load(Path.of(file));
    log.info(
        "decision policy {}{}",
        policy.policyVersion(),
        file.isEmpty() ? " (bundled)" : " from " + file);
    return policy;
  }

  public DispatcherRole start() {
    streams.start();
    queues.start(Duration.ofSeconds(5));
    return this;
  }

  /**
   * Whether the instance still runs (or is starting or rebalancing). A failed instance should exit
   * so that it is restarted.
   */
  public boolean alive() {
    KafkaStreams.State state = streams.state();
    return state != KafkaStreams.State.ERROR
        && state != KafkaStreams.State.NOT_RUNNING
        && state != KafkaStreams.State.PENDING_ERROR;
  }

  /** Whether every task of this instance is running (not restoring or rebalancing). */
  public boolean running() {
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  public void close(Duration timeout) throws InterruptedException {
    queues.close();
    monitorReader.close(Duration.ofSeconds(5));
    streams.close(timeout);
    decisions.shutdownNow(); // a decision cut short is computed again by the run's next owner
    decisions.awaitTermination(5, TimeUnit.SECONDS);
    streamsMetrics.close();
    admin.close(Duration.ofSeconds(5));
    log.info("dispatcher stopped: {}", ProcessMemory.summary());
  }

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(30));
  }
}
