package io.evalfleet.cli.progress;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.kafka.acl.KafkaDenial;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads run progress from {@code evalfleet.run-progress} as it is published, outside any consumer
 * group. Not thread-safe.
 */
public final class ProgressWatcher implements AutoCloseable {
  private final KafkaConsumer<String, byte[]> consumer;
  private final PrintStream notices;
  private boolean visible = true;

  public ProgressWatcher(FleetConfig config) {
    this(config, System.err);
  }

  /**
   * @param notices where a principal that may not read the progress topic (a promotion reader) is
   *     told that progress is not shown: progress is advisory, so watching goes on without it
   */
  public ProgressWatcher(FleetConfig config, PrintStream notices) {
    this.notices = notices;
    consumer = KafkaClients.reader(config, "evalfleet-progress-watcher");
    try {
      List<TopicPartition> partitions =
          consumer.partitionsFor(Topics.RUN_PROGRESS, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position); // fix the position now, before anything is submitted
    } catch (RuntimeException e) {
      hideIfDenied(e);
    }
  }

  /** Whether progress is shown: false once the cluster denied reading it. */
  public boolean visible() {
    return visible;
  }

  private void hideIfDenied(RuntimeException e) {
    KafkaDenial denial = KafkaDenial.of(e).orElseThrow(() -> e);
    if (denial.authentication()) {
      throw e;
    }
    visible = false;
    notices.println(
        "progress is not visible to this principal (no READ on "
            + Topics.RUN_PROGRESS
            + "); showing flags only");
    notices.flush();
  }

  /** The progress records published since the last call; skips records it cannot read. */
  public List<RunProgress> poll(Duration timeout) {
    List<RunProgress> progress = new ArrayList<>();
    if (!visible) {
      return progress;
    }
    ConsumerRecords<String, byte[]> records;
    try {
      records = consumer.poll(timeout);
    } catch (RuntimeException e) {
      hideIfDenied(e);
      return progress;
    }
    for (ConsumerRecord<String, byte[]> record : records) {
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
