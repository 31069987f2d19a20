package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.RetrievalStep;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.task.TokenSketch;
import io.evalfleet.dispatcher.decision.Policy;
import io.evalfleet.dispatcher.decision.PolicyFile;
import io.evalfleet.dispatcher.preflight.Preflight;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
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
 * A version staged right behind its model's first version, whose verdict it waits for: its token
 * shift and index compatibility are measured against that first version while it is still being
 * scored, so its flag is the same, to the last digit, whether it was staged before or after the
 * first version's flag, and whichever run finishes first. Each scenario runs on a fresh topology
 * and archive; the test plays the workers with values that depend only on the version, the row and
 * whether the job carries a reference.
 */
class StagingOrderTest {
  static final int TOKEN_ROWS = 40;
  static final int DOCS = 30;
  static final int QUERIES = 16;

  @TempDir Path dir;
  Path files;
  SubsetRef tokenSubset;
  SubsetRef retrievalSubset;
  Scenario scenario;

  @BeforeEach
  void writeSubsets() throws Exception {
    files = dir.resolve("files");
    Files.createDirectories(files);
    List<int[]> rows = new ArrayList<>();
    for (int i = 0; i < TOKEN_ROWS; i++) {
      int[] ids = new int[8 + i % 5];
      Arrays.setAll(ids, t -> (t * 7 + 3) % 50);
      rows.add(ids);
    }
    Path tokens = files.resolve("tokens.parquet");
    GoldenSubsetWriter.writeTokenIds(new org.apache.hadoop.fs.Path(tokens.toUri()), rows, 1 << 20);
    tokenSubset =
        new SubsetRef(
            tokens.toUri().toString(),
            Storage.withDefaults().sha256(tokens.toUri().toString()),
            "tokens-v1",
            Map.of());
    Map<String, String> docs = new LinkedHashMap<>();
    for (int i = 0; i < DOCS; i++) {
      docs.put("d" + i, "doc " + i);
    }
    Map<String, String> queries = new LinkedHashMap<>();
    List<GoldenSubsetWriter.Judgement> qrels = new ArrayList<>();
    for (int i = 0; i < QUERIES; i++) {
      queries.put("q" + i, "query " + i);
      qrels.add(new GoldenSubsetWriter.Judgement("q" + i, "d" + (i * 7 % DOCS), 1 + i % 3));
    }
    Path retrieval = files.resolve("retrieval.parquet");
    GoldenSubsetWriter.writeRetrieval(
        new org.apache.hadoop.fs.Path(retrieval.toUri()),
        new GoldenSubsetWriter.Retrieval(docs, queries, qrels),
        1 << 20);
    retrievalSubset =
        new SubsetRef(
            retrieval.toUri().toString(),
            Storage.withDefaults().sha256(retrieval.toUri().toString()),
            "retrieval-v1",
            Map.of());
  }

  @AfterEach
  void close() {
    if (scenario != null) {
      scenario.driver.close();
    }
  }

  /** One topology with its own state and archive. */
  final class Scenario {
    final TopologyTestDriver driver;
    final TestInputTopic<String, byte[]> staged;
    final TestInputTopic<String, byte[]> results;
    final TestOutputTopic<String, byte[]> jobs;
    final TestOutputTopic<String, byte[]> flags;
    final Path archiveRoot;
    final List<ScoringJob> pending = new ArrayList<>();
    final List<ScoringJob> answered = new ArrayList<>();
    final List<DriftFlag> published = new ArrayList<>();

    Scenario(String name) throws Exception {
      this(name, PolicyFile.defaults());
    }

    Scenario(String name, Policy policy) throws Exception {
      if (scenario != null) {
        scenario.driver.close();
      }
      archiveRoot = dir.resolve(name).resolve("archive");
      FleetConfig config =
          FleetConfig.defaults()
              .with(
                  Map.of(
                      FleetConfig.SHARD_ROWS.key(),
                      "10",
                      FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(),
                      "8",
                      FleetConfig.MAX_IN_FLIGHT.key(),
                      "100",
                      FleetConfig.JOB_TIMEOUT.key(),
                      "PT30S",
                      FleetConfig.RUN_DEADLINE.key(),
                      "PT10M",
                      FleetConfig.ARCHIVE_ROOT.key(),
                      archiveRoot.toUri().toString()));
      Storage storage = Storage.of(config);
      EvaluationArchive archive =
          new EvaluationArchive(storage, config.get(FleetConfig.ARCHIVE_ROOT));
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
      props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dispatcher-test");
      props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
      props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve(name).resolve("state").toString());
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
      flags =
          driver.createOutputTopic(Topics.DRIFT_FLAGS, keys.deserializer(), bytes.deserializer());
      scenario = this;
    }

