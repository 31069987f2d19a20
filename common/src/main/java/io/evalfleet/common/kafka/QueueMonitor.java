package io.evalfleet.common.kafka;

import io.evalfleet.common.metrics.FleetMeter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Queue depth as the fleet itself measures it, so that no external lag exporter is needed: for each
 * watched topic and the consumer group that drains it, per partition, the end offset, the committed
 * offset, their difference (the lag in records) and the age of the oldest record not yet committed
 * (the lag in seconds, read by peeking at the record at the committed offset). Sampled on its own
 * thread every interval; the gauges show the latest sample. Owns its thread; the admin client and
 * reader are the caller's, used only by that thread.
 */
public final class QueueMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QueueMonitor.class);

  private final Admin admin;
  private final Consumer<String, byte[]> reader;
  private final Map<String, String> groupOfTopic;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Map<TopicPartition, Sample> samples = new ConcurrentHashMap<>();
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "evalfleet-queue-monitor");
            t.setDaemon(true);
            return t;
          });

  /** The latest reading of one partition. */
  private static final class Sample {
    volatile long endOffset;
    volatile long committedOffset;
    volatile double oldestAgeSeconds;
  }

  /**
   * @param groupOfTopic the consumer group that drains each watched topic
   */
  public QueueMonitor(
      Admin admin,
      Consumer<String, byte[]> reader,
      Map<String, String> groupOfTopic,
      MeterRegistry registry,
      Clock clock) {
    this.admin = admin;
    this.reader = reader;
    this.groupOfTopic = Map.copyOf(groupOfTopic);
    this.registry = registry;
    this.clock = clock;
  }

  public QueueMonitor start(Duration interval) {
    thread.scheduleWithFixedDelay(
        this::sampleQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void sampleQuietly() {
    try {
      sample();
    } catch (Exception e) {
      log.debug("queue sample failed (the gauges keep their last values): {}", e.toString());
    }
  }

  /** Takes one reading of every watched topic. */
  public void sample() throws Exception {
    for (var watched : groupOfTopic.entrySet()) {
      String topic = watched.getKey();
      var description =
          admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
      description
          .partitions()
          .forEach(
              p -> {
                TopicPartition tp = new TopicPartition(topic, p.partition());
                latest.put(tp, OffsetSpec.latest());
                earliest.put(tp, OffsetSpec.earliest());
              });
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
          admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts =
          admin.listOffsets(earliest).all().get(10, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(watched.getValue())
              .partitionsToOffsetAndMetadata()
              .get(10, TimeUnit.SECONDS);
      Map<TopicPartition, Long> lagging = new HashMap<>();
      for (TopicPartition tp : latest.keySet()) {
        long end = ends.get(tp).offset();
        OffsetAndMetadata done = committed.get(tp);
        // A group that never committed here starts from the earliest record
        // (auto.offset.reset=earliest).
        long position =
            Math.max(
                done == null ? starts.get(tp).offset() : done.offset(), starts.get(tp).offset());
        Sample sample = samples.computeIfAbsent(tp, this::register);
        sample.endOffset = end;
        sample.committedOffset = position;
        if (end > position) {
          lagging.put(tp, position);
        } else {
          sample.oldestAgeSeconds = 0;
        }
      }
      readOldest(lagging);
    }
  }

  /** Peeks at the first uncommitted record of each lagging partition for its timestamp. */
  private void readOldest(Map<TopicPartition, Long> lagging) {
    if (lagging.isEmpty()) {
      return;
    }
    reader.assign(lagging.keySet());
    lagging.forEach(reader::seek);
    Set<TopicPartition> pending = new HashSet<>(lagging.keySet());
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(200))) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        if (pending.remove(tp)) {
          samples.get(tp).oldestAgeSeconds =
              Math.max(0, (clock.millis() - record.timestamp()) / 1000.0);
          reader.pause(List.of(tp));
        }
      }
    }
    reader.unsubscribe();
  }

  private Sample register(TopicPartition tp) {
    Sample sample = new Sample();
    String topic = tp.topic();
    String partition = Integer.toString(tp.partition());
    FleetMeter.QUEUE_LAG.gauge(
        registry, () -> Math.max(0, sample.endOffset - sample.committedOffset), topic, partition);
    FleetMeter.QUEUE_LAG_SECONDS.gauge(registry, () -> sample.oldestAgeSeconds, topic, partition);
    FleetMeter.QUEUE_END_OFFSET.gauge(registry, () -> sample.endOffset, topic, partition);
    FleetMeter.QUEUE_COMMITTED_OFFSET.gauge(
        registry, () -> sample.committedOffset, topic, partition);
    return sample;
  }

  @Override
  public void close() throws InterruptedException {
    thread.shutdownNow();
    thread.awaitTermination(5, TimeUnit.SECONDS);
  }
}
