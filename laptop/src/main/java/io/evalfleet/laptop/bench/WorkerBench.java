package io.evalfleet.laptop.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.plan.Shard;
import io.evalfleet.dispatcher.plan.ShardPlanner;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.EmbeddedKafka;
import io.evalfleet.worker.WorkerRole;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A worker's end-to-end scoring throughput through a real (embedded) Kafka broker, next to a bare
 * ONNX Runtime loop that tokenises the same rows and runs the same model on them in the same
 * batches, measured in alternating rounds in one process.
 */
@Command(
    name = "worker",
    header = "Times one worker's rows/s through Kafka next to a bare ONNX Runtime loop.",
    description =
        "Rows/s of one worker scoring sentence pairs through Kafka (jobs in, results out) vs a bare ONNX Runtime loop over the same rows with the same model, tokenizer and batch size.")
public final class WorkerBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;
  @picocli.CommandLine.Mixin FleetBenchOptions options;

  @Option(
      names = "--copies",
      defaultValue = "4",
      description = "Copies of the 240-pair golden subset to score. Default: ${DEFAULT-VALUE}.")
  int copies;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-worker"));
    int shardRows = options.shardRows;
    int batchSize = options.batchSize;
    int threads = options.threads;
    int rounds = options.rounds;
    Path workDir = options.workDir;
    DemoAssets assets = new DemoAssets(workDir);
    DemoAssets.ModelFiles model = assets.model(DemoAssets.Model.MINILM_FP32);
    List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>();
    for (int copy = 0; copy < copies; copy++) {
      for (GoldenSubsetWriter.Pair pair : DemoAssets.readPairs()) {
        pairs.add(
            new GoldenSubsetWriter.Pair(pairs.size(), pair.textA(), pair.textB(), pair.gold()));
      }
    }
    Path file = workDir.toAbsolutePath().resolve("golden").resolve("bench-pairs.parquet");
    // Row groups of about one job each, as the dispatcher's shard planner would find them.
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs, 6 * 1024);
    SubsetRef subset =
        new SubsetRef(
            file.toUri().toString(),
            Storage.withDefaults().sha256(file.toUri().toString()),
            null,
            Map.of());

    // Jobs as the dispatcher would plan them from the file's row groups.
    List<Shard> shards =
        new ShardPlanner(shardRows)
            .plan(
                GoldenSubsetFile.readFooter(Storage.withDefaults(), subset.uri()).rowGroupSizes());
    List<String> texts = new ArrayList<>();
    pairs.forEach(
        p -> {
          texts.add(p.textA());
          texts.add(p.textB());
        });
    double[] fleet = new double[rounds];
    double[] bare = new double[rounds];
    try (EmbeddedKafka kafka = EmbeddedKafka.start(6)) {
      FleetConfig config =
          FleetConfig.defaults()
              .with(
                  Map.of(
                      FleetConfig.BOOTSTRAP_SERVERS.key(), kafka.bootstrapServers(),
                      FleetConfig.INTRA_OP_THREADS.key(), Integer.toString(threads),
                      FleetConfig.BATCH_SIZE.key(), Integer.toString(batchSize),
                      FleetConfig.EXECUTION_PROVIDER.key(), "cpu"));
      try (WorkerRole worker =
              new WorkerRole(config, "bench-worker", workDir.resolve("cache")).start();
          KafkaProducer<String, byte[]> producer = KafkaClients.producer(config, "bench");
          KafkaConsumer<String, byte[]> results =
              FleetJobs.readerAtEnd(config, "bench-results", Topics.RESULTS);
          BareLoop loop =
              new BareLoop(
                  Path.of(URI.create(model.onnx().uri())),
                  Path.of(URI.create(model.tokenizer().uri())),
                  threads,
                  batchSize)) {
        throughFleet(producer, results, model, subset, shards, "warm-up");
        loop.run(texts);
        for (int round = 0; round < rounds; round++) {
          long start = System.nanoTime();
          loop.run(texts);
          bare[round] = (System.nanoTime() - start) / 1e9;
          start = System.nanoTime();
          throughFleet(producer, results, model, subset, shards, "round-" + round);
          fleet[round] = (System.nanoTime() - start) / 1e9;
        }
      }
    }
    double fleetSeconds = Rounds.median(fleet);
    double bareSeconds = Rounds.median(bare);
    System.out.printf(
        Locale.ROOT,
        "all-MiniLM-L6-v2 fp32, %d sentence pairs (%d texts) in %d jobs of at most %d rows, batch %d, %d intra-op threads%n",
        pairs.size(),
        texts.size(),
        shards.size(),
        shardRows,
        batchSize,
        threads);
    System.out.printf(
        Locale.ROOT,
        "bare ONNX Runtime loop (tokenise + run):   %8.1f rows/s  (median of %d rounds, %.2f s)%n",
        pairs.size() / bareSeconds,
        rounds,
        bareSeconds);
    System.out.printf(
        Locale.ROOT,
        "worker through Kafka (job in, result out): %8.1f rows/s  (median of %d rounds, %.2f s)%n",
        pairs.size() / fleetSeconds,
        rounds,
        fleetSeconds);
    System.out.printf(
        Locale.ROOT,
        "ratio worker / bare loop:                  %8.3f%n",
        bareSeconds / fleetSeconds);
    System.out.printf(
        Locale.ROOT,
        "of which the worker reported scoring:      %8.2f s per round%n",
        scoringMillis / 1000.0 / (rounds + 1));
    return 0;
  }

  /** Publishes one run's jobs and waits for every result. */
  private void throughFleet(
      KafkaProducer<String, byte[]> producer,
      KafkaConsumer<String, byte[]> results,
      DemoAssets.ModelFiles model,
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
              .version("fp32")
              .task(Task.EMBEDDING)
              .artifact(model.onnx())
              .tokenizer(model.tokenizer())
              .goldenSubset(subset)
              .maxSeqLen(256)
              .shardIndex(shard.index())
              .shardCount(shards.size())
              .rowStart(shard.start())
              .rowCount(shard.count())
              .metrics(List.of(MetricNames.COSINE))
              .attempt(1)
              .deadline(Instant.now().plusSeconds(600))
              .build());
    }
    scoringMillis += FleetJobs.run(producer, results, jobs);
  }

  /** Time the worker itself reported spending on the shards (scoring, Parquet and tokenising). */
  private long scoringMillis;

  /** Tokenise, sort by length, run in batches, read the output: nothing else. */
  static final class BareLoop implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final int batchSize;

    BareLoop(Path model, Path tokenizerFile, int threads, int batchSize) throws Exception {
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        options.setIntraOpNumThreads(threads);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = env.createSession(model.toString(), options);
      }
      tokenizer =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(tokenizerFile)
              .optTruncation(true)
              .optMaxLength(256)
              .optPadding(false)
              .build();
      this.batchSize = batchSize;
    }

    void run(List<String> texts) throws Exception {
      List<Encoding> encodings = new ArrayList<>();
      for (String text : texts) {
        encodings.add(tokenizer.encode(text));
      }
      encodings.sort(Comparator.comparingInt(e -> e.getIds().length));
      for (int from = 0; from < encodings.size(); from += batchSize) {
        List<Encoding> batch =
            encodings.subList(from, Math.min(encodings.size(), from + batchSize));
        int seq = batch.stream().mapToInt(e -> e.getIds().length).max().orElseThrow();
        LongBuffer ids = longs(batch.size() * seq);
        LongBuffer mask = longs(batch.size() * seq);
        LongBuffer types = longs(batch.size() * seq);
        for (Encoding e : batch) {
          for (int t = 0; t < seq; t++) {
            boolean real = t < e.getIds().length;
            ids.put(real ? e.getIds()[t] : 0);
            mask.put(real ? 1 : 0);
            types.put(real ? e.getTypeIds()[t] : 0);
          }
        }
        long[] shape = {batch.size(), seq};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
          inputs.put("input_ids", OnnxTensor.createTensor(env, ids.rewind(), shape));
          inputs.put("attention_mask", OnnxTensor.createTensor(env, mask.rewind(), shape));
          inputs.put("token_type_ids", OnnxTensor.createTensor(env, types.rewind(), shape));
          try (OrtSession.Result result = session.run(inputs)) {
            ((OnnxTensor) result.get(0)).getFloatBuffer();
          }
        } finally {
          inputs.values().forEach(OnnxTensor::close);
        }
      }
    }

    private static LongBuffer longs(int n) {
      return ByteBuffer.allocateDirect(n * Long.BYTES)
          .order(ByteOrder.nativeOrder())
          .asLongBuffer();
    }

    @Override
    public void close() throws Exception {
      session.close();
      tokenizer.close();
    }
  }
}
