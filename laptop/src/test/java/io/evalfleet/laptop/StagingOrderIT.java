package io.evalfleet.laptop;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.contract.RunProgress;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.worker.WorkerRole;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Verdicts in staging order through a real fleet: a version staged right behind its model's first
 * version gets the flag, metric values (to the last digit) and reasons it gets when staged after
 * that version's flag, whichever run finishes first. The fleet starts without a worker, so the
 * first case can hand the base's jobs to the first worker only once the fine-tune is scored.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StagingOrderIT {
  static final Duration WAIT = Duration.ofMinutes(3);

  @TempDir static Path dir;
  static LocalFleet fleet;
  static FlagWatcher flags;
  static Submitter submitter;
  static DemoAssets assets;
  static SubsetRef heldout;
  static SubsetRef retrieval;

  @BeforeAll
  static void startFleet() throws Exception {
    assets = new DemoAssets(dir);
    heldout = assets.heldoutText();
    retrieval = assets.retrievalSubset();
    FleetConfig config =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.SHARD_ROWS.key(), "64",
                    // The held-out text's 16 rows (about 1,700 tokens) in several causal-LM jobs.
                    FleetConfig.JOB_TOKENS.key(), "600",
                    FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(), "16",
                    FleetConfig.MAX_IN_FLIGHT.key(), "64",
                    // Every run is scored here, so that no flag says its scores were reused from an
                    // identical one.
                    FleetConfig.REUSE_SCORES.key(), "false",
                    FleetConfig.ARCHIVE_ROOT.key(), dir.resolve("archive").toUri().toString(),
                    FleetConfig.INTRA_OP_THREADS.key(), "1"));
    fleet = LocalFleet.start(config, 0, dir.resolve("cache"));
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

  /** Verdicts of one causal-LM pair, by how it was staged and which run finished first. */
  static final Map<String, DriftFlag> tuned = new TreeMap<>();

  @Test
  @Order(1)
  void aFineTuneScoredBeforeItsBaseIsDecidedAsIfStagedAfterIt() throws Exception {
    StagedWeightEvent base =
        causal("lm-tuned-first", "base", DemoAssets.CausalModel.BYTEGPT_BASE, heldout);
    StagedWeightEvent fineTune =
        causal("lm-tuned-first", "tuned", DemoAssets.CausalModel.BYTEGPT_FINETUNED, heldout);
    submitter.submit(base);
    submitter.submit(fineTune);
    // No worker yet: the base's jobs wait on the topic, the fine-tune's in the dispatcher (they run
    // the base
    // beside the fine-tune, so they go out once one of its shards is scored). Move the workers'
    // group past them,
    // and hand one worker (one job at a time) the base's first job alone, then the fine-tune's jobs
    // as they come,
    // then, once the fine-tune is scored in full, the base's other jobs.
    List<ConsumerRecord<String, byte[]>> baseJobs = awaitJobs("base");
    skipJobsOnTopic();
    republish(baseJobs.subList(0, 1));
    fleet.startWorker();
    completedAt("lm-tuned-first", List.of("tuned"));
    republish(baseJobs.subList(1, baseJobs.size()));
    DriftFlag baseFlag = flags.await(base.eventId(), WAIT);
    tuned.put("staged together, tuned scored first", flags.await(fineTune.eventId(), WAIT));
    assertThat(baseFlag.flag()).isEqualTo(Flag.WARN);
    Map<String, Instant> scored = completedAt("lm-tuned-first", List.of("base", "tuned"));
    assertThat(scored.get("tuned"))
        .as("the fine-tune was scored in full before its base")
        .isBefore(scored.get("base"));
    fleet.startWorker();
  }

  @Test
  @Order(2)
  void aFineTuneStagedBehindItsBaseGetsTheFlagItGetsWhenStagedAfterItsBasesFlag() throws Exception {
    StagedWeightEvent base =
        causal("lm-together", "base", DemoAssets.CausalModel.BYTEGPT_BASE, heldout);
    StagedWeightEvent fineTune =
        causal("lm-together", "tuned", DemoAssets.CausalModel.BYTEGPT_FINETUNED, heldout);
    submitter.submit(base);
    submitter.submit(fineTune);
    flags.await(base.eventId(), WAIT);
    tuned.put("staged together", flags.await(fineTune.eventId(), WAIT));
    Map<String, Instant> scored = completedAt("lm-together", List.of("base", "tuned"));
    System.out.println(
        "staged together, the "
            + (scored.get("tuned").isBefore(scored.get("base")) ? "fine-tune" : "base")
            + " was scored first");

    assertThat(
            stage(causal("lm-after", "base", DemoAssets.CausalModel.BYTEGPT_BASE, heldout)).flag())
        .isEqualTo(Flag.WARN);
    DriftFlag afterFlag =
        stage(causal("lm-after", "tuned", DemoAssets.CausalModel.BYTEGPT_FINETUNED, heldout));
    tuned.put("staged after the base's flag", afterFlag);

    assertThat(afterFlag.flag()).isEqualTo(Flag.RED);
    for (String metric :
        List.of(
            MetricNames.KL_MEAN,
            MetricNames.KL_P99,
            MetricNames.TOP1_AGREEMENT,
            MetricNames.DP_TRUE_MEAN)) {
      assertThat(afterFlag.metrics()).containsKey(metric);
    }
    tuned.forEach(
        (how, flag) -> {
          System.out.printf(
              "tuned, %s: %s, perplexity %s, kl_mean %s, kl_p99 %s, top1_agreement %s, dp_true_mean %s%n",
              how,
              flag.flag(),
              value(flag, MetricNames.PERPLEXITY),
              value(flag, MetricNames.KL_MEAN),
              value(flag, MetricNames.KL_P99),
              value(flag, MetricNames.TOP1_AGREEMENT),
              value(flag, MetricNames.DP_TRUE_MEAN));
          assertThat(verdict(flag)).as(how).isEqualTo(verdict(afterFlag));
        });
    assertThat(tuned).hasSize(3);
  }

  @Test
  @Order(3)
  void searchModelsStagedBehindTheirFirstVersionGetTheIndexVerdictTheyGetWhenStagedAfterItsFlag()
      throws Exception {
    SubsetRef subset = retrieval;
    // Staged together first, while no embeddings of fp32 are archived: int8's and bge's jobs wait
    // for fp32's.
    StagedWeightEvent fp32 =
        search("search-together", "fp32", DemoAssets.Model.MINILM_FP32, null, subset);
    StagedWeightEvent int8 =
        search("search-together", "int8", DemoAssets.Model.MINILM_INT8, null, subset);
    StagedWeightEvent bge =
        search(
            "search-together",
            "bge",
            DemoAssets.Model.BGE_SMALL,
            DemoAssets.BGE_CONVENTIONS,
            subset);
    submitter.submit(fp32);
    submitter.submit(int8);
    submitter.submit(bge);
    assertThat(flags.await(fp32.eventId(), WAIT).flag()).isEqualTo(Flag.WARN);
    DriftFlag int8Together = flags.await(int8.eventId(), WAIT);
    DriftFlag bgeTogether = flags.await(bge.eventId(), WAIT);

    assertThat(
            stage(search("search-after", "fp32", DemoAssets.Model.MINILM_FP32, null, subset))
                .flag())
        .isEqualTo(Flag.WARN);
    StagedWeightEvent int8After =
        search("search-after", "int8", DemoAssets.Model.MINILM_INT8, null, subset);
    StagedWeightEvent bgeAfter =
        search(
            "search-after", "bge", DemoAssets.Model.BGE_SMALL, DemoAssets.BGE_CONVENTIONS, subset);
    submitter.submit(int8After);
    submitter.submit(bgeAfter);
    DriftFlag int8AfterFlag = flags.await(int8After.eventId(), WAIT);
    DriftFlag bgeAfterFlag = flags.await(bgeAfter.eventId(), WAIT);

    assertThat(int8AfterFlag.reasons())
        .anyMatch(
            r -> r.startsWith("no re-index needed: keeping the index built by" + " version fp32"));
    assertThat(bgeAfterFlag.reasons())
        .anyMatch(
            r -> r.startsWith("re-index required: keeping the index built by" + " version fp32"));
    for (DriftFlag flag : List.of(int8Together, int8AfterFlag, bgeTogether, bgeAfterFlag)) {
      System.out.printf(
          "%s %s: %s, nDCG@10 %s, index_loss %s, overlap@10 %s, text_cosine %s%n",
          flag.model(),
          flag.version(),
          flag.flag(),
          value(flag, MetricNames.NDCG_AT_10),
          value(flag, MetricNames.INDEX_LOSS),
          value(flag, MetricNames.OVERLAP_AT_10),
          value(flag, MetricNames.TEXT_COSINE));
    }
    assertThat(verdict(int8Together)).isEqualTo(verdict(int8AfterFlag));
    assertThat(verdict(bgeTogether)).isEqualTo(verdict(bgeAfterFlag));
  }

  /**
   * A flag as a promotion service reads it, its model's name left out (each case stages its own
   * model).
   */
  record Verdict(
      Flag flag, String baselineVersion, Map<String, MetricValue> metrics, List<String> reasons) {}

  static Verdict verdict(DriftFlag flag) {
    return new Verdict(
        flag.flag(),
        flag.baselineVersion(),
        new TreeMap<>(flag.metrics()),
        flag.reasons().stream().map(r -> r.replace(flag.model(), "<model>")).toList());
  }

  static String value(DriftFlag flag, String metric) {
    MetricValue value = flag.metrics().get(metric);
    return value == null ? "-" : Double.toString(value.value());
  }

  static DriftFlag stage(StagedWeightEvent event) throws Exception {
    submitter.submit(event);
    return flags.await(event.eventId(), WAIT);
  }

  static StagedWeightEvent causal(
      String model, String version, DemoAssets.CausalModel which, SubsetRef subset)
      throws Exception {
    DemoAssets.ModelFiles files = assets.causalModel(which);
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version + "-" + UUID.randomUUID())
        .model(model)
        .version(version)
        .task(Task.CAUSAL_LM)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
        .stride(64)
        // Judged as a quantization, a version's jobs run its baseline beside it: how the token
        // shift's reference follows the staging order is what is tested here.
        .changeKind(ChangeKind.QUANTIZATION)
        .createdAt(Instant.now())
        .build();
  }

  static StagedWeightEvent search(
      String model,
      String version,
      DemoAssets.Model which,
      EmbeddingConventions conventions,
      SubsetRef subset)
      throws Exception {
    DemoAssets.ModelFiles files = assets.model(which);
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version + "-" + UUID.randomUUID())
        .model(model)
        .version(version)
        .task(Task.RETRIEVAL)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .quantizationBits(which.bits)
        .createdAt(Instant.now())
        .embedding(conventions)
        .build();
  }

  /** The jobs of {@code version} on the jobs topic, once every one of its shards has one. */
  static List<ConsumerRecord<String, byte[]>> awaitJobs(String version) throws Exception {
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.committedReader(fleet.config(), "it-jobs")) {
      List<TopicPartition> partitions = partitions(consumer, Topics.JOBS);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      List<ConsumerRecord<String, byte[]>> jobs = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          if (Json.read(record.value(), ScoringJob.class).version().equals(version)) {
            jobs.add(record);
          }
        }
        if (!jobs.isEmpty()
            && jobs.size() == Json.read(jobs.get(0).value(), ScoringJob.class).shardCount()) {
          return jobs;
        }
      }
      throw new AssertionError(
          "the jobs of " + version + " were not all published: " + jobs.size());
    }
  }

  /** Moves the workers' group past every job on the topic now. */
  static void skipJobsOnTopic() throws Exception {
    Map<TopicPartition, OffsetAndMetadata> ends = new HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer = KafkaClients.reader(fleet.config(), "it-ends")) {
      List<TopicPartition> partitions = partitions(consumer, Topics.JOBS);
      consumer
          .endOffsets(partitions)
          .forEach((partition, end) -> ends.put(partition, new OffsetAndMetadata(end)));
    }
    try (Admin admin = Admin.create(KafkaClients.adminProperties(fleet.config()))) {
      admin.alterConsumerGroupOffsets(WorkerRole.GROUP, ends).all().get(30, TimeUnit.SECONDS);
    }
  }

  /** Publishes {@code jobs} again, in order, on partition 0. */
  static void republish(List<ConsumerRecord<String, byte[]>> jobs) {
    try (KafkaProducer<String, byte[]> producer =
        KafkaClients.producer(fleet.config(), "it-republish")) {
      for (ConsumerRecord<String, byte[]> job : jobs) {
        KafkaClients.sendAndWait(
            producer, new ProducerRecord<>(Topics.JOBS, 0, job.key(), job.value()), job.key());
      }
    }
  }

  /**
   * When each of {@code versions} of {@code model} had every shard scored, from the run-progress
   * topic (read until all are there: a flag may be seen before the transaction that carries it
   * ends).
   */
  static Map<String, Instant> completedAt(String model, List<String> versions) {
    Map<String, Instant> at = new HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer =
        KafkaClients.committedReader(fleet.config(), "it-progress")) {
      List<TopicPartition> partitions = partitions(consumer, Topics.RUN_PROGRESS);
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (!at.keySet().containsAll(versions) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          RunProgress progress = Json.read(record.value(), RunProgress.class);
          if (progress.model().equals(model) && progress.complete()) {
            at.merge(progress.version(), progress.at(), (a, b) -> a.isBefore(b) ? a : b);
          }
        }
      }
    }
    assertThat(at)
        .as("completion of " + versions + " of " + model)
        .containsKeys(versions.toArray(String[]::new));
    return at;
  }

  static List<TopicPartition> partitions(KafkaConsumer<String, byte[]> consumer, String topic) {
    return consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .toList();
  }
}
