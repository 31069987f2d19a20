package io.evalfleet.dispatcher.baseline;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production baseline of each model as operator commands see it: the compacted {@code
 * evalfleet.baselines} topic (keyed by model) read to its end, and {@link #pin} to publish a new
 * one, which the dispatcher follows for events staged from then on. Used by one thread.
 */
public final class BaselineStore {
  private static final Logger log = LoggerFactory.getLogger(BaselineStore.class);

  private final Producer<String, byte[]> producer;
  private final Map<String, BaselineRecord> byModel = new HashMap<>();

  public BaselineStore(Producer<String, byte[]> producer) {
    this.producer = producer;
  }

  /** Reads every partition of the baselines topic from the beginning to its current end. */
  public void load(Consumer<String, byte[]> reader, Duration timeout) {
    List<PartitionInfo> infos = reader.partitionsFor(Topics.BASELINES, timeout);
    List<TopicPartition> partitions =
        infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    reader.assign(partitions);
    reader.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = reader.endOffsets(partitions, timeout);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (partitions.stream().anyMatch(p -> reader.position(p) < end.get(p))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "could not read " + Topics.BASELINES + " to its end within " + timeout);
      }
      for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
        apply(record);
      }
    }
    log.info("loaded {} production baselines", byModel.size());
  }

  private void apply(ConsumerRecord<String, byte[]> record) {
    if (record.value() == null) {
      byModel.remove(record.key());
      return;
    }
    try {
      BaselineRecord baseline = Json.read(record.value(), BaselineRecord.class);
      BaselineRecord before = byModel.put(baseline.model(), baseline);
      if (before != null && !before.version().equals(baseline.version())) {
        log.info(
            "production baseline of {} is now version {} (was {})",
            baseline.model(),
            baseline.version(),
            before.version());
      }
    } catch (ContractViolation e) {
      log.warn(
          "ignoring unreadable baseline record for {} at offset {}: {}",
          record.key(),
          record.offset(),
          e.getMessage());
    }
  }

  public Optional<BaselineRecord> production(String model) {
    return Optional.ofNullable(byModel.get(model));
  }

  /** Makes {@code record} the production baseline of its model, durably. */
  public void pin(BaselineRecord record) {
    KafkaClients.sendAndWait(
        producer,
        new ProducerRecord<>(Topics.BASELINES, record.model(), Json.write(record)),
        "the baseline of " + record.model());
    byModel.put(record.model(), record);
  }
}
