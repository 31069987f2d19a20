package io.evalfleet.laptop.bench;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Publishes jobs straight onto {@code evalfleet.jobs} and waits for every result, as a dispatcher
 * would.
 */
final class FleetJobs {
  private FleetJobs() {}

  /**
   * A reader of every partition of {@code topic}, positioned at its end: it sees only what comes
   * next.
   */
  static KafkaConsumer<String, byte[]> readerAtEnd(FleetConfig config, String name, String topic) {
    KafkaConsumer<String, byte[]> reader = KafkaClients.reader(config, name);
    List<TopicPartition> partitions =
        reader.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .toList();
    reader.assign(partitions);
    reader.seekToEnd(partitions);
    partitions.forEach(reader::position);
    return reader;
  }

  /**
   * @return the milliseconds the worker reported spending on the jobs
   * @throws IllegalStateException when a job fails or is not answered within ten minutes
   */
  static long run(
      KafkaProducer<String, byte[]> producer,
      KafkaConsumer<String, byte[]> results,
      List<ScoringJob> jobs) {
    Set<String> pending = new HashSet<>();
    for (ScoringJob job : jobs) {
      pending.add(job.jobId());
      producer.send(new ProducerRecord<>(Topics.JOBS, job.jobId(), Json.write(job)));
    }
    producer.flush();
    long scoringMillis = 0;
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (!pending.isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(pending.size() + " jobs were not answered");
      }
      for (ConsumerRecord<String, byte[]> record : results.poll(Duration.ofMillis(50))) {
        ShardResult result = Json.read(record.value(), ShardResult.class);
        if (result.failed()) {
          throw new IllegalStateException(
              "job " + result.jobId() + " failed: " + result.error().message());
        }
        if (pending.remove(result.jobId())) {
          scoringMillis += result.durationMs();
        }
      }
    }
    return scoringMillis;
  }
}
