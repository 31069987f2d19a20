package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.archive.NoiseFloorRecord.MetricSpread;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.contract.ScoringEnvironment;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.NoiseFloorPolicy;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.PolicyFile;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
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
 * A candidate scored under another envelope than its baseline: the lockfile keeps each run's
 * envelopes, the flag names what differs, and the model's archived noise floor widens the
 * comparison (the default policy) and warns of a margin below it.
 */
class EnvelopeDecisionTest {
  static final int ROWS = 40;

  static final ScoringEnvelope BASELINE_ENVELOPE =
      ScoringEnvelope.builder()
          .executionProvider("cpu")
          .onnxRuntime("1.29.0")
          .batching("padded-batches")
          .maxBatchSize(32)
          .intraOpThreads(2)
          .deterministicCompute(false)
          .cpuArch("amd64")
          .build();

  static final ScoringEnvelope CANDIDATE_ENVELOPE =
      BASELINE_ENVELOPE.toBuilder()
          .onnxRuntime("1.30.0")
          .batching("one-at-a-time")
          .maxBatchSize(1)
          .profile(null)
          .build();

  @TempDir Path dir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> staged;
  TestInputTopic<String, byte[]> results;
  TestOutputTopic<String, byte[]> jobs;
  TestOutputTopic<String, byte[]> flags;
  SubsetRef subset;
  EvaluationArchive archive;

  @BeforeEach
  void start() throws Exception {
    start(PolicyFile.defaults());
  }