    void stage(StagedWeightEvent event) {
      staged.pipeInput(event.model(), Json.write(event));
      collect();
    }

    void collect() {
      jobs.readValuesToList().forEach(v -> pending.add(Json.read(v, ScoringJob.class)));
      flags.readValuesToList().forEach(v -> published.add(Json.read(v, DriftFlag.class)));
    }

    /**
     * Answers the pending jobs of {@code version}, and those published meanwhile, until none is
     * left.
     */
    void score(String version) {
      score(job -> job.version().equals(version));
    }

    void score(Predicate<ScoringJob> which) {
      while (true) {
        ScoringJob job = pending.stream().filter(which).findFirst().orElse(null);
        if (job == null) {
          return;
        }
        pending.remove(job);
        answered.add(job);
        results.pipeInput(job.model(), Json.write(answer(job)));
        collect();
      }
    }

    void fail(ScoringJob job) {
      pending.remove(job);
      results.pipeInput(
          job.model(),
          Json.write(
              ShardResult.answering(job)
                  .values(Map.of())
                  .workerId("w1")
                  .executionProvider("cpu")
                  .durationMs(5)
                  .attempt(job.attempt())
                  .error(new ShardError(FailureKind.BAD_INPUT, "cannot load the model"))
                  .build()));
      collect();
    }

    List<ScoringJob> pendingOf(String version) {
      return pending.stream().filter(job -> job.version().equals(version)).toList();
    }

    /** Lets the wall-clock tick run (runs pre-flighted again, jobs released). */
    void tick() {
      driver.advanceWallClockTime(Duration.ofSeconds(1));
      collect();
    }

    DriftFlag flagOf(String version) {
      return published.stream()
          .filter(f -> version.equals(f.version()))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no flag for " + version + " among " + published));
    }

