package io.evalfleet.monitor.retrain;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RetrainRequest;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The retraining requests on {@code evalfleet.retrain-requests}, as committed, read from the
 * beginning.
 */
public final class RetrainLedger {
  private RetrainLedger() {}

  public static List<RetrainRequest> read(FleetConfig config) {
    List<RetrainRequest> requests = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> reader =
        KafkaClients.committedReader(config, "evalfleet-retrain-ledger")) {
      List<TopicPartition> partitions =
          reader.partitionsFor(Topics.RETRAIN_REQUESTS, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      var end = reader.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> reader.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
          requests.add(Json.read(record.value(), RetrainRequest.class));
        }
      }
    }
    return requests;
  }
}
