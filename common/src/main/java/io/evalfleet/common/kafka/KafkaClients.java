package io.evalfleet.common.kafka;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.config.SecretValues;
import io.evalfleet.common.failure.Failures;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka clients configured the way the fleet needs them: string keys and JSON bytes, idempotent
 * producers that wait for all in-sync replicas, consumers that commit only explicitly. Anything set
 * under {@code kafka.*} in the configuration (security, timeouts, ...) is applied first and these
 * defaults only where it is silent, except for the settings the fleet's correctness rests on.
 */
public final class KafkaClients {
  private KafkaClients() {}

  public static KafkaProducer<String, byte[]> producer(FleetConfig config, String clientId) {
    Map<String, Object> props = config.kafkaClientProperties();
    props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    props.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 * 1024 * 1024);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    // Its own client id: a producer and a consumer of one role sharing an id would also share (and
    // collide on) their app-info meters.
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-producer");
    dropConsumerOnly(props);
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /**
   * A transactional producer: what it sends between {@code beginTransaction} and {@code
   * commitTransaction} is seen by read-committed readers all at once or not at all, and a newer
   * producer with the same {@code transactionalId} fences an older one (a stale process).
   */
  public static KafkaProducer<String, byte[]> transactionalProducer(
      FleetConfig config, String clientId, String transactionalId) {
    Map<String, Object> props = config.kafkaClientProperties();
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-producer");
    dropConsumerOnly(props);
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /** A reader (see {@link #reader}) that sees only records of committed transactions. */
  public static KafkaConsumer<String, byte[]> committedReader(FleetConfig config, String clientId) {
    Map<String, Object> props = config.kafkaClientProperties();
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
    dropProducerOnly(props);
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * A group member with cooperative rebalancing (the classic protocol with the cooperative sticky
   * assignor), so that members joining or leaving do not stop the others. {@code
   * kafka.group.protocol=consumer} selects the KIP-848 protocol instead; in Kafka 4.3 its consumer
   * spends a core's share of CPU on a small {@code max.poll.records} (KAFKA-18376), which is why it
   * is not the default for workers that must leave the cores to ONNX Runtime.
   */
  public static KafkaConsumer<String, byte[]> consumer(
      FleetConfig config, String groupId, String clientId, int maxPollRecords) {
    return consumer(config, groupId, clientId, maxPollRecords, null);
  }

  /**
   * A static group member when {@code instanceId} is given ({@code group.instance.id}): restarted
   * under the same id, it takes its partitions back at once, without a rebalance.
   */
  public static KafkaConsumer<String, byte[]> consumer(
      FleetConfig config, String groupId, String clientId, int maxPollRecords, String instanceId) {
    Map<String, Object> props = config.kafkaClientProperties();
    if (instanceId != null) {
      props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
    }
    props.putIfAbsent(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
    if ("classic"
        .equalsIgnoreCase(String.valueOf(props.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG)))) {
      props.putIfAbsent(
          ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
          CooperativeStickyAssignor.class.getName());
    }
    props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 * 1024 * 1024);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    dropProducerOnly(props);
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * A consumer outside any group, for reading a topic by assignment (e.g. a compacted state topic).
   */
  public static KafkaConsumer<String, byte[]> reader(FleetConfig config, String clientId) {
    Map<String, Object> props = config.kafkaClientProperties();
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
    dropProducerOnly(props);
    return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
  }

  /**
   * Sends one record and waits for the broker's acknowledgement.
   *
   * @param what names the record in the exception, e.g. {@code "the flag of run-1"}
   * @throws IllegalStateException if the send fails or the thread is interrupted (the interrupt
   *     flag is kept)
   */
  public static <K, V> void sendAndWait(
      Producer<K, V> producer, ProducerRecord<K, V> record, String what) {
    try {
      producer.send(record).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing " + what, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot publish " + what + ": " + e.getCause(), e.getCause());
    }
  }

  /**
   * Properties for an admin client: bootstrap servers and every {@code kafka.*} key it knows
   * (security, ...).
   */
  public static Map<String, Object> adminProperties(FleetConfig config) {
    Map<String, Object> props = config.kafkaClientProperties();
    props.keySet().removeIf(k -> !AdminClientConfig.configNames().contains(k));
    props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "evalfleet-admin");
    return props;
  }

  /**
   * Why a Kafka client could not be made from its settings, in one line naming what to check, when
   * {@code failure} is or is caused by such a failure ({@link Failures#isKafkaClientConstruction});
   * Kafka's reason is in the causes, the top says only which client. Secrets are masked.
   */
  public static Optional<String> settingsProblem(Throwable failure) {
    return Failures.firstCause(failure, Failures::isKafkaClientConstruction)
        .map(
            construction -> {
              List<String> reasons = new ArrayList<>();
              for (Throwable c = construction.getCause();
                  c != null;
                  c = c.getCause() == c ? null : c.getCause()) {
                String said =
                    c instanceof NoSuchFileException
                        ? "no such file " + c.getMessage()
                        : c.getMessage();
                if (said != null && reasons.stream().noneMatch(r -> r.contains(said))) {
                  reasons.add(said);
                }
              }
              String why = String.join(": ", reasons);
              return SecretValues.mask(
                  "cannot make the Kafka client ("
                      + construction.getMessage().substring("Failed to construct ".length())
                      + ") from its settings: "
                      + why
                      + ": check "
                      + settingsToCheck(why));
            });
  }

  private static String settingsToCheck(String why) {
    String said = why.toLowerCase(Locale.ROOT);
    if (said.contains("jaas")) {
      return "kafka.sasl.jaas.config (it ends with a semicolon; values in double quotes)";
    }
    if (said.contains("keystore")
        || said.contains("truststore")
        || said.contains("ssl")
        || said.contains("no such file")
        || said.contains("password")) {
      return "kafka.ssl.truststore.* and kafka.ssl.keystore.* (location, type and password)";
    }
    if (said.contains("bootstrap")) {
      return "kafka.bootstrap.servers";
    }
    return "the kafka.* settings";
  }

  private static void dropConsumerOnly(Map<String, Object> props) {
    props.keySet().removeIf(k -> !ProducerConfig.configNames().contains(k));
  }

  private static void dropProducerOnly(Map<String, Object> props) {
    props.keySet().removeIf(k -> !ConsumerConfig.configNames().contains(k));
  }
}
