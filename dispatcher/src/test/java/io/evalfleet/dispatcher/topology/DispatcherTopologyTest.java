package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import io.evalfleet.dispatcher.decision.PolicyFile;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dispatcher's topology without a broker: the test plays the workers (it answers the jobs the
 * topology publishes) and advances wall-clock time for flow control, timeouts and deadlines.
 */
class DispatcherTopologyTest {
  static final int ROWS = 60;

  @TempDir Path dir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> staged;
  TestInputTopic<String, byte[]> results;
  TestInputTopic<String, byte[]> baselinesIn;
  TestOutputTopic<String, byte[]> jobs;
  TestOutputTopic<String, byte[]> flags;
  TestOutputTopic<String, byte[]> baselinesOut;
  TestOutputTopic<String, byte[]> deadLetters;
  SubsetRef subset;
  EvaluationArchive archive;
  SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void start() throws Exception {
    Path subsetFile = dir.resolve("golden.parquet");
    Random random = new Random(7);
    List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      pairs.add(new GoldenSubsetWriter.Pair(i, "a" + i, "b" + i, random.nextDouble() * 5));
    }
    GoldenSubsetWriter.writePairs(
        new org.apache.hadoop.fs.Path(subsetFile.toUri()), pairs, 1 << 20);
    subset =
        new SubsetRef(
            subsetFile.toUri().toString(),
            Storage.withDefaults().sha256(subsetFile.toUri().toString()),
            "v1",
            Map.of());
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.SHARD_ROWS.key(),
                    "10",
                    FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(),
                    "4",
                    FleetConfig.MAX_IN_FLIGHT.key(),
                    "6",
                    FleetConfig.JOB_TIMEOUT.key(),
                    "PT30S",
                    FleetConfig.RUN_DEADLINE.key(),
                    "PT10M",
                    FleetConfig.ARCHIVE_ROOT.key(),
                    dir.resolve("archive").toUri().toString()))
            .with(moreSettings());
    Storage storage = Storage.of(config);
    archive = new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT));
    Dispatching dispatching =
        new Dispatching(
            config,
            new Preflight(storage),
            archive,
            PolicyFile.defaults(),
            registry,
            Runnable::run,
            Duration.ofSeconds(1));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dispatcher-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("state").toString());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    driver =
        new TopologyTestDriver(
            DispatcherTopology.build(dispatching, props),
            props,
            Instant.parse("2026-01-01T00:00:00Z"));
    var keys = Serdes.String();
    var bytes = Serdes.ByteArray();
    staged = driver.createInputTopic(Topics.STAGED, keys.serializer(), bytes.serializer());
    results = driver.createInputTopic(Topics.RESULTS, keys.serializer(), bytes.serializer());
    baselinesIn = driver.createInputTopic(Topics.BASELINES, keys.serializer(), bytes.serializer());
    jobs = driver.createOutputTopic(Topics.JOBS, keys.deserializer(), bytes.deserializer());
    flags = driver.createOutputTopic(Topics.DRIFT_FLAGS, keys.deserializer(), bytes.deserializer());
    baselinesOut =
        driver.createOutputTopic(Topics.BASELINES, keys.deserializer(), bytes.deserializer());
    deadLetters = driver.createOutputTopic(Topics.DLQ, keys.deserializer(), bytes.deserializer());
  }

  /** Settings a variant of these tests adds (e.g. a flag signing key). */
  Map<String, String> moreSettings() throws Exception {
    return Map.of();
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  StagedWeightEvent event(String model, String version) throws Exception {
    Path artifact = dir.resolve(model + "-" + version + ".onnx");
    Files.writeString(artifact, "weights of " + model + " " + version);
    String uri = artifact.toUri().toString();
    Path tokenizer = dir.resolve("tokenizer.json");
    Files.writeString(tokenizer, "{}");
    String tokenizerUri = tokenizer.toUri().toString();
    return StagedWeightEvent.builder()
        .eventId("ev-" + model + "-" + version)
        .model(model)
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(new ArtifactRef(uri, Storage.withDefaults().sha256(uri)))
        .tokenizer(new ArtifactRef(tokenizerUri, Storage.withDefaults().sha256(tokenizerUri)))
        .goldenSubset(subset)
        .commit("commit-" + version)
        .createdAt(Instant.parse("2026-01-01T00:00:00Z"))
        .build();
  }

  void stage(StagedWeightEvent event) {
    staged.pipeInput(event.model(), Json.write(event));
  }

  List<ScoringJob> publishedJobs() {
    return jobs.readValuesToList().stream().map(v -> Json.read(v, ScoringJob.class)).toList();
  }

  /** The worker's answer: each row's cosine is {@code score(row)}. */
  void answer(ScoringJob job, DoubleUnaryOperator score) {
    double[] cosine = new double[job.rowCount()];
    double[] gold = new double[job.rowCount()];
    for (int i = 0; i < cosine.length; i++) {
      cosine[i] = score.applyAsDouble(job.rowStart() + i);
      gold[i] = job.rowStart() + i;
    }
    Map<String, double[]> values = new HashMap<>();
    values.put("cosine", cosine);
    values.put("gold", gold); // the subset's gold scores, which the worker returns with the cosines
    results.pipeInput(
        job.model(),
        Json.write(
            ShardResult.answering(job)
                .values(values)
                .workerId("w1")
                .executionProvider("cpu")
                .durationMs(5)
                .attempt(job.attempt())
                .build()));
  }

  /** Answers every job of {@code version} as it is published, until none is left. */
  void scoreAll(String version, DoubleUnaryOperator score, List<ScoringJob> held) {
    List<ScoringJob> pending = new ArrayList<>(publishedJobs());
    while (!pending.isEmpty()) {
      ScoringJob job = pending.remove(0);
      if (!job.version().equals(version)) {
        held.add(job);
        continue;
      }
      answer(job, score);
      pending.addAll(publishedJobs());
    }
  }

  List<DriftFlag> publishedFlags() {
    return flags.readValuesToList().stream().map(v -> Json.read(v, DriftFlag.class)).toList();
  }

  @Test
  void aModelsFirstVersionIsScoredInBoundedJobsFlaggedOnceAndPinned() throws Exception {
    stage(event("m", "v1"));
    List<ScoringJob> first = publishedJobs();
    assertThat(first).as("at most 4 jobs of one run in flight").hasSize(4);
    assertThat(first).extracting(ScoringJob::rowCount).containsOnly(10);
    first.forEach(job -> answer(job, row -> 0.9));
    scoreAll("v1", row -> 0.9, new ArrayList<>());

    List<DriftFlag> decided = publishedFlags();
    assertThat(decided)
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.WARN);
              assertThat(flag.coverage().rowsScored()).isEqualTo(ROWS);
              assertThat(flag.lockfile()).isNotNull();
            });
    BaselineRecord pinned = Json.read(baselinesOut.readValue(), BaselineRecord.class);
    assertThat(pinned.version()).isEqualTo("v1");
    assertThat(archive.readScores(pinned.scores()).get("cosine")).hasSize(ROWS).containsOnly(0.9);

    stage(event("m", "v1")); // the same event again
    assertThat(publishedJobs()).isEmpty();
    assertThat(publishedFlags()).isEmpty();
  }

  @Test
  void progressIsPublishedWhenARunIsPlannedAtMostOnceASecondAndWhenItsLastShardIsIn()
      throws Exception {
    var progress =
        driver.createOutputTopic(
            Topics.RUN_PROGRESS, Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
    stage(event("p", "v1"));
    List<ScoringJob> first = publishedJobs();
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    List<RunProgress> planned =
        progress.readValuesToList().stream().map(v -> Json.read(v, RunProgress.class)).toList();
    assertThat(planned)
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.shardsDone()).isZero();
              assertThat(p.shardsTotal()).isEqualTo(ROWS / 10);
              assertThat(p.rowsTotal()).isEqualTo(ROWS);
            });
    answer(first.get(0), row -> 0.9);
    answer(first.get(1), row -> 0.9);
    assertThat(progress.readValuesToList()).as("nothing before the next second").isEmpty();
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    List<RunProgress> moved =
        progress.readValuesToList().stream().map(v -> Json.read(v, RunProgress.class)).toList();
    assertThat(moved)
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.shardsDone()).isEqualTo(2);
              assertThat(p.rowsScored()).isEqualTo(20);
              assertThat(p.rowsPerSecond())
                  .isEqualTo(10.0); // 20 rows in the 2 s since the run was planned
            });
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertThat(progress.readValuesToList()).as("nothing when nothing moved").isEmpty();
    first.subList(2, first.size()).forEach(job -> answer(job, row -> 0.9));
    scoreAll("v1", row -> 0.9, new ArrayList<>());
    List<RunProgress> last =
        progress.readValuesToList().stream().map(v -> Json.read(v, RunProgress.class)).toList();
    assertThat(last)
        .last()
        .satisfies(
            p -> {
              assertThat(p.complete()).isTrue();
              assertThat(p.rowsScored()).isEqualTo(ROWS);
            });
    assertThat(publishedFlags()).hasSize(1);
  }

  @Test
  void aRejectedEventsErrorFlagCarriesTheReviewItNamed() {
    staged.pipeInput(
        "m",
        ("{\"schema_version\": 1, \"event_id\": \"bad-1\", \"model\": \"m\", \"version\": \"v9\","
                + " \"task\": \"embedding\", \"review\": {\"provider\": \"github\", \"repository\": \"acme/models\","
                + " \"pull_request\": 5}}")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(publishedFlags())
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.ERROR);
              assertThat(flag.reasons().get(0)).contains("artifact");
              assertThat(flag.review())
                  .isEqualTo(
                      new io.evalfleet.common.contract.ReviewRef(
                          io.evalfleet.common.contract.ReviewRef.Provider.GITHUB,
                          "acme/models",
                          5,
                          null));
            });
  }

  @Test
  void versionsStagedTogetherGetTheSameVerdictsWhateverOrderTheyFinishIn() throws Exception {
    assertThat(verdicts(true)).isEqualTo(verdicts(false));
  }

  /** Stages v0 then v1 of a new model (v1 scores worse) and finishes v1 first or last. */
  private Map<String, String> verdicts(boolean candidateFirst) throws Exception {
    String model = candidateFirst ? "early" : "late";
    stage(event(model, "v0"));
    stage(event(model, "v1"));
    // The gold score is the row's index: v0 ranks the rows as gold does, v1 shuffles them.
    DoubleUnaryOperator good = row -> row / (double) ROWS;
    DoubleUnaryOperator worse = row -> ((row * 37) % ROWS) / (double) ROWS;
    List<ScoringJob> held = new ArrayList<>();
    if (candidateFirst) {
      scoreAll("v1", worse, held);
      assertThat(publishedFlags()).as("v1 waits for v0, its baseline").isEmpty();
      held.forEach(job -> answer(job, good));
      scoreAll("v0", good, held);
    } else {
      scoreAll("v0", good, held);
      held.stream().filter(job -> job.version().equals("v1")).forEach(job -> answer(job, worse));
      scoreAll("v1", worse, new ArrayList<>());
    }
    Map<String, String> outcome = new java.util.TreeMap<>();
    for (DriftFlag flag : publishedFlags()) {
      outcome.put(flag.version(), flag.flag() + " against " + flag.baselineVersion());
    }
    assertThat(outcome)
        .containsEntry("v0", "WARN against null")
        .containsEntry("v1", "RED against v0");
    return outcome;
  }

  @Test
  void unansweredJobsAreSentAgainThenTheDeadlineEndsTheRunIncomplete() throws Exception {
    stage(event("m", "slow"));
    List<ScoringJob> sent = publishedJobs();
    assertThat(sent).hasSize(4).allSatisfy(job -> assertThat(job.attempt()).isEqualTo(1));
    driver.advanceWallClockTime(Duration.ofSeconds(31));
    assertThat(publishedJobs())
        .hasSize(4)
        .allSatisfy(job -> assertThat(job.attempt()).isEqualTo(2));
    driver.advanceWallClockTime(Duration.ofSeconds(31));
    assertThat(publishedJobs()).allSatisfy(job -> assertThat(job.attempt()).isEqualTo(3));
    driver.advanceWallClockTime(Duration.ofSeconds(31));
    assertThat(publishedJobs()).as("three attempts at most").isEmpty();
    driver.advanceWallClockTime(Duration.ofMinutes(10));
    assertThat(publishedFlags())
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.INCOMPLETE);
              assertThat(flag.reasons().get(0))
                  .contains("0 of 6 shards")
                  .contains("got no result in 3 attempts");
            });
  }

  @Test
  void aFailedFirstVersionHandsTheBaselineToTheNextOneStaged() throws Exception {
    stage(event("m", "broken"));
    stage(event("m", "v2"));
    List<ScoringJob> held = new ArrayList<>();
    scoreAll("v2", row -> 0.8, held);
    assertThat(publishedFlags()).isEmpty();
    ScoringJob broken =
        held.stream().filter(job -> job.version().equals("broken")).findFirst().orElseThrow();
    results.pipeInput(
        "m",
        Json.write(
            ShardResult.answering(broken)
                .values(Map.of())
                .workerId("w1")
                .executionProvider("cpu")
                .durationMs(5)
                .attempt(1)
                .error(
                    new io.evalfleet.common.contract.ShardError(
                        io.evalfleet.common.failure.FailureKind.BAD_INPUT, "cannot load"))
                .build()));
    List<DriftFlag> decided = publishedFlags();
    assertThat(decided).extracting(DriftFlag::version).containsExactly("broken", "v2");
    assertThat(decided.get(0).flag()).isEqualTo(Flag.ERROR);
    assertThat(decided.get(0).reasons().get(0))
        .contains("shard " + broken.shardIndex())
        .contains("cannot load");
    assertThat(decided.get(1).flag()).isEqualTo(Flag.WARN);
    assertThat(Json.read(baselinesOut.readValue(), BaselineRecord.class).version()).isEqualTo("v2");
  }

  @Test
  void eventsKeyedByAnythingOrNothingReachTheirModelsTaskAndAreEvaluatedOnceEach()
      throws Exception {
    StagedWeightEvent wrongKey = event("keyed", "v1");
    StagedWeightEvent noKey = event("unkeyed", "v1");
    staged.pipeInput("some-other-key", Json.write(wrongKey));
    staged.pipeInput((String) null, Json.write(noKey));
    List<ScoringJob> jobs = publishedJobs();
    assertThat(jobs)
        .extracting(ScoringJob::model)
        .containsOnly("keyed", "unkeyed")
        .contains("keyed", "unkeyed");
    List<ScoringJob> pending = new ArrayList<>(jobs);
    while (!pending.isEmpty()) {
      answer(pending.remove(0), row -> 0.5);
      pending.addAll(publishedJobs());
    }
    assertThat(publishedFlags())
        .extracting(DriftFlag::eventId)
        .containsExactlyInAnyOrder(wrongKey.eventId(), noKey.eventId());
  }

  @Test
  void aBaselineRecordKeyedOtherwiseStillBecomesItsModelsBaseline() throws Exception {
    StagedWeightEvent first = event("pinned", "v1");
    stage(first);
    scoreAll("v1", row -> 0.5, new ArrayList<>());
    BaselineRecord pinned = Json.read(baselinesOut.readValue(), BaselineRecord.class);
    assertThat(pinned.version()).isEqualTo("v1");
    // Version v1's scores pinned under the name v2, as another client might write it: keyed by
    // something else.
    String renamed =
        new String(Json.write(pinned), java.nio.charset.StandardCharsets.UTF_8)
            .replace("\"version\":\"v1\"", "\"version\":\"v2\"");
    assertThat(renamed).contains("\"version\":\"v2\"");
    baselinesIn.pipeInput(
        "not-the-model", renamed.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    StagedWeightEvent third = event("pinned", "v3");
    stage(third);
    scoreAll("v3", row -> 0.5, new ArrayList<>());
    assertThat(publishedFlags())
        .filteredOn(flag -> flag.eventId().equals(third.eventId()))
        .singleElement()
        .satisfies(flag -> assertThat(flag.baselineVersion()).isEqualTo("v2"));
  }

  @Test
  void aResultForARunNoTaskHoldsIsCountedNotSilentlyDropped() {
    results.pipeInput(
        "ghost",
        Json.write(
            ShardResult.builder()
                .jobId("run-ghost/0")
                .runId("run-ghost")
                .shardIndex(0)
                .rowStart(0)
                .rowCount(1)
                .values(Map.of("cosine", new double[] {0.5}))
                .workerId("w1")
                .executionProvider("cpu")
                .durationMs(5)
                .attempt(1)
                .build()));
    assertThat(registry.find("evalfleet.results.unknown.run").counter().count()).isEqualTo(1.0);
    assertThat(publishedFlags()).isEmpty();
  }

  @Test
  void aTokenizerBeyondTheModelsVocabularyIsRefusedBeforeAnyJobNamingBothSizes() throws Exception {
    // The byte-level GPT's graph fixes 256 token ids (its embedding table and its logits); this
    // tokenizer's ids reach 999, as a BERT tokenizer's reach 30521.
    Path model = dir.resolve("bytegpt.onnx");
    Files.copy(Path.of("..", "fixtures", "causal-lm", "bytegpt-base.onnx"), model);
    Path tokenizer = dir.resolve("wide-tokenizer.json");
    Files.writeString(
        tokenizer,
        "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {\"[UNK]\": 0, \"fox\": 1}},"
            + " \"added_tokens\": [{\"id\": 999, \"content\": \"[SEP]\"}]}");
    StagedWeightEvent fitting = event("m", "v1");
    StagedWeightEvent event =
        StagedWeightEvent.builder()
            .eventId("ev-m-v1")
            .model("m")
            .version("v1")
            .task(Task.EMBEDDING)
            .artifact(
                new ArtifactRef(
                    model.toUri().toString(),
                    Storage.withDefaults().sha256(model.toUri().toString())))
            .tokenizer(
                new ArtifactRef(
                    tokenizer.toUri().toString(),
                    Storage.withDefaults().sha256(tokenizer.toUri().toString())))
            .goldenSubset(subset)
            .commit("commit-v1")
            .createdAt(fitting.createdAt())
            .build();
    stage(event);
    assertThat(publishedJobs()).isEmpty();
    assertThat(publishedFlags())
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.ERROR);
              assertThat(flag.reasons().get(0))
                  .contains(
                      "tokenizer: the tokenizer does not fit the model's vocabulary",
                      "ids go up to 999 (3 tokens)",
                      "ids 0..255 (256 tokens");
            });
  }

  @Test
  void aMalformedEventEndsInOneErrorAndADeadLetter() {
    staged.pipeInput("m", "{\"event_id\":\"e1\",\"model\":\"m\"}".getBytes());
    assertThat(publishedFlags())
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.ERROR);
              assertThat(flag.reasons().get(0)).startsWith("staged event rejected:");
            });
    assertThat(deadLetters.readRecordsToList())
        .singleElement()
        .satisfies(
            deadLetter -> {
              // Named by where its producer wrote it, not by the repartition topic it travelled
              // through.
              assertThat(
                      new String(
                          deadLetter.headers().lastHeader(DeadLetters.ORIGINAL_TOPIC).value()))
                  .isEqualTo(Topics.STAGED);
              assertThat(deadLetter.headers().lastHeader("evalfleet.origin.topic")).isNull();
            });
  }
}
