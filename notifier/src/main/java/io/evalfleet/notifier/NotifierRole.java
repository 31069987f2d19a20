package io.evalfleet.notifier;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.kafka.ContiguousOffsets;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.notifier.review.ReviewAssembler;
import io.evalfleet.notifier.delivery.DeliveryPolicy;
import io.evalfleet.notifier.delivery.GitHubTarget;
import io.evalfleet.notifier.delivery.GitLabTarget;
import io.evalfleet.notifier.delivery.ReviewTarget;
import io.evalfleet.notifier.delivery.WebhookTarget;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The notifier role: reads drift flags in its own consumer group ({@value #GROUP}), writes each
 * flag's review into the archive and delivers it to the configured targets. It only reads the flags
 * topic, so nothing it does (a target down, a slow archive) delays a flag. A flag's offset is
 * committed once its review is written and every target has it or has dead-lettered it, so a
 * restart delivers again what was not finished; targets update their one comment in place, so a
 * delivery repeated is harmless. Partitions are paused while {@link #MAX_IN_FLIGHT} reviews are in
 * progress.
 */
public final class NotifierRole implements AutoCloseable {
  public static final String GROUP = "evalfleet-notifier";
  /** Reviews in progress before the notifier stops reading flags. */
  static final int MAX_IN_FLIGHT = 64;
  private static final Logger log = LoggerFactory.getLogger(NotifierRole.class);

  private final KafkaConsumer<String, byte[]> consumer;
  private final KafkaProducer<String, byte[]> producer;
  private final ExecutorService pool;
  private final ReviewDeliveries deliveries;
  private final List<ReviewTarget> targets;
  private final Map<TopicPartition, ContiguousOffsets> offsets = new HashMap<>();
  private final ConcurrentLinkedQueue<ConsumerRecord<String, byte[]>> finished = new ConcurrentLinkedQueue<>();
  private final MeterRegistry registry;
  private final Thread loop;
  private volatile boolean running = true;
  /** Set when closing: no new flag is read while the reviews in progress finish. */
  private volatile boolean draining;

  public NotifierRole(FleetConfig config, MeterRegistry registry) {
    this(config, registry, targets(config, System.getenv()), Clock.systemUTC());
  }

  public NotifierRole(FleetConfig config, MeterRegistry registry, List<ReviewTarget> targets, Clock clock) {
    this.targets = List.copyOf(targets);
    this.registry = registry;
    Storage storage = Storage.of(config);
    ReviewPublisher publisher = new ReviewPublisher(new ReviewAssembler(storage,
        new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT))), config.get(FleetConfig.REPORT_BASE_URL),
        clock);
    int concurrency = config.get(FleetConfig.NOTIFIER_CONCURRENCY);
    this.pool = Executors.newFixedThreadPool(concurrency, r -> new Thread(r, "notifier-delivery"));
    this.producer = KafkaClients.producer(config, "evalfleet-notifier");
    this.deliveries = new ReviewDeliveries(publisher::publish, targets, new DeliveryPolicy(config.get(FleetConfig.DELIVERY_ATTEMPTS),
        config.get(FleetConfig.DELIVERY_BACKOFF), config.get(FleetConfig.DELIVERY_MAX_WAIT)), pool, registry,
        (flag, target, cause) -> deadLetter(flag, target, cause));
    this.consumer = KafkaClients.consumer(config, GROUP, "evalfleet-notifier", MAX_IN_FLIGHT);
    this.loop = new Thread(this::run, "notifier-poll");
  }

  /**
   * The targets the configuration names: the webhook when {@code notifier.webhook-url} is set, GitHub
   * and GitLab when their token is there. Throws listing every problem (a webhook without a secret,
   * an unreadable secret file).
   */
  public static List<ReviewTarget> targets(FleetConfig config, Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    List<ReviewTarget> targets = new ArrayList<>();
    String webhook = config.get(FleetConfig.WEBHOOK_URL);
    if (!webhook.isEmpty()) {
      String secret = secret(config.get(FleetConfig.WEBHOOK_SECRET_FILE), env, "WEBHOOK_SECRET", problems);
      if (secret == null) {
        problems.add("notifier.webhook-url is set but there is no secret to sign with: set notifier.webhook-secret-file"
            + " or WEBHOOK_SECRET");
      } else {
        targets.add(new WebhookTarget(URI.create(webhook), secret));
      }
    }
    String github = secret(config.get(FleetConfig.GITHUB_TOKEN_FILE), env, "GITHUB_TOKEN", problems);
    if (github != null) {
      targets.add(new GitHubTarget(URI.create(config.get(FleetConfig.GITHUB_API)), github));
    }
    String gitlab = secret(config.get(FleetConfig.GITLAB_TOKEN_FILE), env, "GITLAB_TOKEN", problems);
    if (gitlab != null) {
      targets.add(new GitLabTarget(URI.create(config.get(FleetConfig.GITLAB_API)), gitlab));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid notifier configuration:\n  - " + String.join("\n  - ", problems));
    }
    return targets;
  }

  private static String secret(String file, Map<String, String> env, String variable, List<String> problems) {
    if (!file.isEmpty()) {
      try {
        String value = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
        if (value.isEmpty()) {
          problems.add("secret file " + file + " is empty");
          return null;
        }
        return value;
      } catch (IOException e) {
        problems.add("cannot read secret file " + file + ": " + e);
        return null;
      }
    }
    String value = env.get(variable);
    return value == null || value.isBlank() ? null : value.strip();
  }

  public NotifierRole start() {
    log.info("notifier delivering reviews to {}", targets.isEmpty() ? "no target (reports only)"
        : targets.stream().map(ReviewTarget::name).toList());
    loop.start();
    return this;
  }

  public boolean alive() {
    return loop.isAlive();
  }

  public List<ReviewTarget> targets() {
    return targets;
  }

  private void run() {
    try {
      consumer.subscribe(List.of(Topics.DRIFT_FLAGS), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          commit();
          partitions.forEach(offsets::remove);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}
      });
      while (running) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          accept(record);
        }
        commit();
        if (draining || deliveries.inFlight() >= MAX_IN_FLIGHT) {
          consumer.pause(consumer.assignment());
        } else if (!consumer.paused().isEmpty()) {
          consumer.resume(consumer.paused());
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      log.error("notifier loop stopped: {}", e.toString(), e);
    } finally {
      commit();
    }
  }

  private void accept(ConsumerRecord<String, byte[]> record) {
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    ContiguousOffsets tracked = offsets.computeIfAbsent(partition, p -> new ContiguousOffsets());
    tracked.started(record.offset());
    DriftFlag flag;
    try {
      flag = Json.read(record.value(), DriftFlag.class);
    } catch (ContractViolation e) {
      log.error("unreadable drift flag at {}-{}@{} sent to the dead-letter topic: {}", record.topic(),
          record.partition(), record.offset(), e.getMessage());
      DeadLetters.send(producer, record, e);
      tracked.completed(record.offset());
      return;
    }
    deliveries.handle(flag).whenComplete((review, e) -> finished.add(record));
  }

  private void commit() {
    ConsumerRecord<String, byte[]> done;
    while ((done = finished.poll()) != null) {
      ContiguousOffsets tracked = offsets.get(new TopicPartition(done.topic(), done.partition()));
      if (tracked != null) {
        tracked.completed(done.offset());
      }
    }
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    offsets.forEach((partition, tracked) -> {
      long next = tracked.advance();
      if (next >= 0) {
        commits.put(partition, new OffsetAndMetadata(next));
      }
    });
    if (!commits.isEmpty()) {
      try {
        consumer.commitSync(commits);
      } catch (RuntimeException e) {
        log.warn("cannot commit the notifier's offsets (the reviews will be delivered again): {}", e.toString());
      }
    }
  }

  private void deadLetter(DriftFlag flag, ReviewTarget target, Exception cause) {
    var headers = new org.apache.kafka.common.header.internals.RecordHeaders();
    headers.add(DeadLetters.ORIGINAL_TOPIC, Topics.DRIFT_FLAGS.getBytes(StandardCharsets.UTF_8));
    headers.add(DeadLetters.ERROR_CLASS, cause.getClass().getName().getBytes(StandardCharsets.UTF_8));
    headers.add(DeadLetters.ERROR_MESSAGE, String.valueOf(cause.getMessage()).getBytes(StandardCharsets.UTF_8));
    headers.add(TARGET_HEADER, target.name().getBytes(StandardCharsets.UTF_8));
    try {
      KafkaClients.sendAndWait(producer, new ProducerRecord<>(Topics.DLQ, null, flag.model(), Json.write(flag), headers),
          "the undelivered review of " + flag.model() + " " + flag.version());
      FleetMeter.DEAD_LETTERS.counter(registry, Topics.DRIFT_FLAGS).increment();
    } catch (RuntimeException e) {
      log.error("cannot dead-letter the review of {} {}: {}", flag.model(), flag.version(), e.toString());
    }
  }

  /** The dead-letter header naming the review target a flag could not be delivered to. */
  public static final String TARGET_HEADER = "evalfleet.notifier.target";

  /** Stops reading, lets reviews in progress finish within {@code timeout}, commits, closes the clients. */
  public void close(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    draining = true;
    while (loop.isAlive() && deliveries.inFlight() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    running = false;
    consumer.wakeup();
    loop.join(timeout.toMillis() + 5_000);
    pool.shutdown();
    if (!pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      pool.shutdownNow();
    }
    consumer.close(Duration.ofSeconds(5));
    producer.close(Duration.ofSeconds(5));
  }

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(30));
  }
}
