package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.RetrainRequest;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.monitor.MonitorRole;
import io.evalfleet.monitor.MonitorSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitor on a synthetic traffic log with a shift injected at a known hour, all-MiniLM-L6-v2 as
 * the production model, hourly windows against the first six hours: the shift is caught in the
 * first window after it, undrifted windows alarm at about the configured rate, and each retraining
 * cause (the drift episode, each expired cadence period) is published once, across a restart.
 */
class MonitorIT {
  static final Instant START = Instant.parse("2026-11-01T00:00:00Z");
  static final int HOURS = 130;
  static final int SHIFT_HOUR = 120;
  static final double ALPHA = 0.05;

  @TempDir static Path dir;
  static LocalFleet fleet;
  static DemoAssets.ModelFiles model;
  static String traffic;

  static final String[] VERBS = {"reset", "change", "update", "cancel", "renew", "verify", "download", "close"};
  static final String[] THINGS = {"password", "invoice", "subscription", "billing address", "payment card", "plan",
      "account", "receipt", "email address", "username"};
  static final String[] PLACES = {"Berlin", "Lisbon", "Osaka", "Denver", "Nairobi", "Quito", "Oslo", "Perth"};
  static final String[] STATES = {"stuck in customs", "returned to sender", "delivered to a neighbour", "lost in transit",
      "delayed by weather", "damaged on arrival"};

  /** Support questions about accounts; after the shift, half the traffic asks about parcels instead. */
  static String text(Random random, boolean shifted) {
    if (shifted && random.nextBoolean()) {
      return "My parcel to " + PLACES[random.nextInt(PLACES.length)] + " was " + STATES[random.nextInt(STATES.length)]
          + ", tracking number " + (100000 + random.nextInt(900000)) + ". What can I do?";
    }
    return "How do I " + VERBS[random.nextInt(VERBS.length)] + " my " + THINGS[random.nextInt(THINGS.length)]
        + (random.nextBoolean() ? "" : " for order " + (1000 + random.nextInt(9000))) + "?";
  }

  @BeforeAll
  static void setUp() throws Exception {
    model = new DemoAssets(dir).model(DemoAssets.Model.MINILM_FP32);
    MessageType schema = Types.buildMessage()
        .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("message")
        .required(PrimitiveTypeName.INT64).named("ts")
        .named("traffic");
    Path file = dir.resolve("traffic").resolve("support.parquet");
    java.nio.file.Files.createDirectories(file.getParent());
    Random random = new Random(3);
    SimpleGroupFactory groups = new SimpleGroupFactory(schema);
    try (var writer = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()),
        new Configuration())).withType(schema).build()) {
      for (int hour = 0; hour < HOURS; hour++) {
        for (int i = 0; i < 60; i++) {
          long at = START.plus(Duration.ofHours(hour)).toEpochMilli() + i * 50_000L;
          writer.write(groups.newGroup().append("message", text(random, hour >= SHIFT_HOUR)).append("ts", at));
        }
      }
    }
    traffic = file.getParent().toUri().toString();
    fleet = LocalFleet.start(FleetConfig.defaults().with(Map.of(
        FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
        FleetConfig.INTRA_OP_THREADS.key(), "2")), 0, dir.resolve("cache"));
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (fleet != null) {
      fleet.close();
    }
  }

  static MonitorSpec spec() {
    return new MonitorSpec("support-embedder", "prod-1", model.onnx(), model.tokenizer(), null,
        new MonitorSpec.Traffic(traffic, "message", "ts"), Duration.ofHours(1), 40, START, START.plus(Duration.ofHours(6)),
        Duration.ofHours(1), null, ALPHA, 199, 7, Duration.ofDays(2), START, "support-chat");
  }

  static Instant hour(int hour) {
    return START.plus(Duration.ofHours(hour));
  }

  @Test
  void anInjectedShiftIsCaughtAtOnceFalseAlarmsStayNearAlphaAndEachCauseIsRequestedOnce() throws Exception {
    List<MonitorResult> results = new ArrayList<>();
    MonitorSpec spec = spec();
    assertThat(spec.problems()).isEmpty();
    try (MonitorRole monitor = new MonitorRole(fleet.config(), spec, dir.resolve("cache"), new SimpleMeterRegistry(),
        Clock.systemUTC())) {
      for (int hour = 7; hour <= 127; hour++) {
        results.add(monitor.checkAt(hour(hour)));
      }
    }
    long unshifted = results.stream().filter(r -> !r.windowEnd().isAfter(hour(SHIFT_HOUR))).count();
    long falseAlarms = results.stream().filter(r -> !r.windowEnd().isAfter(hour(SHIFT_HOUR)) && r.drifted()).count();
    double rate = (double) falseAlarms / unshifted;
    MonitorResult firstAfter = results.stream().filter(r -> r.windowEnd().equals(hour(SHIFT_HOUR + 1))).findFirst()
        .orElseThrow();
    System.out.printf("false alarms: %d of %d undrifted windows (%.3f, alpha %.2f); first window after the shift:"
        + " p=%.4f%n", falseAlarms, unshifted, rate, ALPHA, firstAfter.pValue());
    assertThat(rate).isLessThanOrEqualTo(ALPHA + 3 * Math.sqrt(ALPHA * (1 - ALPHA) / unshifted));
    assertThat(firstAfter.drifted()).as("detected in the first window after the shift").isTrue();
    assertThat(results.stream().filter(r -> r.windowEnd().isAfter(hour(SHIFT_HOUR)))).allMatch(MonitorResult::drifted);

    // A restarted monitor checks the last hours again, and more: no cause is requested twice.
    try (MonitorRole monitor = new MonitorRole(fleet.config(), spec, dir.resolve("cache"), new SimpleMeterRegistry(),
        Clock.systemUTC())) {
      for (int hour = 125; hour <= 129; hour++) {
        monitor.checkAt(hour(hour));
      }
    }
    List<RetrainRequest> requests = retrainRequests();
    System.out.println("retraining requests: " + requests.stream().map(RetrainRequest::causeId).toList());
    assertThat(requests).extracting(RetrainRequest::causeId).doesNotHaveDuplicates()
        .contains("support-embedder:drift:" + hour(SHIFT_HOUR + 1), "support-embedder:cadence:1",
            "support-embedder:cadence:2");
    // One drift cause per drift episode: false alarms before the shift are episodes of their own.
    long driftCauses = requests.stream().filter(r -> r.cause().equals("drift")).count();
    long episodes = results.stream().filter(MonitorResult::drifted).map(MonitorResult::episodeStart).distinct().count();
    assertThat(driftCauses).isEqualTo(episodes);
    assertThat(requests).filteredOn(r -> r.cause().equals("drift") && r.windowEnd().equals(hour(SHIFT_HOUR + 1)))
        .singleElement().satisfies(r -> {
          assertThat(r.subset()).isEqualTo("support-chat");
          assertThat(r.metrics()).containsKeys("mmd2", "p_value", "alpha");
        });
  }

  static List<RetrainRequest> retrainRequests() {
    List<RetrainRequest> requests = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> reader = KafkaClients.committedReader(fleet.config(), "monitor-it")) {
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
