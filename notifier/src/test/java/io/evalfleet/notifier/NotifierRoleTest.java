package io.evalfleet.notifier;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.signing.FlagKeys;
import io.evalfleet.common.signing.FlagSigner;
import io.evalfleet.common.signing.FlagVerifier;
import io.evalfleet.common.signing.SignedFlag;
import io.evalfleet.notifier.delivery.DeliveryException;
import io.evalfleet.notifier.delivery.DeliveryPolicy;
import io.evalfleet.notifier.delivery.ReviewTarget;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.testing.Flags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The notifier's use of the commit-safe loop: a flag is committed only once its review is delivered
 * or dead-lettered.
 */
class NotifierRoleTest {
  static final TopicPartition P0 = new TopicPartition(Topics.DRIFT_FLAGS, 0);
  static final ReviewRef PR = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 7, null);

  final AtomicBoolean consumerClosed = new AtomicBoolean();

  /** Keeps its commits readable after the role closed it. */
  final MockConsumer<String, byte[]> consumer =
      new MockConsumer<>("earliest") {
        @Override
        public void close(CloseOptions options) {
          consumerClosed.set(true);
        }
      };

  final MockProducer<String, byte[]> producer =
      new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  /** Holds every delivery until released. */
  final CountDownLatch release = new CountDownLatch(1);

  NotifierRole role;

  /** The role's verifier; none unless a test sets one. */
  FlagVerifier verifier;

  /** A target that takes every review, waits for the test, then refuses it for good. */
  final ReviewTarget refusing =
      new ReviewTarget() {
        @Override
        public String name() {
          return "webhook";
        }

        @Override
        public boolean accepts(Review review) {
          return true;
        }

        @Override
        public void deliver(Review review) throws DeliveryException, InterruptedException {
          release.await(10, TimeUnit.SECONDS);
          throw new DeliveryException("webhook answered 410 Gone", false, null, null);
        }
      };

  void start(byte[]... flags) {
    start(List.of(flags).stream().<Headers>map(f -> new RecordHeaders()).toList(), flags);
  }

  void start(List<Headers> headers, byte[]... flags) {
    consumer.updateBeginningOffsets(Map.of(P0, 0L));
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(P0));
          for (int i = 0; i < flags.length; i++) {
            consumer.addRecord(
                new ConsumerRecord<>(
                    Topics.DRIFT_FLAGS,
                    0,
                    i,
                    ConsumerRecord.NO_TIMESTAMP,
                    TimestampType.NO_TIMESTAMP_TYPE,
                    ConsumerRecord.NULL_SIZE,
                    ConsumerRecord.NULL_SIZE,
                    "m",
                    flags[i],
                    headers.get(i),
                    Optional.empty()));
          }
        });
    role =
        new NotifierRole(
                consumer,
                producer,
                flag -> new Review(flag, "review of " + flag.version(), "file:/r", "file:/r"),
                List.of(refusing),
                new DeliveryPolicy(1, Duration.ofMillis(10), Duration.ofSeconds(1)),
                2,
                registry,
                verifier)
            .start();
  }

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    if (role != null) {
      role.close(Duration.ofSeconds(5));
    }
  }

  static byte[] flag(String version) {
    return Json.write(Flags.flag("m", version, Flag.RED, PR));
  }

  static void await(String what, BooleanSupplier condition) {
    Awaitility.await(what)
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(5))
        .until(condition::getAsBoolean);
  }

  static void holds(String what, BooleanSupplier condition, Duration period) {
    Awaitility.await(what)
        .during(period)
        .atMost(period.plusSeconds(5))
        .pollInterval(Duration.ofMillis(5))
        .until(condition::getAsBoolean);
  }

  Long committed() {
    var committed = consumer.committed(Set.of(P0)).get(P0);
    return committed == null ? null : committed.offset();
  }

  static String header(ProducerRecord<String, byte[]> record, String key) {
    return new String(record.headers().lastHeader(key).value(), StandardCharsets.UTF_8);
  }

  double deadLetters() {
    return registry
        .find(FleetMeter.DEAD_LETTERS.meterName())
        .tag("source", Topics.DRIFT_FLAGS)
        .counter()
        .count();
  }

  @Test
  void aPrincipalWithoutItsGroupAclStopsTheRoleInsteadOfPollingOn() {
    consumer.setPollException(new GroupAuthorizationException("denied", "evalfleet-notifier"));
    start();

    await("the role has stopped", () -> !role.alive());
    assertThat(producer.history()).isEmpty();
  }

  @Test
  void aFlagWhoseReviewIsNotDeliveredYetIsNotCommitted() {
    start(flag("v1"));
    holds(
        "nothing committed while the delivery is in progress",
        () -> committed() == null,
        Duration.ofMillis(300));
    assertThat(producer.history()).isEmpty();
  }

  @Test
  void aReviewThatCannotBeDeliveredIsDeadLetteredBeforeItsFlagIsCommitted() {
    start(flag("v1"));
    release.countDown();
    await("the flag is committed", () -> Long.valueOf(1).equals(committed()));
    assertThat(producer.history()).as("dead-lettered before the commit").hasSize(1);
    ProducerRecord<String, byte[]> dead = producer.history().get(0);
    assertThat(dead.topic()).isEqualTo(Topics.DLQ);
    assertThat(dead.key()).isEqualTo("m");
    assertThat(Json.read(dead.value(), DriftFlag.class).version()).isEqualTo("v1");
    assertThat(header(dead, DeadLetters.ORIGINAL_TOPIC)).isEqualTo(Topics.DRIFT_FLAGS);
    assertThat(header(dead, NotifierRole.TARGET_HEADER)).isEqualTo("webhook");
    assertThat(header(dead, DeadLetters.ERROR_MESSAGE))
        .contains("not delivered to webhook", "410 Gone");
    assertThat(dead.headers().lastHeader(DeadLetters.ORIGINAL_OFFSET))
        .as("a review is not one record")
        .isNull();
    assertThat(deadLetters()).isEqualTo(1);
  }

  @Test
  void anUnreadableFlagIsDeadLetteredAndDoesNotHoldTheFlagsAfterIt() {
    start("{oops".getBytes(StandardCharsets.UTF_8), flag("v2"));
    await("the unreadable flag is dead-lettered", () -> producer.history().size() == 1);
    ProducerRecord<String, byte[]> dead = producer.history().get(0);
    assertThat(dead.value()).isEqualTo("{oops".getBytes(StandardCharsets.UTF_8));
    assertThat(header(dead, DeadLetters.ORIGINAL_OFFSET)).isEqualTo("0");
    assertThat(header(dead, DeadLetters.ERROR_MESSAGE)).contains("malformed JSON");
    holds(
        "committed up to the flag still being delivered",
        () -> Long.valueOf(1).equals(committed()),
        Duration.ofMillis(200));
    release.countDown();
    await("both committed", () -> Long.valueOf(2).equals(committed()));
  }

  @Test
  void closeLetsTheDeliveryInProgressFinishAndCommitsItsFlag() throws Exception {
    start(flag("v1"));
    await("the flag is read", () -> consumer.position(P0) == 1);
    Thread releaser =
        new Thread(
            () -> {
              try {
                Thread.sleep(200);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              release.countDown();
            });
    releaser.start();
    role.close(Duration.ofSeconds(5));
    role = null;
    assertThat(producer.history()).hasSize(1);
    assertThat(committed()).isEqualTo(1);
    assertThat(consumerClosed).isTrue();
  }

  @Test
  void withPublicKeysAForgedFlagIsDeadLetteredWithWhyAndNeverReviewed() {
    KeyPair trusted = FlagKeys.generate();
    FlagSigner signer = new FlagSigner(trusted);
    verifier = new FlagVerifier(List.of(trusted.getPublic()));
    byte[] genuine =
        Json.write(
            Flags.flag("m", "v1", Flag.RED, PR).toBuilder().signingKeyId(signer.keyId()).build());
    SignedFlag signed = signer.sign(genuine);
    byte[] forgedGreen =
        Json.write(
            Flags.flag("m", "v2", Flag.GREEN, PR).toBuilder().signingKeyId(signer.keyId()).build());

    start(
        List.of(new RecordHeaders(), FlagSigner.headers(signed), FlagSigner.headers(signed)),
        flag("v0"),
        forgedGreen,
        genuine);
    await("both bad flags dead-lettered", () -> producer.history().size() == 2);
    assertThat(producer.history())
        .extracting(dead -> header(dead, NotifierRole.REJECTED_HEADER))
        .containsExactly("unsigned", "bad_signature");
    assertThat(producer.history().get(1).value()).isEqualTo(forgedGreen);
    assertThat(header(producer.history().get(1), DeadLetters.ERROR_MESSAGE))
        .contains("forged or altered");
    release.countDown();
    await(
        "the genuine flag's review is tried and dead-lettered by its target",
        () -> producer.history().size() == 3);
    assertThat(header(producer.history().get(2), NotifierRole.TARGET_HEADER)).isEqualTo("webhook");
    assertThat(Json.read(producer.history().get(2).value(), DriftFlag.class).version())
        .isEqualTo("v1");
  }
}
