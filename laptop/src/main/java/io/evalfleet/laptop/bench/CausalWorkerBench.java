package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.plan.Shard;
import io.evalfleet.dispatcher.plan.ShardPlanner;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.perplexity.LengthBatches;
import io.evalfleet.scoring.perplexity.NllForward;
import io.evalfleet.scoring.perplexity.Window;
import io.evalfleet.scoring.perplexity.Windows;
import io.evalfleet.worker.WorkerRole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A causal LM scored by one worker through Kafka (jobs in, results out) next to a bare ONNX Runtime
 * loop that only computes the logits, on the same rows, windows, batches and threads, in
 * alternating rounds of one process. With {@code --token-shift}, the jobs also run a baseline
 * beside the candidate (the token shift), and the bare side is two forward loops, one per model.
 */
@Command(
    name = "causal-worker",
    header = "Times one worker's scored tokens/s on a causal LM next to a bare forward loop.",
    description =
        "Scored tokens/s of one worker scoring a causal LM through Kafka vs a bare ONNX Runtime forward loop (logits only) on the same rows, windows, batches and threads. For a GPT-2-small-shaped model, make it with scripts/make_gpt2_small_shape.py and pass --model .evalfleet/bench/gpt2-small-shape.onnx --max-seq-len 256. With --token-shift: paired jobs (candidate and baseline on the same windows, compared by the token-shift head) vs two bare forward loops, one per model.")
