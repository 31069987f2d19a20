package io.evalfleet.worker;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.kafka.Groups;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.process.ProcessMemory;
import io.evalfleet.scoring.Scorers;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires one worker: Kafka clients, model sessions, scorer, executor and poll loop. Owns and closes
 * everything it creates. Subclass and override the factory methods to swap parts in tests.
 */
public class WorkerRole implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkerRole.class);

  /** The consumer group every worker joins. */
  public static final String GROUP = Groups.WORKERS;

  private final FleetConfig config;
  private final String workerId;
  private final Scorers scorers;
  private final IsolatedScoring isolation;
  private final ExecutorService scoring;
  private final KafkaProducer<String, byte[]> producer;
  private final JobConsumer jobs;
  private final Thread pollThread;
  private final CancelledRuns cancelled;
  private final Thread cancelledThread;
  private final List<KafkaClientMetrics> clientMetrics;

  public WorkerRole(FleetConfig config, String workerId, Path cacheDir) {
    this(config, workerId, cacheDir, new SimpleMeterRegistry());
  }

  /**
   * @param shared where the worker's meters go (a Prometheus registry in production)
   */
  public WorkerRole(FleetConfig config, String workerId, Path cacheDir, MeterRegistry shared) {
    this.config = config;
    // Every worker meter carries the worker's id, also when several workers share one registry
    // (local mode).
    var registry = new CompositeMeterRegistry(shared.config().clock());
    registry.config().commonTags("worker", workerId);
    registry.add(shared);
    this.workerId = workerId;
    this.scorers = Scorers.build(config, workerId, cacheDir, registry);
    // Suspect jobs are scored alone in a JVM started as this one, with the same settings.
    this.isolation = IsolatedScoring.ofThisJvm(config, workerId, cacheDir);
    int capacity = config.get(FleetConfig.WORKER_CONCURRENCY);
    this.scoring =
        Executors.newFixedThreadPool(capacity, r -> new Thread(r, workerId + "-scoring"));
    this.producer = KafkaClients.producer(config, workerId);
    var consumer = KafkaClients.consumer(config, GROUP, workerId, capacity, workerId);
    this.clientMetrics =
        List.of(new KafkaClientMetrics(producer), new KafkaClientMetrics(consumer));
    clientMetrics.forEach(m -> m.bindTo(registry));
    this.jobs =
        new JobConsumer(
            consumer,
            producer,
            scorers.scorer(),
            scoring,
            capacity,
            config.get(FleetConfig.MAX_DELIVERIES),
            isolation,
            registry);
    this.cancelled =
        new CancelledRuns(KafkaClients.committedReader(config, workerId + "-cancelled"));
    jobs.skipping(cancelled::isCancelled);
    this.cancelledThread = new Thread(cancelled, workerId + "-cancelled");
    cancelledThread.setDaemon(true);
    this.pollThread = new Thread(jobs, workerId + "-poll");
    // The loop logged its failure (a denial by the cluster as one line saying what to grant); the
    // default handler would print the stack trace once more.
    pollThread.setUncaughtExceptionHandler(
        (thread, e) -> {
          if (!(e instanceof RuntimeException)) {
            log.error("{} failed", thread.getName(), e);
          }
        });
  }

  public WorkerRole start() {
    cancelledThread.start();
    pollThread.start();
    return this;
  }

  public String workerId() {
    return workerId;
  }

  /**
   * Whether the role's loop thread is still running. A loop that ended without being closed hit an
   * error it could not handle (it was logged); the process should then exit so that it is
   * restarted.
   */
  public boolean alive() {
    return pollThread.isAlive();
  }

  /**
   * Stops polling, lets running jobs finish within {@code timeout}, commits, and closes everything.
   */
  public void close(Duration timeout) throws InterruptedException {
    // A job being scored alone is abandoned, not blamed: it is delivered again.
    isolation.close();
    jobs.close(timeout);
    pollThread.join(timeout.toMillis() + 10_000);
    cancelled.close();
    cancelledThread.join(10_000);
    scoring.shutdown();
    scoring.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    clientMetrics.forEach(KafkaClientMetrics::close);
    producer.close(Duration.ofSeconds(5));
    scorers.close();
    log.info("worker {} stopped: {}", workerId, ProcessMemory.summary());
  }

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(30));
  }
}