    /** An archived path as seen from its archive root, so paths from two scenarios compare. */
    String inArchive(String path) {
      return path == null ? null : path.substring(path.indexOf(archiveRoot.getFileName() + "/"));
    }
  }

  /**
   * The worker's answer: values from the version, the row and whether a reference runs beside it.
   */
  static ShardResult answer(ScoringJob job) {
    double skill = job.version().hashCode() % 97 / 97.0;
    Map<String, double[]> values = new HashMap<>();
    Map<String, String> sketches = null;
    int n = job.rowCount();
    if (job.task() == Task.CAUSAL_LM) {
      double[] nll = new double[n];
      double[] tokens = new double[n];
      for (int i = 0; i < n; i++) {
        long row = job.rowStart() + i;
        tokens[i] = 8 + row % 5;
        nll[i] =
            tokens[i]
                * (job.version().startsWith("tuned")
                    ? 3.0 + (row % 7) / 10.0
                    : 2.0 + (row % 3) / 10.0);
      }
      values.put(MetricNames.NLL_SUM, nll);
      values.put(MetricNames.TOKENS, tokens);
      if (job.reference() != null) {
        double[] kl = new double[n];
        double[] agree = new double[n];
        double[] dp = new double[n];
        TokenSketch sketch = TokenSketch.empty();
        for (int i = 0; i < n; i++) {
          long row = job.rowStart() + i;
          for (int t = 0; t < tokens[i]; t++) {
            double tokenKl = 0.2 + ((row * 31 + t * 17) % 13) / 10.0 + skill / 10;
            kl[i] += tokenKl;
            sketch.add(tokenKl);
            agree[i] += (row + t) % 3 == 0 ? 0 : 1;
            dp[i] -= 0.01 * ((row + t) % 4);
          }
        }
        values.put(MetricNames.KL_SUM, kl);
        values.put(MetricNames.TOP1_AGREE, agree);
        values.put(MetricNames.DP_TRUE_SUM, dp);
        sketches = Map.of(MetricNames.KL_TOKENS, sketch.encode());
      }
    } else {
      RetrievalStep step = job.retrieval();
      List<String> names = new ArrayList<>();
      step.recallAt().forEach(k -> names.add(RetrievalTask.recall(k)));
      names.addAll(List.of(MetricNames.RR_AT_10, MetricNames.NDCG_AT_10));
      if (step.baselineEmbeddings() != null) {
        names.addAll(
            List.of(
                MetricNames.INDEX_NDCG_AT_10,
                MetricNames.OVERLAP_AT_10,
                MetricNames.COSINE_TO_BASELINE));
      }
      for (String name : names) {
        double[] column = new double[n];
        for (int i = 0; i < n; i++) {
          long row = job.rowStart() + i;
          boolean corpus = step.phase() == RetrievalStep.Phase.CORPUS;
          column[i] =
              corpus && !name.equals(MetricNames.COSINE_TO_BASELINE)
                  ? Double.NaN
                  : name.equals(MetricNames.INDEX_NDCG_AT_10)
                      ? 0.5 + (row % 5) / 20.0
                      : name.equals(MetricNames.COSINE_TO_BASELINE)
                          ? 0.9 + skill / 20
                          : 0.6 + ((row * 13) % 7) / 20.0 - skill / 10;
        }
        values.put(name, column);
      }
    }
    return ShardResult.answering(job)
        .values(values)
        .workerId("w1")
        .executionProvider("cpu")
        .durationMs(5)
        .attempt(job.attempt())
        .sketches(sketches)
        .build();
  }

  StagedWeightEvent event(String model, String version, Task task) throws Exception {
    return event(model, version, task, null);
  }

  /**
   * @param baseModelSha256 for an adapter, the model it was trained on; else null
   */
  StagedWeightEvent event(String model, String version, Task task, String baseModelSha256)
      throws Exception {
    Path artifact = files.resolve(model + "-" + version + ".onnx");
    Files.writeString(artifact, "weights of " + model + " " + version);
    String uri = artifact.toUri().toString();
    ArtifactRef tokenizer = null;
    if (task == Task.RETRIEVAL) {
      Path json = files.resolve("tokenizer-" + version + ".json");
      Files.writeString(json, version.startsWith("bge") ? "{\"bge\": 1}" : "{}");
      tokenizer =
          new ArtifactRef(
              json.toUri().toString(), Storage.withDefaults().sha256(json.toUri().toString()));
    }
    return StagedWeightEvent.builder()
        .eventId("ev-" + model + "-" + version + "-" + System.nanoTime())
        .model(model)
        .version(version)
        .task(task)
        .artifact(new ArtifactRef(uri, Storage.withDefaults().sha256(uri)))
        .tokenizer(tokenizer)
        .goldenSubset(task == Task.RETRIEVAL ? retrievalSubset : tokenSubset)
        .maxSeqLen(task == Task.CAUSAL_LM ? 16 : null)
        .stride(task == Task.CAUSAL_LM ? 8 : null)
        .baseModelSha256(baseModelSha256)
        // Judged as quantizations, the causal LMs here have their token shift measured and gated.
        .changeKind(task == Task.CAUSAL_LM ? ChangeKind.QUANTIZATION : null)
        .commit("commit-" + version)
        .createdAt(Instant.parse("2026-01-01T00:00:00Z"))
        .build();
  }

  /**
   * The candidate's flag as a promotion service reads it: flag, baseline, metric values and
   * reasons.
   */
  record Verdict(Flag flag, String baselineVersion, Map<String, ?> metrics, List<String> reasons) {
    static Verdict of(DriftFlag flag) {
      return new Verdict(
          flag.flag(),
          flag.baselineVersion(),
          new java.util.TreeMap<>(flag.metrics()),
          flag.reasons());
    }
  }

  private enum Order {
    AFTER_FLAG,
    FIRST_FINISHES_FIRST,
    CANDIDATE_FINISHES_FIRST
  }

  /**
   * Stages {@code first} and {@code candidate} of a new model in {@code order}; returns the
   * candidate's flag.
   */
  private DriftFlag pair(Order order, Task task, String first, String candidate) throws Exception {
    Scenario s = new Scenario(order + "-" + task.wireName() + "-" + candidate);
    s.stage(event("m", first, task));
    if (order == Order.AFTER_FLAG) {
      s.score(first);
      assertThat(s.flagOf(first).flag()).isEqualTo(Flag.WARN);
    }
    s.stage(event("m", candidate, task));
    if (order != Order.AFTER_FLAG) {
      assertThat(s.pendingOf(candidate)).as("its jobs wait for the first version").isEmpty();
    }
    if (order == Order.CANDIDATE_FINISHES_FIRST) {
      if (task == Task.CAUSAL_LM) {
        // One shard of the first version scored: its model loads, so it may run beside the
        // candidate.
        ScoringJob one = s.pendingOf(first).get(0);
        s.score(job -> job == one);
        assertThat(s.pendingOf(candidate)).isNotEmpty();
        s.score(candidate);
        assertThat(s.published).as("the candidate waits for its baseline").isEmpty();
      } else {
        s.score(job -> job.version().equals(first) && s.pendingOf(first).size() > 1);
        assertThat(s.pendingOf(candidate))
            .as("its jobs wait until the first version is scored in full")
            .isEmpty();
      }
    }
    s.score(first);
    s.score(candidate);
    DriftFlag flag = s.flagOf(candidate);
    ScoringJob job =
        s.answered.stream()
            .filter(j -> j.version().equals(candidate))
            .reduce((a, b) -> b)
            .orElseThrow();
    jobsSeen.put(
        order,
        List.of(
            String.valueOf(job.reference() == null ? null : job.reference().sha256()),
            String.valueOf(
                job.retrieval() == null
                    ? null
                    : s.inArchive(job.retrieval().baselineEmbeddings()))));
    return flag;
  }

  private final Map<Order, List<String>> jobsSeen = new HashMap<>();

  @Test
  void aCausalLmStagedBehindItsFirstVersionGetsTheSameFlagWhateverFinishesFirst() throws Exception {
    DriftFlag afterFlag = pair(Order.AFTER_FLAG, Task.CAUSAL_LM, "base", "tuned");
    DriftFlag firstFirst = pair(Order.FIRST_FINISHES_FIRST, Task.CAUSAL_LM, "base", "tuned");
    DriftFlag candidateFirst =
        pair(Order.CANDIDATE_FINISHES_FIRST, Task.CAUSAL_LM, "base", "tuned");

    assertThat(afterFlag.flag()).as(String.join("\n", afterFlag.reasons())).isEqualTo(Flag.RED);
    assertThat(afterFlag.metrics())
        .containsKeys(
            MetricNames.KL_MEAN,
            MetricNames.KL_P99,
            MetricNames.TOP1_AGREEMENT,
            MetricNames.DP_TRUE_MEAN);
    assertThat(afterFlag.reasons()).anyMatch(r -> r.startsWith("kl_mean RED: "));
    assertThat(Verdict.of(firstFirst)).isEqualTo(Verdict.of(afterFlag));
    assertThat(Verdict.of(candidateFirst)).isEqualTo(Verdict.of(afterFlag));
    assertThat(jobsSeen.get(Order.FIRST_FINISHES_FIRST))
        .as("the reference the jobs carry")
        .isEqualTo(jobsSeen.get(Order.AFTER_FLAG))
        .isEqualTo(jobsSeen.get(Order.CANDIDATE_FINISHES_FIRST));
    assertThat(jobsSeen.get(Order.AFTER_FLAG).get(0)).isNotEqualTo("null");
    System.out.printf(
        "tuned against base, three orders: %s, kl_mean %s, kl_p99 %s, top1_agreement %s%n",
        candidateFirst.flag(),
        candidateFirst.metrics().get(MetricNames.KL_MEAN).value(),
        candidateFirst.metrics().get(MetricNames.KL_P99).value(),
        candidateFirst.metrics().get(MetricNames.TOP1_AGREEMENT).value());
  }

  @Test
  void aRetrievalModelStagedBehindItsFirstVersionRanksAgainstItsIndexWhateverFinishesFirst()
      throws Exception {
    for (String candidate : List.of("int8", "bge")) {
      DriftFlag afterFlag = pair(Order.AFTER_FLAG, Task.RETRIEVAL, "fp32", candidate);
      DriftFlag firstFirst = pair(Order.FIRST_FINISHES_FIRST, Task.RETRIEVAL, "fp32", candidate);
      DriftFlag candidateFirst =
          pair(Order.CANDIDATE_FINISHES_FIRST, Task.RETRIEVAL, "fp32", candidate);

      assertThat(afterFlag.metrics())
          .as(candidate)
          .containsKeys(MetricNames.INDEX_LOSS, MetricNames.OVERLAP_AT_10, MetricNames.TEXT_COSINE);
      assertThat(afterFlag.reasons())
          .as(candidate)
          .anyMatch(
              r ->
                  r.startsWith("re-index required: keeping the index" + " built by version fp32")
                      || r.startsWith(
                          "no re-index needed: keeping the index built by version fp32"));
      assertThat(Verdict.of(firstFirst)).as(candidate).isEqualTo(Verdict.of(afterFlag));
      assertThat(Verdict.of(candidateFirst)).as(candidate).isEqualTo(Verdict.of(afterFlag));
      assertThat(jobsSeen.get(Order.FIRST_FINISHES_FIRST))
          .as("the index the jobs read")
          .isEqualTo(jobsSeen.get(Order.AFTER_FLAG))
          .isEqualTo(jobsSeen.get(Order.CANDIDATE_FINISHES_FIRST));
      assertThat(jobsSeen.get(Order.AFTER_FLAG).get(1)).endsWith(".embeddings");
      System.out.printf(
          "%s against fp32, three orders: %s, index_loss %s; %s%n",
          candidate,
          candidateFirst.flag(),
          candidateFirst.metrics().get(MetricNames.INDEX_LOSS).value(),
          candidateFirst.reasons().get(0));
    }
  }

  @Test
  void anAdapterOnAnotherBaseModelStagedBehindItsFirstVersionIsRefusedAsWhenStagedAfterItsFlag()
      throws Exception {
    Scenario together = new Scenario("adapter-together");
    together.stage(event("m", "base", Task.CAUSAL_LM));
    together.stage(event("m", "lora", Task.CAUSAL_LM, "b".repeat(64)));
    DriftFlag refused = together.flagOf("lora");
    assertThat(together.pendingOf("lora")).isEmpty();

    Scenario after = new Scenario("adapter-after");
    after.stage(event("m", "base", Task.CAUSAL_LM));
    after.score("base");
    after.stage(event("m", "lora", Task.CAUSAL_LM, "b".repeat(64)));
    DriftFlag afterFlag = after.flagOf("lora");

    assertThat(refused.flag()).isEqualTo(Flag.ERROR);
    assertThat(refused.reasons())
        .singleElement()
        .asString()
        .startsWith(
            "adapter gate: version lora is an adapter on base model bbbbbbbbbbbb, but baseline version base");
    assertThat(refused.reasons()).isEqualTo(afterFlag.reasons());
    assertThat(refused.flag()).isEqualTo(afterFlag.flag());
  }

  @Test
  void aRetrievalCandidatesJobsWaitUntilTheFirstVersionIsScoredInFull() throws Exception {
    Scenario s = new Scenario("wait");
    s.stage(event("m", "fp32", Task.RETRIEVAL));
    s.stage(event("m", "int8", Task.RETRIEVAL));
    assertThat(s.pendingOf("int8")).isEmpty();
    // Every shard of fp32 but its last query shard: its query embeddings are not all written yet.
    s.score(
        job ->
            job.version().equals("fp32") && job.retrieval().phase() == RetrievalStep.Phase.CORPUS);
    List<ScoringJob> queries = s.pendingOf("fp32");
    assertThat(queries)
        .isNotEmpty()
        .allSatisfy(
            job -> assertThat(job.retrieval().phase()).isEqualTo(RetrievalStep.Phase.QUERIES));
    ScoringJob last = queries.get(queries.size() - 1);
    s.score(job -> job.version().equals("fp32") && job != last);
    assertThat(s.pending).containsExactly(last);
    s.driver.advanceWallClockTime(Duration.ofSeconds(5));
    s.collect();
    assertThat(s.pendingOf("int8")).isEmpty();
    s.score(job -> job == last);
    assertThat(s.pendingOf("int8"))
        .isNotEmpty()
        .allSatisfy(
            job ->
                assertThat(s.inArchive(job.retrieval().baselineEmbeddings()))
                    .isNotNull()
                    .endsWith(".embeddings"));
  }

  @Test
  void aFirstVersionThatFailsBeforeItsIndexIsBuiltHandsOverAsIfTheOthersWereStagedAfterTheNext()
      throws Exception {
    Scenario s = new Scenario("fails");
    s.stage(event("m", "fp32", Task.RETRIEVAL));
    s.stage(event("m", "int8", Task.RETRIEVAL));
    s.stage(event("m", "bge", Task.RETRIEVAL));
    assertThat(s.pendingOf("int8")).isEmpty();
    s.fail(s.pendingOf("fp32").get(0));
    assertThat(s.flagOf("fp32").flag()).isEqualTo(Flag.ERROR);
    s.tick();
    assertThat(s.pendingOf("int8"))
        .as("int8 is the first now")
        .isNotEmpty()
        .allSatisfy(job -> assertThat(job.retrieval().baselineEmbeddings()).isNull());
    assertThat(s.pendingOf("bge")).as("bge waits for int8's index").isEmpty();
    s.score("int8");
    assertThat(s.flagOf("int8").flag()).isEqualTo(Flag.WARN);
    s.score("bge");
    DriftFlag bge = s.flagOf("bge");

    Scenario after = new Scenario("int8-then-bge");
    after.stage(event("m", "int8", Task.RETRIEVAL));
    after.score("int8");
    after.stage(event("m", "bge", Task.RETRIEVAL));
    after.score("bge");
    DriftFlag bgeAfter = after.flagOf("bge");

    assertThat(bge.baselineVersion()).isEqualTo("int8");
    assertThat(bge.reasons()).anyMatch(r -> r.contains("keeping the index built by version int8"));
    assertThat(Verdict.of(bge)).isEqualTo(Verdict.of(bgeAfter));
  }

  @Test
  void aCausalLmWhoseFirstVersionFailsBeforeItsModelRanIsMeasuredAgainstTheNextAsIfStagedAfterIt()
      throws Exception {
    Scenario s = new Scenario("broken-base");
    s.stage(event("m", "broken", Task.CAUSAL_LM));
    s.stage(event("m", "tuned", Task.CAUSAL_LM));
    s.stage(event("m", "tuned2", Task.CAUSAL_LM));
    assertThat(s.pendingOf("tuned")).as("no job runs a model not yet seen to load").isEmpty();
    s.fail(s.pendingOf("broken").get(0));
    s.tick();
    assertThat(s.pendingOf("tuned"))
        .isNotEmpty()
        .allSatisfy(job -> assertThat(job.reference()).isNull());
    s.score("tuned");
    s.tick();
    s.score("tuned2");
    DriftFlag tuned2 = s.flagOf("tuned2");

    Scenario after = new Scenario("tuned-then-tuned2");
    after.stage(event("m", "tuned", Task.CAUSAL_LM));
    after.score("tuned");
    after.stage(event("m", "tuned2", Task.CAUSAL_LM));
    after.score("tuned2");

    assertThat(s.flagOf("tuned").flag()).isEqualTo(Flag.WARN);
    assertThat(tuned2.metrics()).containsKey(MetricNames.KL_MEAN);
    assertThat(Verdict.of(tuned2)).isEqualTo(Verdict.of(after.flagOf("tuned2")));
    assertThat(Verdict.of(s.flagOf("tuned"))).isEqualTo(Verdict.of(after.flagOf("tuned")));
  }

  @Test
  void aTokenShiftMeasuredAgainstAFirstVersionThatFailedLaterJudgesNothingAndSaysSo()
      throws Exception {
    Scenario s = new Scenario("shift-fails");
    s.stage(event("m", "base", Task.CAUSAL_LM));
    s.stage(event("m", "tuned", Task.CAUSAL_LM));
    s.stage(event("m", "tuned2", Task.CAUSAL_LM));
    ScoringJob one = s.pendingOf("base").get(0);
    s.score(job -> job == one);
    assertThat(s.pendingOf("tuned2"))
        .isNotEmpty()
        .allSatisfy(job -> assertThat(job.reference()).isNotNull());
    s.score("tuned");
    s.score("tuned2");
    s.fail(s.pendingOf("base").get(0));
    DriftFlag tuned = s.flagOf("tuned");
    assertThat(tuned.flag()).isEqualTo(Flag.WARN);
    assertThat(tuned.reasons())
        .anyMatch(
            r ->
                r.startsWith(
                    "the token shift (kl_mean, kl_p99, top1_agreement,"
                        + " dp_true_mean) was measured against version base (the model's first staged when this version was, which"
                        + " ended without becoming its baseline)"));
    DriftFlag tuned2 = s.flagOf("tuned2");
    assertThat(tuned2.baselineVersion()).isEqualTo("tuned");
    assertThat(tuned2.reasons())
        .contains(
            "kl_mean not compared: the token shift was measured against version base"
                + " (the model's first staged when this version was, which ended without becoming its baseline), but the run is"
                + " compared with version tuned");
    assertThat(tuned2.reasons())
        .anyMatch(r -> r.startsWith("pre-flight checked this version against version base"));
    assertThat(tuned2.metrics().get(MetricNames.KL_MEAN).status()).isNull();
  }
}
