package io.evalfleet.laptop;

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

/** Every committed retraining request on {@code evalfleet.retrain-requests}, read from the beginning. */
public final class MonitorRequests {
  private MonitorRequests() {}

  public static List<RetrainRequest> read(FleetConfig config) {
    List<RetrainRequest> requests = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> reader = KafkaClients.committedReader(config, "evalfleet-retrain-reader")) {
      List<TopicPartition> partitions = reader.partitionsFor(Topics.RETRAIN_REQUESTS).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
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
