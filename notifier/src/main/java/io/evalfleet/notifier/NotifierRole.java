package io.evalfleet.notifier;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.Groups;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.FleetRole;
import io.evalfleet.common.kafka.consume.CommitSafeLoop;
import io.evalfleet.common.kafka.consume.Delivery;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.signing.FlagKeys;
import io.evalfleet.common.signing.FlagVerifier;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.notifier.delivery.DeliveryPolicy;
import io.evalfleet.notifier.delivery.GitHubTarget;
import io.evalfleet.notifier.delivery.GitLabTarget;
import io.evalfleet.notifier.delivery.ReviewTarget;
import io.evalfleet.notifier.delivery.WebhookTarget;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewAssembler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The notifier role: reads drift flags in its own consumer group ({@value #GROUP}), writes each
 * flag's review into the archive and delivers it to the configured targets. It only reads the flags
 * topic, so nothing it does (a target down, a slow archive) delays a flag. A flag's offset is
 * committed once its review is written and every target has it or has dead-lettered it, so a
 * restart delivers again what was not finished; targets update their one comment in place, so a
 * delivery repeated is harmless. Partitions are paused while {@link #MAX_IN_FLIGHT} reviews are in
 * progress. The flags are read by a {@link CommitSafeLoop}, on its poll thread: a review is written
 * and delivered on the notifier's own pool.
 */
public final class NotifierRole implements AutoCloseable {
  public static final String GROUP = Groups.NOTIFIER;

  /** Reviews in progress before the notifier stops reading flags. */
  static final int MAX_IN_FLIGHT = 64;

  private static final Logger log = LoggerFactory.getLogger(NotifierRole.class);

  private static final Duration POLL = Duration.ofMillis(200);

  private final Consumer<String, byte[]> consumer;
  private final Producer<String, byte[]> producer;
  private final ExecutorService pool;
  private final ReviewDeliveries deliveries;
  private final List<ReviewTarget> targets;
  private final CommitSafeLoop<String, byte[]> flags;

  /** Flags (unreadable ones) and reviews (undelivered ones) sent to the dead-letter topic. */
  private final Counter deadLetters;

  private final Thread pollThread;
  private volatile boolean started;

  /** Checks each flag's signature when public keys are configured; else null. */
  private final FlagVerifier verifier;

  public NotifierRole(FleetConfig config, MeterRegistry registry) {
    this(config, registry, targets(config, System.getenv()), Clock.systemUTC());
  }

  public NotifierRole(
      FleetConfig config, MeterRegistry registry, List<ReviewTarget> targets, Clock clock) {
    this(
        KafkaClients.consumer(config, GROUP, "evalfleet-notifier", MAX_IN_FLIGHT),
        KafkaClients.producer(config, "evalfleet-notifier"),
        publisher(config, clock)::publish,
        targets,
        new DeliveryPolicy(
            config.get(FleetConfig.DELIVERY_ATTEMPTS),
            config.get(FleetConfig.DELIVERY_BACKOFF),
            config.get(FleetConfig.DELIVERY_MAX_WAIT)),
        config.get(FleetConfig.NOTIFIER_CONCURRENCY),
        registry,
        verifier(config));
  }

  private static FlagVerifier verifier(FleetConfig config) {
    try {
      return FlagVerifier.of(config).orElse(null);
    } catch (FlagKeys.KeyFileException e) {
      throw new IllegalStateException(
          "cannot verify flags (" + FleetConfig.FLAG_PUBLIC_KEYS.key() + "): " + e.getMessage(), e);
    }
  }

  /**
   * The role on the given clients, which it closes.
   *
   * @param reviews writes a flag's review (normally {@link ReviewPublisher#publish}); must not
   *     throw
   * @param concurrency threads that write and deliver reviews
   */
  NotifierRole(
      Consumer<String, byte[]> consumer,
      Producer<String, byte[]> producer,
      Function<DriftFlag, Review> reviews,
      List<ReviewTarget> targets,
      DeliveryPolicy policy,
      int concurrency,
      MeterRegistry registry) {
    this(consumer, producer, reviews, targets, policy, concurrency, registry, null);
  }

  /**
   * @param verifier when not null, a flag that it rejects is dead-lettered with the reason in
   *     {@link #REJECTED_HEADER}, never reviewed
   */
  NotifierRole(
      Consumer<String, byte[]> consumer,
      Producer<String, byte[]> producer,
      Function<DriftFlag, Review> reviews,
      List<ReviewTarget> targets,
      DeliveryPolicy policy,
      int concurrency,
      MeterRegistry registry,
      FlagVerifier verifier) {
    this.verifier = verifier;
    this.targets = List.copyOf(targets);
    this.consumer = consumer;
    this.producer = producer;
    this.deadLetters = FleetMeter.DEAD_LETTERS.counter(registry, Topics.DRIFT_FLAGS);
    this.pool = Executors.newFixedThreadPool(concurrency, r -> new Thread(r, "notifier-delivery"));
    this.deliveries =
        new ReviewDeliveries(reviews, targets, policy, pool, registry, this::deadLetter);
    this.flags =
        CommitSafeLoop.builder(consumer, Topics.DRIFT_FLAGS, this::handle)
            .name("notifier")
            .role(FleetRole.NOTIFIER)
            .backpressure(MAX_IN_FLIGHT, MAX_IN_FLIGHT - 1)
            .pollTimeout(POLL)
            .synchronousCommits()
            .build();
    this.pollThread = new Thread(flags, "notifier-poll");
    // The loop logged its failure (a denial by the cluster as one line saying what to grant); the
    // default handler would print the stack trace once more.
    pollThread.setUncaughtExceptionHandler(
        (thread, e) -> {
          if (!(e instanceof RuntimeException)) {
            log.error("{} failed", thread.getName(), e);
          }
        });
  }

  private static ReviewPublisher publisher(FleetConfig config, Clock clock) {
    Storage storage = Storage.of(config);
    return new ReviewPublisher(
        new ReviewAssembler(
            storage, new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT))),
        config.get(FleetConfig.REPORT_BASE_URL),
        clock);
  }

  /**
   * The targets the configuration names: the webhook when {@code notifier.webhook-url} is set,
   * GitHub and GitLab when their token is there. Throws listing every problem (a webhook without a
   * secret, an unreadable secret file).
   */
  public static List<ReviewTarget> targets(FleetConfig config, Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    List<ReviewTarget> targets = new ArrayList<>();
    String webhook = config.get(FleetConfig.WEBHOOK_URL);
    if (!webhook.isEmpty()) {
      String secret =
          secret(config.get(FleetConfig.WEBHOOK_SECRET_FILE), env, "WEBHOOK_SECRET", problems);
      if (secret == null) {
        problems.add(
            "notifier.webhook-url is set but there is no secret to sign with: set notifier.webhook-secret-file"
                + " or WEBHOOK_SECRET");
      } else {
        targets.add(new WebhookTarget(URI.create(webhook), secret));
      }
    }
    String github =
        secret(config.get(FleetConfig.GITHUB_TOKEN_FILE), env, "GITHUB_TOKEN", problems);
    if (github != null) {
      targets.add(new GitHubTarget(URI.create(config.get(FleetConfig.GITHUB_API)), github));
    }
    String gitlab =
        secret(config.get(FleetConfig.GITLAB_TOKEN_FILE), env, "GITLAB_TOKEN", problems);
    if (gitlab != null) {
      targets.add(new GitLabTarget(URI.create(config.get(FleetConfig.GITLAB_API)), gitlab));
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid notifier configuration:\n  - " + String.join("\n  - ", problems));
    }
    return targets;
  }

  private static String secret(
      String file, Map<String, String> env, String variable, List<String> problems) {
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
    log.info(
        "notifier delivering reviews to {}",
        targets.isEmpty()
            ? "no target (reports only)"
            : targets.stream().map(ReviewTarget::name).toList());
    started = true;
    pollThread.start();
    return this;
  }

  public boolean alive() {
    return pollThread.isAlive();
  }

  public List<ReviewTarget> targets() {
    return targets;
  }

  /**
   * Writes and delivers the flag's review; the flag is finished when every target has it or has
   * dead-lettered it. An unreadable flag is dead-lettered at once.
   */
  private void handle(ConsumerRecord<String, byte[]> record, Delivery delivery) {
    if (verifier != null
        && verifier.verify(record.value(), record.headers())
            instanceof FlagVerifier.Rejected rejected) {
      // A forged verdict must not reach a pull request as if the fleet had said it.
      log.error(
          "drift flag for {} at {}-{}@{} rejected ({}), sent to the dead-letter topic: {}",
          record.key(),
          record.topic(),
          record.partition(),
          record.offset(),
          rejected.reason().wireName(),
          rejected.detail());
      DeadLetters.send(
          producer,
          DeadLetters.from(
                  record.topic(),
                  new SecurityException(
                      "flag rejected (" + rejected.reason().wireName() + "): " + rejected.detail()))
              .copying(record.headers())
              .at(record.partition(), record.offset())
              .header(REJECTED_HEADER, rejected.reason().wireName())
              .record(record.key(), record.value()),
          "the rejected flag at "
              + record.topic()
              + "-"
              + record.partition()
              + "@"
              + record.offset());
      deadLetters.increment();
      delivery.done();
      return;
    }
    DriftFlag flag;
    try {
      flag = Json.read(record.value(), DriftFlag.class);
    } catch (ContractViolation e) {
      log.error(
          "unreadable drift flag at {}-{}@{} sent to the dead-letter topic: {}",
          record.topic(),
          record.partition(),
          record.offset(),
          e.getMessage());
      DeadLetters.send(producer, record, e);
      deadLetters.increment();
      delivery.done();
      return;
    }
    deliveries.handle(flag).whenComplete((review, e) -> delivery.done());
  }

  private void deadLetter(DriftFlag flag, ReviewTarget target, Exception cause) {
    try {
      DeadLetters.send(
          producer,
          DeadLetters.from(Topics.DRIFT_FLAGS, cause)
              .header(TARGET_HEADER, target.name())
              .record(flag.model(), Json.write(flag)),
          "the undelivered review of " + flag.model() + " " + flag.version());
      deadLetters.increment();
    } catch (RuntimeException e) {
      log.error(
          "cannot dead-letter the review of {} {}: {}", flag.model(), flag.version(), e.toString());
    }
  }

  /**
   * The dead-letter header of a flag that failed verification: why ({@code unsigned}, {@code
   * unknown_key}, {@code bad_signature}, {@code key_mismatch}).
   */
  public static final String REJECTED_HEADER = "evalfleet.notifier.rejected";

  /** The dead-letter header naming the review target a flag could not be delivered to. */
  public static final String TARGET_HEADER = "evalfleet.notifier.target";

  /**
   * Stops reading, lets reviews in progress finish within {@code timeout}, commits, closes the
   * clients.
   */
  public void close(Duration timeout) throws InterruptedException {
    if (started) {
      flags.close(timeout); // closes the consumer
      pollThread.join(timeout.toMillis() + 5_000);
    } else {
      consumer.close(Duration.ofSeconds(5));
    }
    pool.shutdown();
    if (!pool.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      pool.shutdownNow();
    }
    producer.close(Duration.ofSeconds(5));
  }

  @Override
  public void close() throws InterruptedException {
    close(Duration.ofSeconds(30));
  }
}
