package io.evalfleet.dispatcher;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.dispatcher.baseline.BaselineStore;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.evalfleet.dispatcher.run.DecidedRuns;
import io.evalfleet.dispatcher.archive.EvaluationArchive;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.PolicyFile;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;

/** Wires the dispatcher: Kafka clients, baseline store, pre-flight executor and loop. Owns what it creates. */
public class DispatcherRole implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DispatcherRole.class);
  /** The consumer group of the dispatcher. */
  public static final String GROUP = "evalfleet-dispatcher";

  private final KafkaProducer<String, byte[]> producer;
  private final KafkaConsumer<String, byte[]> baselineReader;
  private final ExecutorService preflightExecutor;
  private final Dispatcher dispatcher;
  private final Thread loop;
  private final java.util.List<io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics> clientMetrics;
  private final org.apache.kafka.clients.admin.Admin admin;
  private final KafkaConsumer<String, byte[]> monitorReader;
  private final io.evalfleet.common.kafka.QueueMonitor queues;

  public DispatcherRole(FleetConfig config, Clock clock) {
    this(config, clock, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  /** @param registry where the dispatcher's meters go (a Prometheus registry in production) */
  public DispatcherRole(FleetConfig config, Clock clock, io.micrometer.core.instrument.MeterRegistry registry) {
    this.producer = KafkaClients.producer(config, "evalfleet-dispatcher");
    BaselineStore baselines = new BaselineStore(producer);
    // Kept open: the dispatcher's loop follows the topic for versions pinned or promoted elsewhere.
    this.baselineReader = KafkaClients.reader(config, "evalfleet-dispatcher-baselines");
    baselines.load(baselineReader, Duration.ofSeconds(60));
    DecidedRuns decided = new DecidedRuns(1_000_000);
    try (KafkaConsumer<String, byte[]> reader = KafkaClients.reader(config, "evalfleet-dispatcher-flags")) {
      decided.load(reader, clock.instant(), config.get(FleetConfig.DECIDED_LOOK_BACK), Duration.ofSeconds(120));
    }
    this.preflightExecutor = Executors.newSingleThreadExecutor(r -> new Thread(r, "evalfleet-preflight"));
    var consumer = KafkaClients.consumer(config, GROUP, "evalfleet-dispatcher", 500);
    this.clientMetrics = java.util.List.of(
        new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(producer),
        new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(consumer));
    clientMetrics.forEach(m -> m.bindTo(registry));
    Storage storage = Storage.of(config);
    storage.bindTo(registry);
    this.admin = org.apache.kafka.clients.admin.Admin.create(KafkaClients.adminProperties(config));
    this.monitorReader = KafkaClients.reader(config, "evalfleet-queue-monitor");
    this.queues = new io.evalfleet.common.kafka.QueueMonitor(admin, monitorReader, java.util.Map.of(
        io.evalfleet.common.kafka.Topics.JOBS, "evalfleet-workers",
        io.evalfleet.common.kafka.Topics.STAGED, GROUP), registry, clock);
    this.dispatcher = new Dispatcher(config, consumer,
        producer, baselines, baselineReader, decided, new Preflight(storage), preflightExecutor, policy(config),
        new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT)), clock, registry);
    this.loop = new Thread(dispatcher, "evalfleet-dispatcher");
  }

  /** The policy file the settings name, or the bundled one; a bad file stops the start with every problem listed. */
  static Policy policy(FleetConfig config) {
    String file = config.get(FleetConfig.POLICY);
    Policy policy = file.isEmpty() ? PolicyFile.defaults() : PolicyFile.load(java.nio.file.Path.of(file));
    log.info("decision policy {}{}", policy.policyVersion(), file.isEmpty() ? " (bundled)" : " from " + file);
    return policy;
  }

  public DispatcherRole start() {
    loop.start();
    queues.start(Duration.ofSeconds(5));
    return this;
  }

  /**
   * Whether the role's loop thread is still running. A loop that ended without being closed hit an
   * error it could not handle (it was logged); the process should then exit so that it is restarted.
   */
  public boolean alive() {
    return loop.isAlive();
  }

  public void close(Duration timeout) throws InterruptedException {
    queues.close();
    monitorReader.close(Duration.ofSeconds(5));
    admin.close(Duration.ofSeconds(5));
    dispatcher.close(timeout);
    loop.join(timeout.toMillis());
    preflightExecutor.shutdownNow();
    preflightExecutor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    clientMetrics.forEach(io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics::close);
    producer.close(Duration.ofSeconds(5));
    baselineReader.close(Duration.ofSeconds(5));
    log.info("dispatcher stopped: {}", io.evalfleet.common.process.ProcessMemory.summary());
  }

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(30));
  }
}
