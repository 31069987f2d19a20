package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.DispatcherRole;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import io.evalfleet.worker.WorkerRole;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staged events placed the way other producers place them (librdkafka's CRC32 partitioner, a null
 * key, a key that is not the model's name, a partition chosen by hand) each get exactly one flag; a
 * shard result that lands on another partition than its model's is sent on to the task that owns
 * the run. The client matrix with the real non-Java clients is {@code ClientMatrixIT}; this one
 * places records exactly, so every partition and every mismatch is certain to be hit.
 */
class AnyProducerIT {
  static final int PARTITIONS = 3;
  @TempDir Path dir;

  @Test
  void eventsOnAnyPartitionUnderAnyKeyEachGetOneFlagAndStrayResultsReachTheirRun()
      throws Exception {
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(
        new org.apache.hadoop.fs.Path(file.toUri()), DemoAssets.readPairs().subList(0, 8), 1 << 20);
    SubsetRef subset =
        new SubsetRef(
            file.toUri().toString(),
            Storage.withDefaults().sha256(file.toUri().toString()),
            null,
            Map.of());
    DemoAssets.ModelFiles model = new DemoAssets(dir).model(DemoAssets.Model.MINILM_FP32);

    try (EmbeddedKafka kafka = EmbeddedKafka.start(2)) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(
                  Map.of(
                      FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers(),
                      FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                      FleetConfig.SHARD_ROWS.key(), "4",
                      FleetConfig.DISPATCHER_STATE_DIR.key(), dir.resolve("state").toString(),
                      FleetConfig.INTRA_OP_THREADS.key(), "1"));
      SimpleMeterRegistry dispatcherMeters = new SimpleMeterRegistry();
      List<StagedWeightEvent> events = new ArrayList<>();
      Set<String> placements = new HashSet<>();
      try (DispatcherRole dispatcher =
              new DispatcherRole(config, Clock.systemUTC(), dispatcherMeters).start();
          WorkerRole worker = new WorkerRole(config, "worker-1", dir.resolve("cache")).start();
          FlagWatcher flags = new FlagWatcher(config, true);
          KafkaProducer<String, byte[]> producer = KafkaClients.producer(config, "other-clients")) {
        for (int i = 0; i < 12; i++) {
          String name = "any-producer-" + i;
          StagedWeightEvent event =
              StagedWeightEvent.builder()
                  .eventId("ev-" + name)
                  .model(name)
                  .version("v1")
                  .task(Task.EMBEDDING)
                  .artifact(model.onnx())
                  .tokenizer(model.tokenizer())
                  .goldenSubset(subset)
                  .createdAt(Instant.now())
                  .build();
          byte[] value = Json.write(event);
          int javaPartition =
              Utils.toPositive(Utils.murmur2(name.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
          ProducerRecord<String, byte[]> record =
              switch (i % 4) {
                // librdkafka's default for a keyed record: CRC32 of the key
                case 0 ->
                    new ProducerRecord<>(Topics.STAGED, crc32(name) % PARTITIONS, name, value);
                // a null key, on any partition
                case 1 -> new ProducerRecord<>(Topics.STAGED, i % PARTITIONS, null, value);
                // a key that is not the model's name
                case 2 -> new ProducerRecord<>(Topics.STAGED, null, "pipeline-" + i, value);
                // keyed by model, but on a partition that is certainly not the Java client's
                default ->
                    new ProducerRecord<>(
                        Topics.STAGED, (javaPartition + 1) % PARTITIONS, name, value);
              };
          var written = producer.send(record).get();
          placements.add(written.partition() + (written.partition() == javaPartition ? "=" : "≠"));
          events.add(event);
        }
        System.out.printf(
            "12 events placed as other producers place them: partitions %s (= on the Java client's"
                + " partition for their model, ≠ elsewhere)%n",
            placements);
        assertThat(placements)
            .as("events off their model's partition")
            .anyMatch(p -> p.endsWith("≠"));

        for (StagedWeightEvent event : events) {
          DriftFlag flag = flags.await(event.eventId(), Duration.ofMinutes(3));
          assertThat(flag.flag())
              .as("%s: %s", event.model(), flag.reasons())
              .isIn(Flag.GREEN, Flag.WARN);
        }
        flags.poll(Duration.ofSeconds(3));
        for (StagedWeightEvent event : events) {
          assertThat(flags.count(event.eventId())).as("flags for %s", event.eventId()).isEqualTo(1);
        }

        // A result on another partition than its model's: sent on to its model's task (there, a
        // duplicate).
        ConsumerRecord<String, byte[]> result = firstResult(config);
        int stray = (result.partition() + 1) % PARTITIONS;
        producer
            .send(new ProducerRecord<>(Topics.RESULTS, stray, result.key(), result.value()))
            .get();
        await("the stray result is sent on")
            .atMost(Duration.ofSeconds(30))
            .until(() -> dispatcherMeters.counter("evalfleet.results.rerouted").count() >= 1);
        assertThat(dispatcherMeters.counter("evalfleet.results.unknown.run").count()).isZero();
      }
    }
  }

  private static int crc32(String key) {
    CRC32 crc = new CRC32();
    crc.update(key.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() & 0x7fffffff);
  }

  private static ConsumerRecord<String, byte[]> firstResult(FleetConfig config) {
    try (KafkaConsumer<String, byte[]> reader =
        KafkaClients.reader(config, "any-producer-results")) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int p = 0; p < PARTITIONS; p++) {
        partitions.add(new TopicPartition(Topics.RESULTS, p));
      }
      reader.assign(partitions);
      reader.seekToBeginning(partitions);
      long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < until) {
        for (ConsumerRecord<String, byte[]> record : reader.poll(Duration.ofMillis(500))) {
          return record;
        }
      }
      throw new AssertionError("no shard result on " + Topics.RESULTS);
    }
  }
}
