package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.LockDiff;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.GoldenSubsetWriter.Pair;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.PolicyFile;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole fleet on a real in-JVM KRaft broker with the real MiniLM models: staged events in,
 * drift flags out, exactly one per event.
 */
class FleetIT {
  static final Duration WAIT = Duration.ofMinutes(3);
  static final String KNOWN_A = "A man is eating food.";
  static final String KNOWN_B = "A man is eating a piece of bread.";
  static final int KNOWN_ROW = 5;

  @TempDir static Path dir;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static SubsetRef subset;
  static DemoAssets.ModelFiles fp32;
  static DemoAssets.ModelFiles int8;

  @BeforeAll
  static void startFleet() throws Exception {
    DemoAssets assets = new DemoAssets(dir);
    fp32 = assets.model(DemoAssets.Model.MINILM_FP32);
    int8 = assets.model(DemoAssets.Model.MINILM_INT8);
    List<Pair> pairs = new ArrayList<>();
    String[][] texts = {
      {"A dog runs in the park.", "A dog is running on the grass."},
      {"The train was late again.", "Bananas are rich in potassium."},
      {"She is reading a book.", "A woman reads a novel."},
      {"The meeting is at noon.", "The meeting starts at 12 pm."},
      {"He plays the guitar.", "A man is playing a guitar."},
      {KNOWN_A, KNOWN_B},
      {"It is snowing in the mountains.", "The stock price rose by five percent."},
      {"Kids are swimming in the lake.", "Children swim in a lake."},
      {"The laptop will not turn on.", "My computer does not start."},
      {"A chef is slicing onions.", "Someone is cutting vegetables."},
      {"The bridge was closed for repairs.", "A cat sleeps on the sofa."},
      {"Two men are playing chess.", "Two people play a board game."}
    };
    double[] gold = {4.0, 0.0, 3.8, 4.8, 4.2, 3.8, 0.0, 4.8, 4.0, 3.2, 0.2, 3.6};
    for (int i = 0; i < texts.length; i++) {
      pairs.add(new Pair(i, texts[i][0], texts[i][1], gold[i]));
    }
    Path file = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs, 1 << 20);
    subset =
        new SubsetRef(
            file.toUri().toString(),
            Storage.withDefaults().sha256(file.toUri().toString()),
            "it",
            Map.of());

    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.SHARD_ROWS.key(), "4",
                    FleetConfig.REUSE_SCORES.key(),
                        "false", // these tests follow every event through the workers
                    FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                    FleetConfig.INTRA_OP_THREADS.key(), "1",
                    FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(), "2"));
    fleet = LocalFleet.start(config, 2, dir.resolve("cache"));
    flags = new FlagWatcher(fleet.config(), true);
    submitter = new Submitter(fleet.config());
  }

  @AfterAll
  static void stopFleet() throws Exception {
    if (submitter != null) {
      submitter.close();
    }
    if (flags != null) {
      flags.close();
    }
    if (fleet != null) {
      fleet.close();
    }
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

  static DriftFlag stage(StagedWeightEvent event) throws Exception {
    submitter.submit(event);
    return flags.await(event.eventId(), WAIT);
  }

  @Test
  void firstVersionWarnsAndBecomesBaselineWithTheReferenceCosineOnTheKnownPair() throws Exception {
    DriftFlag flag = stage(event("first", "fp32", fp32, subset));
    assertThat(flag.flag()).isEqualTo(Flag.WARN);
    assertThat(flag.reasons()).anyMatch(r -> r.contains("no production baseline"));
    assertThat(flag.coverage().rowsScored()).isEqualTo(12);
    assertThat(flag.coverage().shardsTotal()).isEqualTo(3);
    assertThat(flag.executionProviders()).containsExactly("cpu");
    assertThat(flag.metrics().get(MetricNames.SPEARMAN).value()).isGreaterThan(0.6);

    // The per-pair cosine of the known pair, as a worker published it on the results topic. Under
    // the bundled policy rows go out in a seeded order: a result's rows are positions in it.
    RowOrder order = RowOrder.of(PolicyFile.defaults().seed(), subset.sha256(), 12);
    long position =
        LongStream.range(0, 12).filter(p -> order.row(p) == KNOWN_ROW).findFirst().orElseThrow();
    ShardResult shard =
        resultsOf(flag.runId()).stream()
            .filter(r -> r.rowStart() <= position && position < r.rowStart() + r.rowCount())
            .findFirst()
            .orElseThrow();
    double cosine = shard.values().get(MetricNames.COSINE)[(int) (position - shard.rowStart())];
    assertThat(cosine).isCloseTo(0.7553, within(5e-5));
  }

  @Test
  void sameWeightsAgainAreGreenAndTheDuplicateEventGetsNoSecondFlag() throws Exception {
    stage(event("self", "v1", fp32, subset));
    StagedWeightEvent again = event("self", "v1-retrained", fp32, subset);
    DriftFlag flag = stage(again);
    assertThat(flag.flag()).isEqualTo(Flag.GREEN);
    assertThat(flag.baselineVersion()).isEqualTo("v1");
    assertThat(flag.metrics().get(MetricNames.SPEARMAN).relativeDelta()).isZero();

    submitter.submit(again);
    DriftFlag marker = stage(event("self", "marker", fp32, subset));
    assertThat(marker.flag()).isEqualTo(Flag.GREEN);
    assertThat(flagsFor(again.eventId())).as("flags for the re-delivered event").hasSize(1);
  }

  @Test
  void quantisedCandidateIsComparedWithTheFp32Baseline() throws Exception {
    stage(event("quantised", "fp32", fp32, subset));
    DriftFlag flag = stage(event("quantised", "int8", int8, subset));
    assertThat(flag.flag()).isIn(Flag.GREEN, Flag.WARN, Flag.RED);
    assertThat(flag.baselineVersion()).isEqualTo("fp32");
    var spearman = flag.metrics().get(MetricNames.SPEARMAN);
    assertThat(spearman.baseline()).isNotNull();
    assertThat(spearman.relativeDelta())
        .isCloseTo((spearman.value() - spearman.baseline()) / spearman.baseline(), within(1e-12));
    assertThat(spearman.ciLow()).isLessThanOrEqualTo(spearman.relativeDelta());
    assertThat(spearman.ciHigh()).isGreaterThanOrEqualTo(spearman.relativeDelta());
    assertThat(spearman.evidence()).contains("paired bootstrap").contains("margin 2.00%");
    assertThat(flag.policyVersion()).isEqualTo("1");
    assertThat(flag.lockfile()).endsWith("/locks/quantised/int8.lock.json");
  }

  @Test
  void aChangeOfEmbeddingConventionsIsInTheFlagsEvidenceAndTheLockDiff() throws Exception {
    stage(event("conventions", "mean", fp32, subset));
    StagedWeightEvent mean = event("conventions", "mean", fp32, subset);
    StagedWeightEvent cls =
        StagedWeightEvent.builder()
            .eventId("conventions-cls-" + UUID.randomUUID())
            .model("conventions")
            .version("cls")
            .task(Task.EMBEDDING)
            .artifact(fp32.onnx())
            .tokenizer(fp32.tokenizer())
            .goldenSubset(subset)
            .createdAt(Instant.now())
            .embedding(EmbeddingConventions.DEFAULTS.withPooling(EmbeddingConventions.Pooling.CLS))
            .build();
    DriftFlag flag = stage(cls);
    assertThat(flag.flag()).isNotIn(Flag.ERROR, Flag.INCOMPLETE);
    assertThat(flag.reasons())
        .anyMatch(
            r ->
                r.contains("embedding conventions changed: baseline pooling mean")
                    && r.contains("candidate pooling cls"));
    EvaluationArchive archive =
        new EvaluationArchive(Storage.withDefaults(), dir.resolve("archive").toUri().toString());
    EvaluationLock before = archive.lock("conventions", mean.version()).orElseThrow();
    EvaluationLock after = archive.lock("conventions", "cls").orElseThrow();
    assertThat(after.embedding().pooling()).isEqualTo(EmbeddingConventions.Pooling.CLS);
    assertThat(new LockDiff(before, after).inputChanges())
        .anyMatch(
            c ->
                c.field().equals("embedding")
                    && c.before().contains("pooling mean")
                    && c.after().contains("pooling cls"));
  }

  @Test
  void badInputYieldsAnErrorFlagNamingTheCauseAndTheFleetKeepsServing() throws Exception {
    String malformedId = "malformed-" + UUID.randomUUID();
    submitter.submitRaw(
        "bad-model",
        ("{\"schema_version\": 1, \"event_id\": \""
                + malformedId
                + "\", \"model\": \"bad-model\","
                + " \"version\": \"x\", \"task\": \"embedding\"}")
            .getBytes(StandardCharsets.UTF_8));
    DriftFlag missingField = flags.await(malformedId, WAIT);
    assertThat(missingField.flag()).isEqualTo(Flag.ERROR);
    assertThat(missingField.reasons()).anyMatch(r -> r.contains("field 'artifact': is required"));

    String notJsonKey = "garbage-" + UUID.randomUUID();
    int before = flagsWithReason("malformed JSON").size();
    submitter.submitRaw(notJsonKey, "{not json".getBytes(StandardCharsets.UTF_8));

    StagedWeightEvent missingFile =
        event(
            "bad",
            "missing",
            new DemoAssets.ModelFiles(
                new ArtifactRef(dir.resolve("absent.onnx").toUri().toString(), "a".repeat(64)),
                fp32.tokenizer()),
            subset);
    assertThat(stage(missingFile).reasons())
        .anyMatch(r -> r.contains("no such file") && r.contains("absent.onnx"));

    StagedWeightEvent wrongDigest =
        event(
            "bad",
            "digest",
            new DemoAssets.ModelFiles(
                new ArtifactRef(fp32.onnx().uri(), "0".repeat(64)), fp32.tokenizer()),
            subset);
    DriftFlag digestFlag = stage(wrongDigest);
    assertThat(digestFlag.flag()).isEqualTo(Flag.ERROR);
    assertThat(digestFlag.reasons()).anyMatch(r -> r.contains("sha256 mismatch"));

    SubsetRef wrongColumn =
        new SubsetRef(subset.uri(), subset.sha256(), "it", Map.of("text_b", "sentence2"));
    DriftFlag columnFlag = stage(event("bad", "column", fp32, wrongColumn));
    assertThat(columnFlag.flag()).isEqualTo(Flag.ERROR);
    assertThat(columnFlag.reasons()).anyMatch(r -> r.contains("no column 'sentence2' (text_b)"));

    assertThat(flagsWithReason("malformed JSON"))
        .as("the non-JSON record got its ERROR flag")
        .hasSize(before + 1);
    var deadLetter =
        readAll(Topics.DLQ).stream()
            .filter(r -> notJsonKey.equals(r.key()))
            .findFirst()
            .orElseThrow();
    assertThat(new String(deadLetter.value(), StandardCharsets.UTF_8)).isEqualTo("{not json");
    assertThat(header(deadLetter, DeadLetters.ORIGINAL_TOPIC)).isEqualTo(Topics.STAGED);
    assertThat(header(deadLetter, DeadLetters.ERROR_MESSAGE)).contains("malformed JSON");
    assertThat(readAll(Topics.DLQ))
        .as("the tampered event is dead-lettered too")
        .anyMatch(r -> header(r, DeadLetters.ERROR_MESSAGE).contains("sha256 mismatch"));
    assertThat(stage(event("after-bad", "fp32", fp32, subset)).flag()).isEqualTo(Flag.WARN);
  }

  @Test
  void causalLmFineTunedOnOtherTextGoesRedWithTheReferencePerplexities() throws Exception {
    DemoAssets assets = new DemoAssets(dir);
    SubsetRef heldout = assets.heldoutText();
    DriftFlag base =
        stage(
            causalEvent(
                "lm", "base", assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE), heldout));
    assertThat(base.flag()).isEqualTo(Flag.WARN);
    // Held-out perplexities computed in torch (float64) by scripts/make_causal_lm_fixtures.py.
    assertThat(base.metrics().get(MetricNames.PERPLEXITY).value())
        .isCloseTo(9.916433, within(1e-5));
    DriftFlag tuned =
        stage(
            causalEvent(
                "lm",
                "tuned",
                assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED),
                heldout));
    assertThat(tuned.flag()).isEqualTo(Flag.RED);
    assertThat(tuned.metrics().get(MetricNames.PERPLEXITY).value())
        .isCloseTo(386.2976, within(1e-3));
    assertThat(tuned.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.RED);
    assertThat(tuned.metrics().get(MetricNames.BITS_PER_BYTE).baseline())
        .isCloseTo(3.278299, within(1e-5));
    // A fine-tune is a retrain, as the fleet assumes when the event names no kind: its token shift
    // would decide nothing under the default policy, so its jobs ran it alone.
    assertThat(tuned.changeKind()).isEqualTo(ChangeKind.RETRAIN);
    assertThat(tuned.metrics()).doesNotContainKey(MetricNames.KL_MEAN);
    assertThat(tuned.reasons())
        .anyMatch(r -> r.startsWith("token shift not measured: for change kind retrain"));
    // The same model declared a quantization: its token shift against its base, measured on the
    // same
    // windows in one paired job per shard, gates.
    DriftFlag quantized =
        stage(
            causalEvent(
                    "lm",
                    "tuned-as-quantization",
                    assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED),
                    heldout)
                .toBuilder()
                .changeKind(ChangeKind.QUANTIZATION)
                .build());
    assertThat(base.metrics()).doesNotContainKey(MetricNames.KL_MEAN);
    for (String metric :
        List.of(MetricNames.KL_MEAN, MetricNames.KL_P99, MetricNames.TOP1_AGREEMENT)) {
      assertThat(quantized.metrics().get(metric).status()).as(metric).isEqualTo(Flag.RED);
      assertThat(quantized.metrics().get(metric).gating()).as(metric).isTrue();
      assertThat(quantized.metrics().get(metric).limit()).as(metric).isNotNull();
    }
    assertThat(quantized.metrics().get(MetricNames.KL_MEAN).value()).isGreaterThan(1.0);
    assertThat(quantized.metrics().get(MetricNames.TOP1_AGREEMENT).value()).isLessThan(0.5);
    assertThat(quantized.reasons())
        .anyMatch(r -> r.startsWith("kl_mean RED: ") && r.contains("against a limit of at most"));
    // The base model exported again: no shift at all, and GREEN.
    DriftFlag again =
        stage(
            causalEvent(
                    "lm",
                    "base-again",
                    assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE),
                    heldout)
                .toBuilder()
                .changeKind(ChangeKind.EXPORT)
                .build());
    assertThat(again.flag()).as(String.join("\n", again.reasons())).isEqualTo(Flag.GREEN);
    assertThat(again.metrics().get(MetricNames.KL_MEAN).value()).isCloseTo(0, within(1e-6));
    assertThat(again.metrics().get(MetricNames.KL_P99).value()).isCloseTo(0, within(1e-6));
    assertThat(again.metrics().get(MetricNames.TOP1_AGREEMENT).value()).isEqualTo(1.0);

    // (An event without max_seq_len is refused by the contract itself: BadInputMatrixIT.)
    StagedWeightEvent notAnLm = causalEvent("lm", "minilm", fp32, heldout);
    assertThat(stage(notAnLm).reasons()).anyMatch(r -> r.contains("has no 'logits' output"));
  }

  static StagedWeightEvent causalEvent(
      String model, String version, DemoAssets.ModelFiles files, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version + "-" + UUID.randomUUID())
        .model(model)
        .version(version)
        .task(Task.CAUSAL_LM)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .maxSeqLen(128)
        .stride(64)
        .createdAt(Instant.now())
        .build();
  }

  static String header(ConsumerRecord<String, byte[]> record, String key) {
    return new String(record.headers().lastHeader(key).value(), StandardCharsets.UTF_8);
  }

  private static List<DriftFlag> flagsFor(String eventId) {
    return allFlags().stream().filter(f -> eventId.equals(f.eventId())).toList();
  }

  private static List<DriftFlag> flagsWithReason(String words) {
    return allFlags().stream()
        .filter(f -> f.reasons().stream().anyMatch(r -> r.contains(words)))
        .toList();
  }

  private static List<DriftFlag> allFlags() {
    List<DriftFlag> all = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : readAll(Topics.DRIFT_FLAGS)) {
      all.add(Json.read(record.value(), DriftFlag.class));
    }
    return all;
  }

  private static List<ShardResult> resultsOf(String runId) {
    return readAll(Topics.RESULTS).stream()
        .map(r -> Json.read(r.value(), ShardResult.class))
        .filter(r -> r.runId().equals(runId))
        .toList();
  }

  /** Every record on {@code topic} right now. */
  private static List<ConsumerRecord<String, byte[]>> readAll(String topic) {
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.reader(fleet.config(), "it-reader")) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))
          && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
      return records;
    }
  }
}
