package io.evalfleet.laptop.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.laptop.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a share group (KIP-932) would do to the jobs topic, measured on a broker set up as the
 * embedded one ({@link EmbeddedKafka}) is: whether share groups are on, what becomes of a record
 * past the delivery limit, and whether the lag that the KEDA Kafka scaler reads (consumer-group
 * offsets) exists for a share group. The findings are in docs/share-groups.md.
 */
class ShareGroupsIT {
  static final String TOPIC = "share-probe";
  static final String GROUP = "share-probe-group";

  /**
   * The embedded broker's own settings plus a replication factor of 1 for the share-group state
   * topic: with the default (3), a single broker cannot create {@code __share_group_state}, and a
   * share consumer on {@link EmbeddedKafka} as it is receives nothing at all.
   */
  static KafkaClusterTestKit broker(Path dir) throws Exception {
    TestKitNodes nodes =
        new TestKitNodes.Builder()
            .setBaseDirectory(dir)
            .setCombined(true)
            .setNumBrokerNodes(1)
            .setNumControllerNodes(1)
            .build();
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(nodes)
            .setConfigProp("auto.create.topics.enable", "false")
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            .setConfigProp("share.coordinator.state.topic.replication.factor", "1")
            .setConfigProp("share.coordinator.state.topic.min.isr", "1")
            .build();
    cluster.format();
    cluster.startup();
    cluster.waitForReadyBrokers();
    return cluster;
  }

  @Test
  void aRecordReleasedUpToTheDeliveryLimitIsArchivedAndAShareGroupHasNoConsumerGroupLag(
      @TempDir Path dir) throws Exception {
    try (KafkaClusterTestKit kafka = broker(dir);
        Admin admin = kafka.admin()) {
      FinalizedVersionRange share =
          admin
              .describeFeatures()
              .featureMetadata()
              .get(30, TimeUnit.SECONDS)
              .finalizedFeatures()
              .get("share.version");
      System.out.println("share.version finalized: " + share);
      assertThat(share).as("share groups are on in the embedded broker").isNotNull();
      assertThat(share.maxVersionLevel()).isGreaterThanOrEqualTo((short) 1);

      admin
          .createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
      admin
          .incrementalAlterConfigs(
              Map.of(
                  new ConfigResource(ConfigResource.Type.GROUP, GROUP),
                  List.of(
                      new AlterConfigOp(
                          new ConfigEntry("share.auto.offset.reset", "earliest"),
                          AlterConfigOp.OpType.SET),
                      new AlterConfigOp(
                          new ConfigEntry("share.delivery.count.limit", "2"),
                          AlterConfigOp.OpType.SET))))
          .all()
          .get(30, TimeUnit.SECONDS);
      try (var producer =
          new KafkaProducer<>(
              Map.<String, Object>of("bootstrap.servers", kafka.bootstrapServers()),
              new StringSerializer(),
              new StringSerializer())) {
        for (String value : List.of("job-0", "poison", "job-2")) {
          producer.send(new ProducerRecord<>(TOPIC, value, value)).get(30, TimeUnit.SECONDS);
        }
      }

      List<String> seen = new ArrayList<>();
      try (var consumer =
          new KafkaShareConsumer<>(
              Map.<String, Object>of(
                  "bootstrap.servers",
                  kafka.bootstrapServers(),
                  "group.id",
                  GROUP,
                  "share.acknowledgement.mode",
                  "explicit"),
              new StringDeserializer(),
              new StringDeserializer())) {
        consumer.subscribe(List.of(TOPIC));
        long quietUntil = Long.MAX_VALUE;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < Math.min(deadline, quietUntil)) {
          for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
            seen.add(record.value() + "#" + record.deliveryCount().orElse((short) -1));
            // The poison record is given back each time, as a worker that died on it would (by its
            // lock expiring).
            consumer.acknowledge(
                record,
                record.value().equals("poison") ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT);
          }
          consumer.commitSync();
          if (quietUntil == Long.MAX_VALUE
              && seen.contains("poison#2")
              && seen.contains("job-2#1")) {
            quietUntil =
                System.nanoTime() + Duration.ofSeconds(5).toNanos(); // would a third delivery come?
          }
        }
      }
      System.out.println("deliveries seen: " + seen);
      assertThat(seen)
          .as("released twice, then archived: never delivered a third time, and nobody told")
          .containsExactlyInAnyOrder("job-0#1", "poison#1", "poison#2", "job-2#1");

      // What KEDA's Kafka scaler reads: the group's committed consumer-group offsets (lag = end -
      // committed).
      String asConsumerGroup;
      try {
        Map<TopicPartition, OffsetAndMetadata> offsets =
            admin
                .listConsumerGroupOffsets(GROUP)
                .partitionsToOffsetAndMetadata()
                .get(30, TimeUnit.SECONDS);
        asConsumerGroup = "offsets " + offsets;
        assertThat(offsets)
            .as("a share group commits no consumer-group offsets to compute lag from")
            .isEmpty();
      } catch (ExecutionException e) {
        asConsumerGroup = "refused: " + e.getCause();
      }
      System.out.println(
          "the share group read as a consumer group (what KEDA's Kafka scaler reads): "
              + asConsumerGroup);
      System.out.println(
          "share-group offsets: "
              + admin
                  .listShareGroupOffsets(Map.of(GROUP, new ListShareGroupOffsetsSpec()))
                  .all()
                  .get(30, TimeUnit.SECONDS));
    }
  }
}
