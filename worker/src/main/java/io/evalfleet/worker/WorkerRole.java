package io.evalfleet.worker;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.worker.consumer.JobConsumer;
import io.evalfleet.worker.embedding.EmbeddingScorer;
import io.evalfleet.worker.model.ArtifactCache;
import io.evalfleet.worker.model.ExecutionProvider;
import io.evalfleet.worker.model.ModelSessions;
import io.evalfleet.worker.perplexity.CausalLmScorer;
import io.evalfleet.worker.retrieval.EmbeddingFiles;
import io.evalfleet.worker.retrieval.RetrievalScorer;
import io.evalfleet.worker.scoring.ShardScorer;
import io.evalfleet.worker.subset.SubsetReader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;

/**
 * Wires one worker: Kafka clients, model sessions, scorer, executor and poll loop. Owns and closes
 * everything it creates. Subclass and override the factory methods to swap parts in tests.
 */
public class WorkerRole implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(WorkerRole.class);
  /** The consumer group every worker joins. */
  public static final String GROUP = "evalfleet-workers";

  private final FleetConfig config;
  private final String workerId;
  private final ModelSessions sessions;
  private final ExecutorService scoring;
  private final KafkaProducer<String, byte[]> producer;
  private final JobConsumer jobs;
  private final Thread pollThread;
  private final java.util.List<io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics> clientMetrics;

  public WorkerRole(FleetConfig config, String workerId, Path cacheDir) {
    this(config, workerId, cacheDir, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  /** @param registry where the worker's meters go (a Prometheus registry in production) */
  public WorkerRole(FleetConfig config, String workerId, Path cacheDir, io.micrometer.core.instrument.MeterRegistry shared) {
    this.config = config;
    // Every worker meter carries the worker's id, also when several workers share one registry (local mode).
    var registry = new io.micrometer.core.instrument.composite.CompositeMeterRegistry(shared.config().clock());
    registry.config().commonTags("worker", workerId);
    registry.add(shared);
    this.workerId = workerId;
    Storage storage = Storage.of(config);
    storage.bindTo(registry);
    this.sessions = new ModelSessions(new ArtifactCache(storage, cacheDir, config.get(FleetConfig.CACHE_MAX_BYTES)),
        config.get(FleetConfig.INTRA_OP_THREADS), ExecutionProvider.parse(config.get(FleetConfig.EXECUTION_PROVIDER)),
        config.get(FleetConfig.CONCURRENT_MODEL_LOADS), config.get(FleetConfig.MAX_LOADED_MODELS));
    sessions.bindTo(registry);
    int capacity = config.get(FleetConfig.WORKER_CONCURRENCY);
    this.scoring = Executors.newFixedThreadPool(capacity, r -> new Thread(r, workerId + "-scoring"));
    SubsetReader subsets = new SubsetReader(storage);
    int batchSize = config.get(FleetConfig.BATCH_SIZE);
    // One scorer per task: the router sends each job to the scorer of its task.
    EmbeddingScorer embeddings = new EmbeddingScorer(sessions, subsets, batchSize, config.get(FleetConfig.MAX_SEQ_LEN));
    ShardScorer scorer = new ShardScorer(java.util.List.of(
        embeddings,
        new CausalLmScorer(sessions, subsets, batchSize, config.get(FleetConfig.LOGITS_BUDGET)),
        // Corpora kept between query jobs: a quarter of the heap.
        new RetrievalScorer(sessions, subsets, embeddings, new EmbeddingFiles(storage), config.get(FleetConfig.MAX_SEQ_LEN),
            Runtime.getRuntime().maxMemory() / 4)), workerId, Clock.systemUTC());
    this.producer = KafkaClients.producer(config, workerId);
    var consumer = KafkaClients.consumer(config, GROUP, workerId, capacity, workerId);
    this.clientMetrics = java.util.List.of(
        new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(producer),
        new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(consumer));
    clientMetrics.forEach(m -> m.bindTo(registry));
    this.jobs = new JobConsumer(consumer, producer, scorer, scoring, capacity, config.get(FleetConfig.MAX_DELIVERIES),
        registry);
    this.pollThread = new Thread(jobs, workerId + "-poll");
  }

  public WorkerRole start() {
    pollThread.start();
    return this;
  }

  public String workerId() {
    return workerId;
  }

  /**
   * Whether the role's loop thread is still running. A loop that ended without being closed hit an
   * error it could not handle (it was logged); the process should then exit so that it is restarted.
   */
  public boolean alive() {
    return pollThread.isAlive();
  }

  /** Stops polling, lets running jobs finish within {@code timeout}, commits, and closes everything. */
  public void close(Duration timeout) throws InterruptedException {
    jobs.close(timeout);
    pollThread.join(timeout.toMillis() + 10_000);
    scoring.shutdown();
    scoring.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    clientMetrics.forEach(io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics::close);
    producer.close(Duration.ofSeconds(5));
    sessions.close();
    log.info("worker {} stopped: {}", workerId, io.evalfleet.common.process.ProcessMemory.summary());
  }

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(30));
  }
}