public final class CausalWorkerBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;
  @picocli.CommandLine.Mixin FleetBenchOptions options;

  @Option(
      names = "--model",
      description =
          "ONNX causal LM whose vocabulary holds the 256 byte values. Default: the bundled byte-level GPT.")
  Path model;

  @Option(
      names = "--max-seq-len",
      defaultValue = "128",
      description = "Context of the model. Default: ${DEFAULT-VALUE}.")
  int maxSeqLen;

  @Option(
      names = "--rows",
      defaultValue = "200",
      description = "Rows of 16 to 400 bytes of English text. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--token-shift",
      description =
          "Score paired token-shift jobs against a baseline (--baseline)."
              + " Default model pair: the bundled GPT's fine-tune against its base.")
  boolean tokenShift;

  @Option(
      names = "--baseline",
      description =
          "With --token-shift: the baseline causal LM. Default: the bundled base GPT"
              + " when --model is not given, else --model itself.")
  Path baselineModel;

  @Option(
      names = "--logits-budget",
      defaultValue = "16777216",
      description = "As worker.logits-budget. Default: ${DEFAULT-VALUE}.")
  long logitsBudget;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-causal-worker"));
    int shardRows = options.shardRows;
    int batchSize = options.batchSize;
    int threads = options.threads;
    int rounds = options.rounds;
    Path workDir = options.workDir;
    Storage storage = Storage.withDefaults();
    DemoAssets assets = new DemoAssets(workDir);
    ArtifactRef artifact =
        model != null
            ? ref(storage, model)
            : assets
                .causalModel(
                    tokenShift
                        ? DemoAssets.CausalModel.BYTEGPT_FINETUNED
                        : DemoAssets.CausalModel.BYTEGPT_BASE)
                .onnx();
    ArtifactRef baseline =
        !tokenShift
            ? null
            : baselineModel != null
                ? ref(storage, baselineModel)
                : model != null
                    ? artifact
                    : assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE).onnx();
    long[][] tokenRows = PerplexityBench.textRows(rows, new Random(42));
    List<int[]> asInts = new ArrayList<>();
    for (long[] row : tokenRows) {
      asInts.add(Arrays.stream(row).mapToInt(v -> (int) v).toArray());
    }
    Path file = workDir.toAbsolutePath().resolve("golden").resolve("bench-tokens.parquet");
    Files.createDirectories(file.getParent());
    GoldenSubsetWriter.writeTokenIds(
        new org.apache.hadoop.fs.Path(file.toUri()), asInts, 64 * 1024);
    SubsetRef subset =
        new SubsetRef(
            file.toUri().toString(), storage.sha256(file.toUri().toString()), null, Map.of());
    List<Shard> shards =
        new ShardPlanner(shardRows)
            .plan(GoldenSubsetFile.readFooter(storage, subset.uri()).rowGroupSizes());
    int stride = maxSeqLen / 2;

    try (ModelSessions sessions =
        new ModelSessions(
            new ArtifactCache(storage, workDir.resolve("cache"), Long.MAX_VALUE), threads)) {
      LoadedModel loaded = sessions.lease(artifact).model();
      LoadedModel loadedBaseline = baseline == null ? null : sessions.lease(baseline).model();
      long vocabulary = NllForward.checkSignature(loaded);
      List<Window> windows = new ArrayList<>();
      for (int r = 0; r < tokenRows.length; r++) {
        windows.addAll(Windows.plan(r, tokenRows[r].length, maxSeqLen, stride));
      }
      List<List<Window>> batches =
          LengthBatches.plan(
              windows,
              batchSize,
              CausalLmScorer.tokenSlots(batchSize, maxSeqLen, vocabulary, logitsBudget));
      long tokensScored = windows.stream().mapToLong(Window::scored).sum();
      NllForward bare = new NllForward(sessions.environment(), sessions::nllHead);

      double[] fleet = new double[rounds];
      double[] forward = new double[rounds];
      long scoringMillis = 0;
      try (EmbeddedKafka kafka = EmbeddedKafka.start(6)) {
        FleetConfig config =
            FleetConfig.defaults()
                .with(
                    Map.of(
                        FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers(),
                        FleetConfig.INTRA_OP_THREADS.key(), Integer.toString(threads),
                        FleetConfig.BATCH_SIZE.key(), Integer.toString(batchSize),
                        FleetConfig.LOGITS_BUDGET.key(), Long.toString(logitsBudget),
                        FleetConfig.EXECUTION_PROVIDER.key(), "cpu"));
        try (WorkerRole worker =
                new WorkerRole(config, "bench-worker", workDir.resolve("cache")).start();
            KafkaProducer<String, byte[]> producer = KafkaClients.producer(config, "bench");
            KafkaConsumer<String, byte[]> results =
                FleetJobs.readerAtEnd(config, "bench-results", Topics.RESULTS)) {
          FleetJobs.run(producer, results, jobs(artifact, baseline, subset, shards, "warm-up"));
          bareLoops(bare, loaded, loadedBaseline, batches, tokenRows);
          for (int round = 0; round < rounds; round++) {
            long start = System.nanoTime();
            bareLoops(bare, loaded, loadedBaseline, batches, tokenRows);
            forward[round] = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            scoringMillis +=
                FleetJobs.run(
                    producer, results, jobs(artifact, baseline, subset, shards, "round-" + round));
            fleet[round] = (System.nanoTime() - start) / 1e9;
          }
        }
      }
      double fleetSeconds = Rounds.median(fleet);
      double forwardSeconds = Rounds.median(forward);
      System.out.printf(
          Locale.ROOT,
          "model %s (vocabulary %d), %d rows in %d job(s), %d windows (max_seq_len %d,"
              + " stride %d), %d batches of up to %d windows, %d intra-op threads%n",
          artifact.uri(),
          vocabulary,
          tokenRows.length,
          shards.size(),
          windows.size(),
          maxSeqLen,
          stride,
          batches.size(),
          batches.stream().mapToInt(List::size).max().orElse(0),
          threads);
      if (baseline != null) {
        System.out.printf(
            Locale.ROOT, "token shift of %s against baseline %s%n", artifact.uri(), baseline.uri());
      }
      System.out.printf(
          Locale.ROOT,
          "%s %9.0f scored tokens/s  (median of %d rounds, %.2f s)%n",
          baseline == null
              ? "bare ONNX Runtime forward loop (logits only):"
              : "two bare forward loops, one per model:       ",
          tokensScored / forwardSeconds,
          rounds,
          forwardSeconds);
      System.out.printf(
          Locale.ROOT,
          "%s %9.0f scored tokens/s  (median of %d rounds, %.2f s)%n",
          baseline == null
              ? "worker through Kafka (job in, result out):   "
              : "worker through Kafka, paired token-shift jobs:",
          tokensScored / fleetSeconds,
          rounds,
          fleetSeconds);
      System.out.printf(
          Locale.ROOT,
          "ratio worker / bare loop:                     %9.3f%n",
          forwardSeconds / fleetSeconds);
      System.out.printf(
          Locale.ROOT,
          "of which the worker reported scoring:         %9.2f s per round%n",
          scoringMillis / 1000.0 / rounds);
    }
    return 0;
  }

  /** The bare side: the candidate's forward loop, and the baseline's after it for a token shift. */
  private static void bareLoops(
      NllForward bare,
      LoadedModel candidate,
      LoadedModel baseline,
      List<List<Window>> batches,
      long[][] rows)
      throws Exception {
    for (List<Window> batch : batches) {
      bare.forwardOnly(candidate, batch, rows);
    }
    if (baseline != null) {
      for (List<Window> batch : batches) {
        bare.forwardOnly(baseline, batch, rows);
      }
    }
  }

  private List<ScoringJob> jobs(
      ArtifactRef artifact,
      ArtifactRef baseline,
      SubsetRef subset,
      List<Shard> shards,
      String runId) {
    String run = "bench-" + runId + "-" + System.nanoTime();
    List<ScoringJob> jobs = new ArrayList<>();
    for (Shard shard : shards) {
      jobs.add(
          ScoringJob.builder()
              .jobId(ScoringJob.jobId(run, shard.index()))
              .runId(run)
              .eventId(run)
              .model("bench")
              .version("v")
              .task(Task.CAUSAL_LM)
              .artifact(artifact)
              .goldenSubset(subset)
              .maxSeqLen(maxSeqLen)
              .shardIndex(shard.index())
              .shardCount(shards.size())
              .rowStart(shard.start())
              .rowCount(shard.count())
              .metrics(Task.CAUSAL_LM.spec().rowValues())
              .attempt(1)
              .deadline(Instant.now().plusSeconds(600))
              .reference(baseline)
              .build());
    }
    return jobs;
  }

  private static ArtifactRef ref(Storage storage, Path file) throws IOException {
    String uri = file.toAbsolutePath().normalize().toUri().toString();
    return new ArtifactRef(uri, storage.sha256(uri));
  }
}
