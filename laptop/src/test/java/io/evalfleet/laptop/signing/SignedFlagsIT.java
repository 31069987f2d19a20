package io.evalfleet.laptop.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.signing.FlagKeys;
import io.evalfleet.common.signing.FlagSigner;
import io.evalfleet.common.signing.FlagVerifier;
import io.evalfleet.common.signing.SignedFlag;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.GoldenSubsetWriter.Pair;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed flags end to end on a real broker with the real MiniLM model: a key pair made by {@code
 * evalfleet keys generate}, the fleet signing with it, genuine flags verified by {@code watch}, a
 * plain consumer and the Python recipe, and a forged GREEN and an altered copy of a genuine flag
 * (written by a plain producer, as another principal could) rejected by all three; {@code baseline
 * promote} refuses a version whose archived signed flag is altered or missing and promotes it once
 * restored. The command line runs as users run it: the laptop jar in its own process.
 */
class SignedFlagsIT {
  static final Duration WAIT = Duration.ofMinutes(3);
  static final Path JAR = Path.of("target", "evalfleet-laptop.jar").toAbsolutePath();
  static final String PYTHON = "/usr/bin/python3";

  @TempDir Path dir;

  record Ran(int exit, String out, String err) {}

  Ran evalfleet(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(JAR.toString());
    command.addAll(List.of(args));
    return run(command);
  }

