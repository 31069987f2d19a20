package io.evalfleet.dispatcher.run;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.contract.Json;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run ids that already have a drift flag. The flags topic itself is the record: at start-up the
 * dispatcher reads it back over a look-back window, so that an event whose flag was published just
 * before a crash (but whose staged offset was not yet committed) is recognised when it is read
 * again, and gets no second flag. The window must exceed the age of the oldest event that can still
 * be undecided; a week by default. Bounded in memory; used by one thread.
 */
public final class DecidedRuns {
  private static final Logger log = LoggerFactory.getLogger(DecidedRuns.class);
  private final int capacity;
  private final LinkedHashSet<String> runIds = new LinkedHashSet<>();

  public DecidedRuns(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
  }

  /**
   * Reads every flag published since {@code now - lookBack} to the topic's current end.
   *
   * @throws IllegalStateException when the topic cannot be read to its end within {@code timeout}:
   *     starting without the record would risk a second flag
   */
  public void load(Consumer<String, byte[]> reader, Instant now, Duration lookBack, Duration timeout) {
    List<TopicPartition> partitions = reader.partitionsFor(Topics.DRIFT_FLAGS, timeout).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    reader.assign(partitions);
    Map<TopicPartition, Long> since = new HashMap<>();
    partitions.forEach(p -> since.put(p, now.minus(lookBack).toEpochMilli()));
    Map<TopicPartition, OffsetAndTimestamp> starts = reader.offsetsForTimes(since, timeout);
    Map<TopicPartition, Long> end = reader.endOffsets(partitions, timeout);
    for (TopicPartition partition : partitions) {
      OffsetAndTimestamp start = starts.get(partition);
      reader.seek(partition, start == null ? end.get(partition) : start.offset());
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    int read = 0;
    while (partitions.stream().anyMatch(p -> reader.position(p) < end.get(p))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("could not read " + Topics.DRIFT_FLAGS + " to its end within " + timeout
            + "; refusing to start without knowing which events already have a flag");
      }
      for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
        String runId = runIdOf(record);
        if (runId != null) {
          add(runId);
          read++;
        }
      }
    }
    log.info("{} runs already have a flag (read back over the last {})", read, lookBack);
  }

  public boolean contains(String runId) {
    return runIds.contains(runId);
  }

  public void add(String runId) {
    runIds.add(runId);
    if (runIds.size() > capacity) {
      Iterator<String> oldest = runIds.iterator();
      oldest.next();
      oldest.remove();
    }
  }

  public int size() {
    return runIds.size();
  }

  private static String runIdOf(ConsumerRecord<String, byte[]> record) {
    if (record.value() == null) {
      return null;
    }
    try {
      JsonNode runId = Json.mapper().readTree(record.value()).path("run_id");
      return runId.isTextual() ? runId.asText() : null;
    } catch (IOException e) {
      log.warn("ignoring unreadable flag at {}-{}@{}", record.topic(), record.partition(), record.offset());
      return null;
    }
  }
}
