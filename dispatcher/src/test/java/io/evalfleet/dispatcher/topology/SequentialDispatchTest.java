package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RunCancelled;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SequentialDecision;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.MetricNames;
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
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
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
 * Sequential decisions through the dispatcher's topology, without a broker: the bundled policy
 * looks at the completed prefix of each causal-LM run's seeded row order. The test plays the
 * workers: a row's NLL depends on its file row (and the version), so a job answered from its
 * positions must read the order's rows, as a worker does.
 */
class SequentialDispatchTest {
  static final int ROWS = 2000;
  static final int SHARD_ROWS = 50;

  @TempDir Path dir;
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> staged;
  TestInputTopic<String, byte[]> results;
  TestOutputTopic<String, byte[]> jobs;
  TestOutputTopic<String, byte[]> flags;
  TestOutputTopic<String, byte[]> cancelled;
  TestOutputTopic<String, byte[]> baselines;
  SubsetRef subset;
  EvaluationArchive archive;

  @BeforeEach
  void start() throws Exception {
    List<int[]> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      int[] ids = new int[8 + i % 5];
      Arrays.setAll(ids, t -> (t * 7 + 3) % 50);
      rows.add(ids);
    }
    Path tokens = dir.resolve("tokens.parquet");
    GoldenSubsetWriter.writeTokenIds(new org.apache.hadoop.fs.Path(tokens.toUri()), rows, 1 << 14);
    subset =
        new SubsetRef(
            tokens.toUri().toString(),
            Storage.withDefaults().sha256(tokens.toUri().toString()),
            "tokens-v1",
            Map.of());
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.SHARD_ROWS.key(),
                    String.valueOf(SHARD_ROWS),
                    FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(),
                    "4",
                    FleetConfig.MAX_IN_FLIGHT.key(),
                    "8",
                    FleetConfig.JOB_TIMEOUT.key(),
                    "PT30S",
                    FleetConfig.RUN_DEADLINE.key(),
                    "PT10M",
                    FleetConfig.REUSE_SCORES.key(),
                    "false",
                    FleetConfig.ARCHIVE_ROOT.key(),
                    dir.resolve("archive").toUri().toString()));
    Storage storage = Storage.of(config);
    archive = new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT));
    Dispatching dispatching =
        new Dispatching(
            config,
            new Preflight(storage),
            archive,
            PolicyFile.defaults(),
            new SimpleMeterRegistry(),
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
    jobs = driver.createOutputTopic(Topics.JOBS, keys.deserializer(), bytes.deserializer());
    flags = driver.createOutputTopic(Topics.DRIFT_FLAGS, keys.deserializer(), bytes.deserializer());
    cancelled =
        driver.createOutputTopic(Topics.RUNS_CANCELLED, keys.deserializer(), bytes.deserializer());
    baselines =
        driver.createOutputTopic(Topics.BASELINES, keys.deserializer(), bytes.deserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  StagedWeightEvent event(String model, String version) throws Exception {
    Path artifact = dir.resolve(model + "-" + version + ".onnx");
    Files.writeString(artifact, "weights of " + model + " " + version);
    String uri = artifact.toUri().toString();
    return StagedWeightEvent.builder()
        .eventId("ev-" + model + "-" + version)
        .model(model)
        .version(version)
        .task(Task.CAUSAL_LM)
        .artifact(new ArtifactRef(uri, Storage.withDefaults().sha256(uri)))
        .goldenSubset(subset)
        .maxSeqLen(16)
        .stride(8)
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

  List<DriftFlag> publishedFlags() {
    return flags.readValuesToList().stream().map(v -> Json.read(v, DriftFlag.class)).toList();
  }

  /** A value in [-1, 1) fixed by the row and a salt. */
  static double noise(long row, long salt) {
    long h = (row * 0x9E3779B97F4A7C15L) ^ (salt * 0xC2B2AE3D27D4EB4FL);
    h ^= h >>> 31;
    h *= 0xBF58476D1CE4E5B9L;
    h ^= h >>> 29;
    return ((h >>> 11) * 0x1.0p-53) * 2 - 1;
  }

  /**
   * How a version scores a file row: the baseline's NLL per token varies by row; {@code regression}
   * scales it (1.06: 6% more NLL), with a little noise of the version's own.
   */
  record Scoring(double regression, long salt) {
    static final Scoring BASELINE = new Scoring(1.0, 0);

    double[] nllAndTokens(long row) {
      double tokens = 8 + row % 5;
      double perToken = 2.0 + 0.6 * noise(row, 99);
      double own = salt == 0 ? 1 : 1 + 0.02 * noise(row, salt);
      return new double[] {tokens * perToken * regression * own, tokens};
    }
  }

  /** The worker's answer: the values of the file rows the job holds, in its order. */
  void answer(ScoringJob job, Scoring scoring) {
    long[] fileRows = job.fileRows();
    double[] nll = new double[fileRows.length];
    double[] tokens = new double[fileRows.length];
    for (int i = 0; i < fileRows.length; i++) {
      double[] row = scoring.nllAndTokens(fileRows[i]);
      nll[i] = row[0];
      tokens[i] = row[1];
    }
    results.pipeInput(
        job.model(),
        Json.write(
            ShardResult.answering(job)
                .values(Map.of(MetricNames.NLL_SUM, nll, MetricNames.TOKENS, tokens))
                .workerId("w1")
                .executionProvider("cpu")
                .durationMs(5)
                .attempt(job.attempt())
                .build()));
  }

  /** Answers the jobs of the run as they are published, in publishing order, until none is left. */
  List<ScoringJob> scoreAll(Scoring scoring) {
    List<ScoringJob> answered = new ArrayList<>();
    List<ScoringJob> pending = new ArrayList<>(publishedJobs());
    while (!pending.isEmpty()) {
      ScoringJob job = pending.remove(0);
      answer(job, scoring);
      answered.add(job);
      pending.addAll(publishedJobs());
    }
    return answered;
  }

  /** Stages and scores the model's first version, its baseline. */
  DriftFlag baseline(String model) throws Exception {
    stage(event(model, "v1"));
    List<ScoringJob> answered = scoreAll(Scoring.BASELINE);
    assertThat(answered).hasSize(ROWS / SHARD_ROWS);
    return publishedFlags().get(0);
  }

  /** The test's token rows, written in row groups of {@code rowGroupRows} rows. */
  SubsetRef inRowGroupsOf(int rowGroupRows) throws Exception {
    List<int[]> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      int[] ids = new int[8 + i % 5];
      Arrays.setAll(ids, t -> (t * 7 + 3) % 50);
      rows.add(ids);
    }
    Path tokens = dir.resolve("tokens-" + rowGroupRows + ".parquet");
    GoldenSubsetWriter.writeTokenIds(
        new org.apache.hadoop.fs.Path(tokens.toUri()), rows, 1L << 30, rowGroupRows);
    return new SubsetRef(
        tokens.toUri().toString(),
        Storage.withDefaults().sha256(tokens.toUri().toString()),
        "tokens-by-" + rowGroupRows,
        Map.of());
  }

  @Test
  void aSubsetOfEnoughEqualRowGroupsIsOrderedByWholeRowGroupsAndEachJobReadsItsOwn()
      throws Exception {
    // 200 row groups of 10 rows, at least the policy's min_rows (100): blocks are row groups, so
    // a job of 50 rows lies in 5 of them. Blocks of single rows put it in about 45.
    subset = inRowGroupsOf(10);
    stage(event("m", "v1"));
    List<ScoringJob> first = publishedJobs();

    assertThat(first.get(0).order().unitRows()).isEqualTo(10);
    assertThat(first)
        .allSatisfy(
            job ->
                assertThat(Arrays.stream(job.fileRows()).map(row -> row / 10).distinct().count())
                    .isEqualTo(SHARD_ROWS / 10));
  }

  @Test
  void aSubsetOfFewerRowGroupsThanALookNeedsKeepsBlocksOfSingleRows() throws Exception {
    // 20 row groups of 100 rows would be 20 units, too few for any look to stop the run.
    subset = inRowGroupsOf(100);
    stage(event("m", "v1"));

    assertThat(publishedJobs().get(0).order().unitRows()).isEqualTo(1);
  }

  @Test
  void aModelsFirstVersionIsScoredInItsSeededOrderToTheEndWithoutALook() throws Exception {
    stage(event("m", "v1"));
    List<ScoringJob> first = publishedJobs();
    assertThat(first).allSatisfy(job -> assertThat(job.order()).isNotNull());
    assertThat(first.get(0).order().unitRows()).isEqualTo(1);
    assertThat(first.get(0).fileRows())
        .as("the first shard holds rows spread over the subset")
        .isNotEqualTo(range(0, SHARD_ROWS));
    first.forEach(job -> answer(job, Scoring.BASELINE));
    scoreAll(Scoring.BASELINE);

    DriftFlag flag = publishedFlags().get(0);
    assertThat(flag.flag()).isEqualTo(Flag.WARN);
    assertThat(flag.sequential().stopped()).isEqualTo(SequentialDecision.Stop.END);
    assertThat(flag.sequential().looks()).isZero();
    assertThat(flag.sequential().reason()).contains("no baseline is known yet");
    assertThat(flag.coverage().rowsScored()).isEqualTo(ROWS);
    // The scores are archived in file order: row r holds what the worker scored for row r.
    BaselineRecord pinned = Json.read(baselines.readValue(), BaselineRecord.class);
    double[] nll = archive.readScores(pinned.scores()).get(MetricNames.NLL_SUM);
    assertThat(nll).hasSize(ROWS);
    for (int row : new int[] {0, 17, 1999}) {
      assertThat(nll[row]).isEqualTo(Scoring.BASELINE.nllAndTokens(row)[0]);
    }
  }

  @Test
  void aRegressedCandidateStopsRedAfterAPrefixAndItsOtherJobsAreNeverPublished() throws Exception {
    baseline("m");
    stage(event("m", "v2"));
    String runId = null;
    Set<Integer> published = new HashSet<>();
    List<ScoringJob> pending = new ArrayList<>(publishedJobs());
    List<ScoringJob> outstanding = new ArrayList<>();
    // Answers jobs one at a time, in publishing order, until the flag comes.
    while (!pending.isEmpty() && flags.isEmpty()) {
      ScoringJob job = pending.remove(0);
      runId = job.runId();
      published.add(job.shardIndex());
      answer(job, new Scoring(1.06, 2));
      pending.addAll(publishedJobs());
    }
    outstanding.addAll(pending);
    pending.forEach(job -> published.add(job.shardIndex()));
    DriftFlag flag = publishedFlags().get(0);

    assertThat(flag.flag()).isEqualTo(Flag.RED);
    assertThat(flag.metrics().get(MetricNames.PERPLEXITY).status()).isEqualTo(Flag.RED);
    SequentialDecision sequential = flag.sequential();
    assertThat(sequential.stopped()).isEqualTo(SequentialDecision.Stop.RED);
    assertThat(sequential.rowsTotal()).isEqualTo(ROWS);
    assertThat(sequential.rowsScored()).isLessThan(ROWS / 2).isGreaterThanOrEqualTo(100);
    assertThat(sequential.looks()).isPositive();
    assertThat(flag.coverage().rowsScored()).isEqualTo(sequential.rowsScored());
    assertThat(flag.coverage().rowsTotal()).isEqualTo(ROWS);
    assertThat(published).as("jobs never published").hasSizeLessThan(ROWS / SHARD_ROWS);

    // Jobs still out are cancelled for the workers; nothing more is published, even past the job
    // timeout; their late answers are ignored.
    assertThat(cancelled.readKeyValuesToList())
        .singleElement()
        .satisfies(
            kv -> {
              assertThat(kv.key).isEqualTo(flag.runId());
              assertThat(Json.read(kv.value, RunCancelled.class).reason())
                  .isEqualTo("stopped RED after " + sequential.rowsScored() + " of 2000 rows");
            });
    assertThat(outstanding).isNotEmpty();
    outstanding.forEach(job -> answer(job, new Scoring(1.06, 2)));
    driver.advanceWallClockTime(Duration.ofSeconds(61));
    assertThat(publishedJobs()).isEmpty();
    assertThat(publishedFlags()).isEmpty();
    assertThat(runId).isEqualTo(flag.runId());
    // The prefix's scores are archived with their rows, and only those rows.
    String lockScores = archive.lock("m", "v2").orElseThrow().scores();
    assertThat(lockScores).endsWith(".rows-" + sequential.rowsScored() + ".parquet");
    double[] nll = archive.readScores(lockScores).get(MetricNames.NLL_SUM);
    long scored = Arrays.stream(nll).filter(v -> !Double.isNaN(v)).count();
    assertThat(scored).isEqualTo(sequential.rowsScored());
  }

  @Test
  void anUnchangedCandidateStopsGreenBeforeItsEnd() throws Exception {
    baseline("m");
    stage(event("m", "v2"));
    scoreAll(new Scoring(1.0, 3));

    DriftFlag flag = publishedFlags().get(0);
    assertThat(flag.flag()).isEqualTo(Flag.GREEN);
    assertThat(flag.sequential().stopped()).isEqualTo(SequentialDecision.Stop.GREEN);
    assertThat(flag.sequential().rowsScored()).isLessThan(ROWS);
    assertThat(flag.baselineVersion()).isEqualTo("v1");
  }

  @Test
  void aShardFinishingAheadOfAMissingOneIsNoEvidence() throws Exception {
    baseline("m");
    stage(event("m", "v2"));
    Scoring regressed = new Scoring(1.5, 2);
    List<ScoringJob> pending = new ArrayList<>(publishedJobs());
    ScoringJob first = pending.remove(0);
    assertThat(first.shardIndex()).isZero();
    // Half the run scored, but not its first shard: a gap at the front of the prefix.
    int answered = 0;
    while (answered < ROWS / SHARD_ROWS / 2) {
      ScoringJob job = pending.remove(0);
      answer(job, regressed);
      answered++;
      pending.addAll(publishedJobs());
    }
    assertThat(publishedFlags()).as("no look past the missing shard 0").isEmpty();

    answer(first, regressed);
    DriftFlag flag = publishedFlags().get(0);
    assertThat(flag.flag()).isEqualTo(Flag.RED);
    assertThat(flag.sequential().looks()).isEqualTo(1);
    assertThat(flag.sequential().rowsScored()).isEqualTo((long) (answered + 1) * SHARD_ROWS);
  }

  @Test
  void aCandidateStagedBeforeItsBaselineIsKnownIsNotLookedAt() throws Exception {
    // Both versions are the model's first: the second's baseline-to-be is undecided while it
    // scores, so no look is made and it runs to its end, decided as a fixed sample.
    stage(event("n", "v1"));
    List<ScoringJob> firstJobs = publishedJobs();
    stage(event("n", "v2"));
    List<ScoringJob> all = new ArrayList<>(firstJobs);
    all.addAll(publishedJobs());
    List<ScoringJob> pending = new ArrayList<>(all);
    while (!pending.isEmpty()) {
      ScoringJob job = pending.remove(0);
      answer(job, job.version().equals("v1") ? Scoring.BASELINE : new Scoring(1.06, 2));
      pending.addAll(publishedJobs());
    }
    DriftFlag second =
        publishedFlags().stream().filter(f -> f.version().equals("v2")).findFirst().orElseThrow();
    assertThat(second.flag()).isEqualTo(Flag.RED);
    assertThat(second.sequential().stopped()).isEqualTo(SequentialDecision.Stop.END);
    assertThat(second.sequential().looks()).isZero();
    assertThat(second.coverage().rowsScored()).isEqualTo(ROWS);
  }

  static long[] range(long from, int count) {
    long[] rows = new long[count];
    Arrays.setAll(rows, i -> from + i);
    return rows;
  }
}