  void start(Policy policy) throws Exception {
    if (driver != null) {
      driver.close();
    }
    Path subsetFile = dir.resolve("golden.parquet");
    List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      pairs.add(new GoldenSubsetWriter.Pair(i, "a" + i, "b" + i, i));
    }
    GoldenSubsetWriter.writePairs(
        new org.apache.hadoop.fs.Path(subsetFile.toUri()), pairs, 1 << 20);
    String uri = subsetFile.toUri().toString();
    subset = new SubsetRef(uri, Storage.withDefaults().sha256(uri), "v1", Map.of());
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.SHARD_ROWS.key(),
                    "10",
                    FleetConfig.ARCHIVE_ROOT.key(),
                    dir.resolve("archive").toUri().toString()));
    Storage storage = Storage.of(config);
    archive = new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT));
    Dispatching dispatching =
        new Dispatching(
            config,
            new Preflight(storage),
            archive,
            policy,
            new SimpleMeterRegistry(),
            Runnable::run,
            Duration.ofSeconds(1));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "envelope-test");
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
    jobs = driver.createOutputTopic(Topics.JOBS, keys.deserializer(), bytes.deserializer());
    flags = driver.createOutputTopic(Topics.DRIFT_FLAGS, keys.deserializer(), bytes.deserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  StagedWeightEvent event(String version) throws Exception {
    Path artifact = dir.resolve("m-" + version + ".onnx");
    Files.writeString(artifact, "weights of " + version);
    String uri = artifact.toUri().toString();
    Path tokenizer = dir.resolve("tokenizer.json");
    Files.writeString(tokenizer, "{}");
    String tokenizerUri = tokenizer.toUri().toString();
    return StagedWeightEvent.builder()
        .eventId("ev-m-" + version)
        .model("m")
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(new ArtifactRef(uri, Storage.withDefaults().sha256(uri)))
        .tokenizer(new ArtifactRef(tokenizerUri, Storage.withDefaults().sha256(tokenizerUri)))
        .goldenSubset(subset)
        .commit("commit-" + version)
        .createdAt(Instant.parse("2026-01-01T00:00:00Z"))
        .build();
  }

  /** Plays the workers: every row's cosine follows its gold score, under {@code envelope}. */
  DriftFlag scoreUnder(StagedWeightEvent event, ScoringEnvelope envelope) {
    staged.pipeInput(event.model(), Json.write(event));
    List<byte[]> pending = new ArrayList<>(jobs.readValuesToList());
    while (!pending.isEmpty()) {
      ScoringJob job = Json.read(pending.remove(0), ScoringJob.class);
      double[] cosine = new double[job.rowCount()];
      double[] gold = new double[job.rowCount()];
      for (int i = 0; i < cosine.length; i++) {
        gold[i] = job.rowStart() + i;
        cosine[i] = 0.3 + 0.01 * gold[i];
      }
      results.pipeInput(
          job.model(),
          Json.write(
              ShardResult.answering(job)
                  .values(Map.of("cosine", cosine, "gold", gold))
                  .workerId("w1")
                  .executionProvider(envelope.executionProvider())
                  .durationMs(5)
                  .attempt(job.attempt())
                  .environment(new ScoringEnvironment("onnxruntime", "linux/amd64", null, envelope))
                  .build()));
      pending.addAll(jobs.readValuesToList());
    }
    List<DriftFlag> decided =
        flags.readValuesToList().stream().map(v -> Json.read(v, DriftFlag.class)).toList();
    assertThat(decided).hasSize(1);
    return decided.get(0);
  }

  @Test
  void aCandidateUnderAnotherEnvelopeIsNamedWidenedByTheFloorAndWarnedOfItsMargin()
      throws Exception {
    scoreUnder(event("v1"), BASELINE_ENVELOPE);
    StagedWeightEvent v2 = event("v2");
    archive.writeNoiseFloor(
        NoiseFloorRecord.builder()
            .artifactSha256(v2.artifact().sha256())
            .profile(CANDIDATE_ENVELOPE.profile())
            .task("embedding")
            .rows(ROWS)
            .envelopes(
                List.of(CANDIDATE_ENVELOPE, CANDIDATE_ENVELOPE.toBuilder().maxBatchSize(8).build()))
            .metrics(Map.of("spearman", MetricSpread.of(List.of(0.9, 0.873))))
            .build());

    DriftFlag flag = scoreUnder(v2, CANDIDATE_ENVELOPE);

    assertThat(flag.reasons())
        .anySatisfy(
            r ->
                assertThat(r)
                    .contains("baseline version v1 were scored under different envelopes")
                    .contains("ONNX Runtime 1.30.0 vs 1.29.0")
                    .contains(
                        "batch shape one-at-a-time of at most 1 vs padded-batches of at most 32"))
        .anySatisfy(
            r -> assertThat(r).startsWith("noise floor policy widen").contains("spearman by 0.03"))
        .anySatisfy(
            r ->
                assertThat(r)
                    .isEqualTo(
                        "policy warning: margin 0.02 of spearman is below the measured noise floor 0.03"
                            + " on profile "
                            + CANDIDATE_ENVELOPE.profile()
                            + ": the gate cannot tell noise from change"));
    // The same scores would be GREEN; widened by a floor above the margin, GREEN cannot be shown.
    assertThat(flag.flag()).isEqualTo(Flag.WARN);
    EvaluationLock lock = archive.lock("m", "v2").orElseThrow();
    assertThat(lock.envelopes()).containsExactly(CANDIDATE_ENVELOPE);
    assertThat(archive.lock("m", "v1").orElseThrow().envelopes())
        .containsExactly(BASELINE_ENVELOPE);
  }

  @Test
  void refuseAcrossEnvelopesMakesTheFlagWarnEvenWhereAWidenedTestWouldPass() throws Exception {
    Policy defaults = PolicyFile.defaults();
    start(defaults.withNoiseFloor(new NoiseFloorPolicy(NoiseFloorPolicy.AcrossEnvelopes.REFUSE)));
    scoreUnder(event("v1"), BASELINE_ENVELOPE);
    StagedWeightEvent v2 = event("v2");
    archive.writeNoiseFloor(
        NoiseFloorRecord.builder()
            .artifactSha256(v2.artifact().sha256())
            .profile(CANDIDATE_ENVELOPE.profile())
            .rows(ROWS)
            .envelopes(
                List.of(CANDIDATE_ENVELOPE, CANDIDATE_ENVELOPE.toBuilder().maxBatchSize(8).build()))
            .metrics(Map.of("spearman", MetricSpread.of(List.of(0.9, 0.8955))))
            .build());

    DriftFlag flag = scoreUnder(v2, CANDIDATE_ENVELOPE);

    assertThat(flag.flag()).isEqualTo(Flag.WARN);
    assertThat(flag.reasons())
        .anySatisfy(r -> assertThat(r).startsWith("noise floor policy refuse").endsWith("WARN"))
        .noneSatisfy(r -> assertThat(r).startsWith("policy warning"));
  }

  @Test
  void aCandidateUnderTheSameEnvelopeWithoutAFloorIsDecidedAsBefore() throws Exception {
    scoreUnder(event("v1"), BASELINE_ENVELOPE);

    DriftFlag flag = scoreUnder(event("v2"), BASELINE_ENVELOPE);

    assertThat(flag.flag()).isEqualTo(Flag.GREEN);
    assertThat(flag.reasons()).noneSatisfy(r -> assertThat(r).contains("envelope"));
    assertThat(flag.reasons()).noneSatisfy(r -> assertThat(r).contains("noise floor"));
  }
}
