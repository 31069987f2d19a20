package io.evalfleet.cli.progress;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads run progress from {@code evalfleet.run-progress} as it is published, outside any consumer
 * group. Not thread-safe.
 */
public final class ProgressWatcher implements AutoCloseable {
  private final KafkaConsumer<String, byte[]> consumer;

  public ProgressWatcher(FleetConfig config) {
    consumer = KafkaClients.reader(config, "evalfleet-progress-watcher");
    List<TopicPartition> partitions =
        consumer.partitionsFor(Topics.RUN_PROGRESS, Duration.ofSeconds(30)).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position); // fix the position now, before anything is submitted
  }

  /** The progress records published since the last call; skips records it cannot read. */
  public List<RunProgress> poll(Duration timeout) {
    List<RunProgress> progress = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
      try {
        progress.add(Json.read(record.value(), RunProgress.class));
      } catch (ContractViolation e) {
        // a progress record is advisory: one that cannot be read is not worth stopping for
      }
    }
    return progress;
  }

  @Override
  public void close() {
    consumer.close();
  }
}