  Ran run(List<String> command) throws Exception {
    Path err = Files.createTempFile(dir, "stderr-", ".txt");
    Process process =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(3, TimeUnit.MINUTES)).as("%s finished", command).isTrue();
    return new Ran(process.exitValue(), out, Files.readString(err));
  }

  @Test
  void onlyGenuineSignedFlagsAreShownAndPromoted() throws Exception {
    Path key = dir.resolve("flags.key");
    Path pub = dir.resolve("flags.pub.pem");
    Ran generated =
        evalfleet("keys", "generate", "--private-key", key.toString(), "--public-key", "" + pub);
    assertThat(generated.exit()).as(generated.err()).isZero();
    String keyId = FlagKeys.keyId(FlagKeys.readPublicKey(pub));
    assertThat(generated.out()).contains("key id " + keyId);
    assertThat(Files.getPosixFilePermissions(key))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    DemoAssets.ModelFiles fp32 = new DemoAssets(dir).model(DemoAssets.Model.MINILM_FP32);
    SubsetRef subset = subset();
    String archiveRoot = dir.resolve("archive").toUri().toString();
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.ARCHIVE_ROOT.key(),
                    archiveRoot,
                    FleetConfig.INTRA_OP_THREADS.key(),
                    "1",
                    FleetConfig.SHARD_ROWS.key(),
                    "4",
                    FleetConfig.FLAG_SIGNING_KEY.key(),
                    key.toString()));
    try (LocalFleet fleet = LocalFleet.start(config, 1, dir.resolve("cache"))) {
      String bootstrap = fleet.config().get(FleetConfig.BOOTSTRAP_SERVERS);
      FleetConfig verifying =
          fleet.config().with(Map.of(FleetConfig.FLAG_PUBLIC_KEYS.key(), pub.toString()));
      DriftFlag v1;
      DriftFlag v2;
      try (Submitter submitter = new Submitter(fleet.config());
          FlagWatcher watcher = new FlagWatcher(verifying, true)) {
        assertThat(watcher.verifying()).isTrue();
        StagedWeightEvent first = event("m", "v1", fp32, subset);
        submitter.submit(first);
        v1 = watcher.await(first.eventId(), WAIT);
        StagedWeightEvent second = event("m", "v2", fp32, subset);
        submitter.submit(second);
        v2 = watcher.await(second.eventId(), WAIT);
      }
      assertThat(v1.flag()).isEqualTo(Flag.WARN);
      assertThat(v2.flag()).as("the same weights again: %s", v2.reasons()).isEqualTo(Flag.GREEN);
      assertThat(v2.signingKeyId()).isEqualTo(keyId);

      // The headers reach the topic: a plain consumer reads them and the verifier accepts them.
      FlagVerifier verifier = new FlagVerifier(FlagKeys.readPublicKeys(pub.toString()));
      List<ConsumerRecord<String, byte[]>> records = readFlags(fleet.config(), 2);
      assertThat(records).hasSize(2);
      for (ConsumerRecord<String, byte[]> record : records) {
        assertThat(record.headers().lastHeader(FlagSigner.KEY_HEADER).value())
            .asString(StandardCharsets.US_ASCII)
            .isEqualTo(keyId);
        assertThat(verifier.verify(record.value(), record.headers()))
            .isEqualTo(new FlagVerifier.Verified(keyId));
      }
      ConsumerRecord<String, byte[]> genuineV1 =
          records.stream()
              .filter(r -> Json.read(r.value(), DriftFlag.class).version().equals("v1"))
              .findFirst()
              .orElseThrow();

      // Another principal writes the flags topic: a forged GREEN, unsigned, and the genuine v1
      // turned GREEN with its headers kept.
      DriftFlag forged =
          v2.toBuilder().eventId("forged-" + UUID.randomUUID()).version("v3").build();
      byte[] altered =
          new String(genuineV1.value(), StandardCharsets.UTF_8)
              .replace("\"flag\":\"WARN\"", "\"flag\":\"GREEN\"")
              .getBytes(StandardCharsets.UTF_8);
      assertThat(altered).isNotEqualTo(genuineV1.value());
      try (KafkaProducer<String, byte[]> producer =
          KafkaClients.producer(fleet.config(), "another-principal")) {
        producer.send(new ProducerRecord<>(Topics.DRIFT_FLAGS, "m", Json.write(forged))).get();
        producer
            .send(new ProducerRecord<>(Topics.DRIFT_FLAGS, null, "m", altered, genuineV1.headers()))
            .get();
      }

      // watch: the genuine flags are verdicts, the other two REJECTED lines, and it exits 1.
      Ran watch =
          evalfleet(
              "watch",
              "-b",
              bootstrap,
              "--from-beginning",
              "--no-progress",
              "--for",
              "PT12S",
              "-D",
              "flags.public-keys=" + pub);
      assertThat(watch.exit()).as("watch's exit status; stderr:%n%s", watch.err()).isEqualTo(1);
      assertThat(watch.out())
          .contains("== m v1 ", "WARN ==", "== m v2 ", "GREEN ==", "signed by key " + keyId)
          .contains(
              "REJECTED flag for model m version v3 (event "
                  + forged.eventId()
                  + ", claims GREEN): unsigned",
              "REJECTED flag for model m version v1 (event "
                  + v1.eventId()
                  + ", claims GREEN): bad_signature")
          .doesNotContain("== m v3");
      Ran json =
          evalfleet(
              "watch",
              "-b",
              bootstrap,
              "--from-beginning",
              "--no-progress",
              "--for",
              "PT12S",
              "--json",
              "-D",
              "flags.public-keys=" + pub);
      List<JsonNode> lines = new ArrayList<>();
      for (String line : json.out().strip().split("\n")) {
        lines.add(Json.mapper().readTree(line));
      }
      assertThat(lines)
          .extracting(
              l ->
                  l.path("version").asText()
                      + " "
                      + l.path("flag").asText()
                      + " "
                      + l.path("verification").path("status").asText()
                      + " "
                      + l.path("verification").path("reason").asText(""))
          .containsExactly(
              "v1 WARN verified ",
              "v2 GREEN verified ",
              "v3 GREEN rejected unsigned",
              "v1 GREEN rejected bad_signature");

      // A wait that only sees a forged flag does not end as if its verdict came.
      try (FlagWatcher watcher = new FlagWatcher(verifying, true)) {
        assertThatThrownBy(() -> watcher.await(forged.eventId(), Duration.ofSeconds(8)))
            .isInstanceOf(TimeoutException.class)
            .hasMessageContaining("no verified drift flag for event " + forged.eventId())
            .hasMessageContaining("unsigned");
        assertThat(watcher.seen()).doesNotContainKey(forged.eventId());
      }

      // The Python recipe on the same topic.
      if (pythonHas("confluent_kafka") && pythonHas("cryptography")) {
        Ran python =
            run(
                List.of(
                    PYTHON,
                    Path.of("..", "docs", "examples", "verify_flag.py").toAbsolutePath().toString(),
                    "--public-keys",
                    pub.toString(),
                    "--bootstrap-servers",
                    bootstrap,
                    "--timeout",
                    "60"));
        assertThat(python.exit()).as("%s%s", python.out(), python.err()).isEqualTo(1);
        assertThat(python.out())
            .contains(
                "VERIFIED key=" + keyId + " model=m version=v1 flag=WARN",
                "VERIFIED key=" + keyId + " model=m version=v2 flag=GREEN",
                "REJECTED model=m version=v3 event=" + forged.eventId() + " claims=GREEN: unsigned",
                "REJECTED model=m version=v1 event="
                    + v1.eventId()
                    + " claims=GREEN: bad signature");
      } else {
        System.out.println(
            "python3-confluent-kafka or python3-cryptography missing: recipe not run");
      }

      // baseline promote verifies the version's archived signed flag.
      EvaluationArchive archive = new EvaluationArchive(Storage.of(config), archiveRoot);
      SignedFlag archived = archive.signedFlag("m", "v2").orElseThrow();
      String[] promote = {
        "baseline",
        "promote",
        "-b",
        bootstrap,
        "--model",
        "m",
        "--version",
        "v2",
        "-D",
        "archive.root=" + archiveRoot,
        "-D",
        "flags.public-keys=" + pub
      };
      byte[] tampered =
          new String(archived.value(), StandardCharsets.UTF_8)
              .replace(v2.runId(), v1.runId())
              .getBytes(StandardCharsets.UTF_8);
      archive.writeSignedFlag(
          "m", "v2", new SignedFlag(tampered, archived.keyId(), archived.signature()));
      Ran refusedAltered = evalfleet(promote);
      assertThat(refusedAltered.exit()).as(refusedAltered.err()).isEqualTo(1);
      assertThat(refusedAltered.err()).contains("is not trusted (bad_signature)");

      Files.delete(Path.of(archive.signedFlagPath("m", "v2").toUri()));
      Ran refusedMissing = evalfleet(promote);
      assertThat(refusedMissing.exit()).as(refusedMissing.err()).isEqualTo(1);
      assertThat(refusedMissing.err()).contains("has no signed flag");

      archive.writeSignedFlag("m", "v2", archived);
      Ran promoted = evalfleet(promote);
      assertThat(promoted.exit()).as(promoted.err()).isZero();
      assertThat(promoted.out()).contains("promoted: model m version v2 is now the production");
    }
  }

  static List<ConsumerRecord<String, byte[]>> readFlags(FleetConfig config, int count) {
    List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(config, "signed-flags-it")) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(Topics.DRIFT_FLAGS, Duration.ofSeconds(30)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  static boolean pythonHas(String module) throws Exception {
    if (!Files.isExecutable(Path.of(PYTHON))) {
      return false;
    }
    Process process =
        new ProcessBuilder(PYTHON, "-c", "import " + module).redirectErrorStream(true).start();
    process.getInputStream().readAllBytes();
    return process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0;
  }

  SubsetRef subset() throws Exception {
    String[][] texts = {
      {"A dog runs in the park.", "A dog is running on the grass."},
      {"The train was late again.", "Bananas are rich in potassium."},
      {"She is reading a book.", "A woman reads a novel."},
      {"The meeting is at noon.", "The meeting starts at 12 pm."},
      {"He plays the guitar.", "A man is playing a guitar."},
      {"A man is eating food.", "A man is eating a piece of bread."},
      {"It is snowing in the mountains.", "The stock price rose by five percent."},
      {"Kids are swimming in the lake.", "Children swim in a lake."},
      {"The laptop will not turn on.", "My computer does not start."},
      {"A chef is slicing onions.", "Someone is cutting vegetables."},
      {"The bridge was closed for repairs.", "A cat sleeps on the sofa."},
      {"Two men are playing chess.", "Two people play a board game."}
    };
    double[] gold = {4.0, 0.0, 3.8, 4.8, 4.2, 3.8, 0.0, 4.8, 4.0, 3.2, 0.2, 3.6};
    List<Pair> pairs = new ArrayList<>();
    for (int i = 0; i < texts.length; i++) {
      pairs.add(new Pair(i, texts[i][0], texts[i][1], gold[i]));
    }
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs, 1 << 20);
    return new SubsetRef(
        file.toUri().toString(),
        Storage.withDefaults().sha256(file.toUri().toString()),
        "it",
        Map.of());
  }

  static StagedWeightEvent event(
      String model, String version, DemoAssets.ModelFiles files, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version + "-" + UUID.randomUUID())
        .model(model)
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .createdAt(Instant.now())
        .build();
  }
}
