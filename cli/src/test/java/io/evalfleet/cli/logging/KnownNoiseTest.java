package io.evalfleet.cli.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

class KnownNoiseTest {
  private static final String PREFIX =
      "[Consumer clientId=evalfleet-dispatcher-StreamThread-1-consumer,"
          + " groupId=evalfleet-dispatcher] The metadata response from the cluster reported a recoverable issue with"
          + " correlation id 63 : ";

  private static FilterReply decide(String logger, String message) {
    LoggerContext context = new LoggerContext();
    LoggingEvent event =
        new LoggingEvent(logger, context.getLogger(logger), Level.WARN, message, null, null);
    return new KnownNoise().decide(event);
  }

  @Test
  void theRepartitionTopicsMissingAtADispatchersFirstStartAreNotShown() {
    assertThat(
            decide(
                "org.apache.kafka.clients.NetworkClient",
                PREFIX
                    + "{evalfleet-dispatcher-staged-by-model-repartition=UNKNOWN_TOPIC_OR_PARTITION}"))
        .isEqualTo(FilterReply.DENY);
  }

  @Test
  void aMissingTopicOfTheFleetIsStillShown() {
    assertThat(
            decide(
                "org.apache.kafka.clients.NetworkClient",
                PREFIX + "{evalfleet.results=UNKNOWN_TOPIC_OR_PARTITION}"))
        .isEqualTo(FilterReply.NEUTRAL);
  }

  @Test
  void theDispatchersRetriedTransactionWritesAreNotShownButOtherProducerErrorsAre() {
    String sender = "org.apache.kafka.clients.producer.internals.Sender";
    String producer =
        "[Producer clientId=evalfleet-dispatcher-StreamThread-1-producer, transactionalId=x-1] Got"
            + " error produce response with correlation id 171 on topic-partition"
            + " evalfleet.run-progress-2, retrying (2147483646 attempts left). Error: ";
    assertThat(decide(sender, producer + "CONCURRENT_TRANSACTIONS")).isEqualTo(FilterReply.DENY);
    assertThat(decide(sender, producer + "NOT_ENOUGH_REPLICAS")).isEqualTo(FilterReply.NEUTRAL);
  }

  @Test
  void aDenialIsSaidOnceByTheCommandNotByEveryKafkaLoggerOnTheWay() {
    String producer = "[Producer clientId=evalfleet-submit-producer] ";
    assertThat(
            decide(
                "org.apache.kafka.clients.NetworkClient",
                producer
                    + "The metadata response from the cluster reported a recoverable issue with"
                    + " correlation id 1 : {evalfleet.weights.staged=TOPIC_AUTHORIZATION_FAILED}"))
        .isEqualTo(FilterReply.DENY);
    assertThat(
            decide(
                "org.apache.kafka.clients.Metadata",
                producer + "Topic authorization failed for topics [evalfleet.weights.staged]"))
        .isEqualTo(FilterReply.DENY);
    assertThat(
            decide(
                "org.apache.kafka.clients.NetworkClient",
                "[Consumer clientId=evalfleet-flag-watcher, groupId=null] Connection to node -1"
                    + " (localhost/127.0.0.1:44773) failed authentication due to: Authentication"
                    + " failed during authentication due to invalid credentials with SASL mechanism"
                    + " SCRAM-SHA-512"))
        .isEqualTo(FilterReply.DENY);
    assertThat(decide("org.apache.kafka.clients.Metadata", producer + "Cluster ID: abc"))
        .isEqualTo(FilterReply.NEUTRAL);
  }
}
