package io.evalfleet.laptop.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.kafka.KafkaClients;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.LoadedModel;
import io.evalfleet.scoring.model.ModelSessions;
import io.evalfleet.scoring.perplexity.CausalLmScorer;
import io.evalfleet.scoring.perplexity.LengthBatches;
import io.evalfleet.scoring.perplexity.NllForward;
import io.evalfleet.scoring.perplexity.Window;
import io.evalfleet.scoring.perplexity.Windows;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What a user waits for: staged events published through Kafka with a plain producer to a warm
 * local fleet (embedded broker, dispatcher, one worker), their flags read from the flags topic,
 * next to a bare ONNX Runtime loop on the same model, rows, windows, batches and threads. Prints
 * the fixed cost of an event on a small subset and its parts, then throughput on subsets long
 * enough to amortise it: a causal LM alone, the same with the token shift's reference beside it,
 * and sentence embeddings.
 */
@Command(
    name = "staging-to-flag",
    header = "Times staged event to flag on a warm local fleet next to a bare session.run loop.",
    description =
        "Stages events through Kafka on a warm local fleet (embedded broker, dispatcher, one worker) and reads their flags from the flags topic: the fixed cost of an event on a small subset and its parts (pre-flight and planning, first job to the worker, scoring, decision, flag), then throughput of a causal LM (alone, and with the token shift's reference) and of sentence embeddings, each as a ratio to a bare ONNX Runtime loop on the same rows, windows, batches and threads measured in the same run.")
public final class StagingToFlagBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;
  @picocli.CommandLine.Mixin FleetBenchOptions options;

  @Option(
      names = "--model",
      description =
          "ONNX causal LM whose vocabulary holds the 256 byte values (e.g. the one"
              + " scripts/make_gpt2_small_shape.py writes). Default: the bundled byte-level GPT.")
  Path model;

  @Option(
      names = "--reference-model",
      description =
          "The first version of the token-shift pair (the reference of the second, --model)."
              + " Default: the bundled base GPT when --model is not given, else --model itself.")
  Path referenceModel;

  @Option(
      names = "--max-seq-len",
      defaultValue = "128",
      description = "Context of the causal LM (stride: half of it). Default: ${DEFAULT-VALUE}.")
  int maxSeqLen;

  @Option(
      names = "--fixed-rows",
      defaultValue = "200",
      description =
          "Rows of the subset whose events time the fixed cost. Default: ${DEFAULT-VALUE}.")
  int fixedRows;

  @Option(
      names = "--events",
      defaultValue = "5",
      description =
          "Events timed for the fixed cost after the warm-up event (median). Default: ${DEFAULT-VALUE}.")
  int events;

  @Option(
      names = "--tokens",
      defaultValue = "300000",
      description =
          "Scored tokens of the causal-LM throughput subset (0: skip). Default: ${DEFAULT-VALUE}.")
  long tokens;

  @Option(
      names = "--sentences",
      defaultValue = "50000",
      description =
          "Sentences (two per pair) of the embedding throughput subset (0: skip). Default: ${DEFAULT-VALUE}.")
  int sentences;

  @Option(
      names = "--quick",
      description = "Small throughput subsets: 30,000 scored tokens and 4,000 sentences.")
  boolean quick;

  private static final int EMBEDDING_MAX_SEQ_LEN = 256;

  private final Storage storage = Storage.withDefaults();
  private MeterRegistry registry;
  private KafkaProducer<String, byte[]> producer;
  private KafkaConsumer<String, byte[]> observer;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-staging-to-flag"));
    if (quick) {
      tokens = Math.min(tokens, 30_000);
      sentences = Math.min(sentences, 4_000);
    }
    Path workDir = options.workDir.toAbsolutePath();
    Files.createDirectories(workDir);
    DemoAssets assets = new DemoAssets(workDir);
    ArtifactRef candidate =
        model != null
            ? ref(model)
            : assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED).onnx();
    ArtifactRef reference =
        referenceModel != null
            ? ref(referenceModel)
            : model != null
                ? candidate
                : assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE).onnx();
    Path archive = Files.createTempDirectory(workDir, "archive-");
    // Every row is scored (no early stop cuts a throughput run short), and the second version's
    // token shift is measured although a retrain's does not gate: its extra forward is timed.
    ObjectNode policy =
        (ObjectNode) Json.mapper().readTree(SequentialFleetBench.bundledPolicy(false));
    policy.put("token_shift", "always");
    Path policyFile = workDir.toAbsolutePath().resolve("policy-staging-to-flag.json");
    Files.writeString(policyFile, Json.mapper().writeValueAsString(policy));
    FleetConfig base =
        FleetConfig.defaults()
            .with(
                Map.of(
                    FleetConfig.INTRA_OP_THREADS.key(),
                    Integer.toString(options.threads),
                    FleetConfig.BATCH_SIZE.key(),
                    Integer.toString(options.batchSize),
                    FleetConfig.SHARD_ROWS.key(),
                    Integer.toString(options.shardRows),
                    FleetConfig.EXECUTION_PROVIDER.key(),
                    "cpu",
                    FleetConfig.ARCHIVE_ROOT.key(),
                    archive.toUri().toString(),
                    // Every event here is new weights: none may settle from archived scores.
                    FleetConfig.REUSE_SCORES.key(),
                    "false",
                    FleetConfig.RUN_DEADLINE.key(),
                    "PT2H",
                    FleetConfig.JOB_TIMEOUT.key(),
                    "PT30M",
                    FleetConfig.POLICY.key(),
                    policyFile.toString()));
    registry = new SimpleMeterRegistry();
    long[][] fixedTokens = PerplexityBench.textRows(fixedRows, new Random(42));
    SubsetRef fixedSubset = tokenSubset(workDir, "staging-fixed-" + fixedRows, fixedTokens);
    try (ModelSessions sessions =
            new ModelSessions(
                new ArtifactCache(storage, workDir.resolve("bare-cache"), Long.MAX_VALUE),
                options.threads);
        LocalFleet fleet = LocalFleet.start(base, 1, workDir.resolve("cache"), registry)) {
      FleetConfig config = fleet.config().with(Map.of("kafka.isolation.level", "read_committed"));
      producer = KafkaClients.producer(config, "bench-stager");
      observer = observer(config);
      try {
        fixedCost(sessions, candidate, fixedSubset, fixedTokens);
        if (tokens > 0) {
          causalThroughput(workDir, sessions, candidate, reference);
        }
        if (sentences > 0) {
          embeddingThroughput(workDir, assets);
        }
      } finally {
        observer.close();
        producer.close();
      }
    }
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // The fixed cost of an event

  private void fixedCost(
      ModelSessions sessions, ArtifactRef artifact, SubsetRef subset, long[][] rows)
      throws Exception {
    Bare bare = bare(sessions, artifact, rows);
    // The warm-up: the worker loads the model, the dispatcher's and broker's paths warm up.
    stage(causalEvent(unique("fixed-warm-up"), "v1", artifact, subset));
    bare.run(1);
    List<Observed> observed = new ArrayList<>();
    double[] bareSeconds = new double[events];
    for (int i = 0; i < events; i++) {
      bareSeconds[i] = bare.run(1);
      observed.add(stage(causalEvent(unique("fixed-" + i), "v1", artifact, subset)));
    }
    double bareMs = Rounds.median(bareSeconds) * 1000;
    System.out.printf(
        Locale.ROOT,
        "fixed cost: %d events of %d rows (%d windows, %d scored tokens, max_seq_len %d, stride %d,"
            + " %d batches of up to %d, %d intra-op threads), each a new model's first version on a"
            + " warm fleet (1 warm-up event excluded); %s%n",
        events,
        rows.length,
        bare.windows,
        bare.tokens,
        maxSeqLen,
        maxSeqLen / 2,
        bare.batches.size(),
        options.batchSize,
        options.threads,
        artifact.uri());
    System.out.printf(
        Locale.ROOT, "  %-58s %8s %8s %8s%n", "(ms, median of events)", "median", "min", "max");
    part(
        observed,
        "staged -> first job readable (pre-flight, planning, commits)",
        o -> o.firstJobMs);
    part(observed, "first job readable -> worker began scoring it", o -> o.pickUpMs());
    part(observed, "model loads during the event (count)", o -> o.modelLoads);
    part(observed, "model load time during the event", o -> o.modelLoadMs);
    part(observed, "scoring: worker's duration_ms, all jobs", o -> o.scoringMs);
    part(
        observed,
        "last result readable -> decided (flag decided_at)",
        o -> o.decidedMs - o.lastResultMs);
    part(observed, "  of which the decision itself (dispatcher meter)", o -> o.decisionMs);
    part(observed, "decided -> flag readable", o -> o.flagMs - o.decidedMs);
    part(observed, "staged -> flag readable (total)", o -> o.flagMs);
    System.out.printf(
        Locale.ROOT, "  %-58s %8.0f%n", "bare session.run loop on the same windows", bareMs);
    part(
        observed,
        "fixed cost: staged -> flag minus the worker's scoring",
        o -> o.flagMs - o.scoringMs);
    double[] fixed = observed.stream().mapToDouble(o -> o.flagMs - bareMs).toArray();
    System.out.printf(
        Locale.ROOT,
        "  %-58s %8.0f   (target <= 500 ms)%n",
        "fixed cost: staged -> flag minus the bare loop",
        Rounds.median(fixed));
    System.out.printf(
        Locale.ROOT,
        "  %-58s %8.3f%n",
        "ratio bare loop / staged -> flag",
        bareMs / Rounds.median(observed.stream().mapToDouble(o -> o.flagMs).toArray()));
  }

  private interface Part {
    double of(Observed o);
  }

  private static void part(List<Observed> observed, String name, Part part) {
    double[] values = observed.stream().mapToDouble(part::of).toArray();
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "  %-58s %8.0f %8.0f %8.0f%n",
        name,
        Rounds.median(values),
        sorted[0],
        sorted[sorted.length - 1]);
  }

  // ---------------------------------------------------------------------------------------------
  // Throughput

  private void causalThroughput(
      Path workDir, ModelSessions sessions, ArtifactRef candidate, ArtifactRef reference)
      throws Exception {
    long[][] rows = rowsFor(tokens);
    SubsetRef subset = tokenSubset(workDir, "staging-tokens-" + tokens, rows);
    Bare alone = bare(sessions, reference, rows);
    Bare second = bare(sessions, candidate, rows);
    String modelName = unique("throughput-causal");
    // The first version scores alone; the second has the first as its token-shift reference.
    double bareOne = alone.run(1);
    Observed first = stage(causalEvent(modelName, "v1", reference, subset));
    double bareTwo = alone.run(1) + second.run(1);
    Observed shifted = stage(causalEvent(modelName, "v2", candidate, subset));
    if (!shifted.withReference) {
      throw new IllegalStateException(
          "the second version's jobs carried no token-shift reference: " + shifted.flag.reasons());
    }
    System.out.printf(
        Locale.ROOT,
        "causal LM throughput: %d rows, %d windows, %d scored tokens (max_seq_len %d), %d jobs"
            + " per version%n",
        rows.length,
        alone.windows,
        alone.tokens,
        maxSeqLen,
        first.jobs);
    throughputLine(
        "bare session.run loop, one model", alone.tokens, bareOne, "scored tokens/s", null);
    throughputLine(
        "staged -> flag, first version (model alone)",
        alone.tokens,
        first.flagMs / 1000.0,
        "scored tokens/s",
        bareOne);
    throughputLine(
        "bare session.run loops, two models", alone.tokens, bareTwo, "scored tokens/s", null);
    throughputLine(
        "staged -> flag, second version (+ token-shift reference)",
        alone.tokens,
        shifted.flagMs / 1000.0,
        "scored tokens/s",
        bareTwo);
    System.out.printf(
        Locale.ROOT,
        "  %-58s %8.2f   (the reference's extra forward)%n",
        "second version / first version, staged -> flag",
        shifted.flagMs / first.flagMs);
  }

  private void embeddingThroughput(Path workDir, DemoAssets assets) throws Exception {
    DemoAssets.ModelFiles minilm = assets.model(DemoAssets.Model.MINILM_FP32);
    List<GoldenSubsetWriter.Pair> source = DemoAssets.readPairs();
    List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>();
    while (pairs.size() * 2 < sentences) {
      GoldenSubsetWriter.Pair pair = source.get(pairs.size() % source.size());
      pairs.add(new GoldenSubsetWriter.Pair(pairs.size(), pair.textA(), pair.textB(), pair.gold()));
    }
    List<String> texts = new ArrayList<>();
    for (GoldenSubsetWriter.Pair pair : pairs) {
      texts.add(pair.textA());
      texts.add(pair.textB());
    }
    SubsetRef subset = pairSubset(workDir, "staging-pairs-" + pairs.size(), pairs);
    SubsetRef warmUp = pairSubset(workDir, "staging-pairs-warm-up", source);
    try (WorkerBench.BareLoop loop =
        new WorkerBench.BareLoop(
            Path.of(URI.create(minilm.onnx().uri())),
            Path.of(URI.create(minilm.tokenizer().uri())),
            options.threads,
            options.batchSize)) {
      stage(embeddingEvent(unique("throughput-embedding-warm-up"), minilm, warmUp));
      loop.run(texts.subList(0, Math.min(texts.size(), 480)));
      long start = System.nanoTime();
      loop.run(texts);
      double bareSeconds = (System.nanoTime() - start) / 1e9;
      Observed fleet = stage(embeddingEvent(unique("throughput-embedding"), minilm, subset));
      System.out.printf(
          Locale.ROOT,
          "embedding throughput: all-MiniLM-L6-v2 fp32, %d pairs (%d sentences), %d jobs, batch %d%n",
          pairs.size(),
          texts.size(),
          fleet.jobs,
          options.batchSize);
      throughputLine(
          "bare loop (tokenise + session.run)", texts.size(), bareSeconds, "sentences/s", null);
      throughputLine(
          "staged -> flag", texts.size(), fleet.flagMs / 1000.0, "sentences/s", bareSeconds);
    }
  }

  private static void throughputLine(
      String name, long units, double seconds, String unit, Double bareSeconds) {
    System.out.printf(
        Locale.ROOT,
        "  %-58s %8.0f %s  (%.2f s)%s%n",
        name,
        units / seconds,
        unit,
        seconds,
        bareSeconds == null
            ? ""
            : String.format(Locale.ROOT, "   ratio to bare %.3f", bareSeconds / seconds));
  }

  /** Rows of English text until their windows score at least {@code target} tokens. */
  private long[][] rowsFor(long target) throws IOException {
    long[][] pool = PerplexityBench.textRows((int) Math.max(16, target / 16), new Random(43));
    long scored = 0;
    int n = 0;
    while (n < pool.length && scored < target) {
      scored +=
          Windows.plan(n, pool[n].length, maxSeqLen, maxSeqLen / 2).stream()
              .mapToLong(Window::scored)
              .sum();
      n++;
    }
    return Arrays.copyOf(pool, n);
  }

  // ---------------------------------------------------------------------------------------------
  // The bare loop

  /** A bare forward loop over the rows' windows, batched as a worker batches them. */
  private final class Bare {
    final NllForward forward;
    final LoadedModel loaded;
    final long[][] rows;
    final List<List<Window>> batches;
    final int windows;
    final long tokens;

    Bare(NllForward forward, LoadedModel loaded, long[][] rows, List<Window> all, long vocabulary) {
      this.forward = forward;
      this.loaded = loaded;
      this.rows = rows;
      this.windows = all.size();
      this.tokens = all.stream().mapToLong(Window::scored).sum();
      this.batches =
          LengthBatches.plan(
              all,
              options.batchSize,
              CausalLmScorer.tokenSlots(
                  options.batchSize,
                  maxSeqLen,
                  vocabulary,
                  FleetConfig.defaults().get(FleetConfig.LOGITS_BUDGET)));
    }

    /** Seconds of one pass (the median of {@code passes}). */
    double run(int passes) throws Exception {
      double[] seconds = new double[passes];
      for (int p = 0; p < passes; p++) {
        long start = System.nanoTime();
        for (List<Window> batch : batches) {
          forward.forwardOnly(loaded, batch, rows);
        }
        seconds[p] = (System.nanoTime() - start) / 1e9;
      }
      return Rounds.median(seconds);
    }
  }

  private Bare bare(ModelSessions sessions, ArtifactRef artifact, long[][] rows) throws Exception {
    LoadedModel loaded = sessions.lease(artifact).model();
    long vocabulary = NllForward.checkSignature(loaded);
    List<Window> windows = new ArrayList<>();
    for (int r = 0; r < rows.length; r++) {
      windows.addAll(Windows.plan(r, rows[r].length, maxSeqLen, maxSeqLen / 2));
    }
    return new Bare(
        new NllForward(sessions.environment(), sessions::nllHead),
        loaded,
        rows,
        windows,
        vocabulary);
  }

  // ---------------------------------------------------------------------------------------------
  // Staging and observing

  /** What was seen of one event, in milliseconds from its send. */
  private static final class Observed {
    double firstJobMs = Double.NaN;
    double firstResultMs = Double.NaN;
    double firstResultScoringMs;
    double lastResultMs = Double.NaN;
    double decidedMs;
    double flagMs;
    double scoringMs;
    double decisionMs;
    double modelLoads;
    double modelLoadMs;
    int jobs;
    boolean withReference;
    DriftFlag flag;

    /** From the first job readable to the start of its scoring (as its duration_ms places it). */
    double pickUpMs() {
      return firstResultMs - firstResultScoringMs - firstJobMs;
    }
  }

  /** A read-committed reader of every partition of the topics an event passes, at their end. */
  private static KafkaConsumer<String, byte[]> observer(FleetConfig config) {
    KafkaConsumer<String, byte[]> reader = KafkaClients.reader(config, "bench-observer");
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : List.of(Topics.JOBS, Topics.RESULTS, Topics.DRIFT_FLAGS)) {
      reader.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition()))
          .forEach(partitions::add);
    }
    reader.assign(partitions);
    reader.seekToEnd(partitions);
    partitions.forEach(reader::position);
    return reader;
  }

  /**
   * Publishes the event with a plain producer and follows it through the topics until its flag is
   * readable.
   *
   * @throws IllegalStateException when no flag comes within two hours, or the flag is ERROR or
   *     INCOMPLETE
   */
  private Observed stage(StagedWeightEvent event) throws Exception {
    Meters before = Meters.of(registry);
    Observed o = new Observed();
    Instant sentAt = Instant.now();
    long sent = System.nanoTime();
    producer.send(new ProducerRecord<>(Topics.STAGED, event.model(), Json.write(event))).get();
    String runId = null;
    List<Seen> results = new ArrayList<>();
    long deadline = sent + TimeUnit.HOURS.toNanos(2);
    while (o.flag == null) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no flag for " + event.eventId() + " within two hours");
      }
      for (ConsumerRecord<String, byte[]> record : observer.poll(Duration.ofMillis(2))) {
        double at = (System.nanoTime() - sent) / 1e6;
        switch (record.topic()) {
          case Topics.JOBS -> {
            ScoringJob job = Json.read(record.value(), ScoringJob.class);
            if (event.eventId().equals(job.eventId())) {
              runId = job.runId();
              o.jobs++;
              o.withReference |= job.reference() != null;
              if (Double.isNaN(o.firstJobMs)) {
                o.firstJobMs = at;
              }
            }
          }
          case Topics.RESULTS -> {
            results.add(new Seen(Json.read(record.value(), ShardResult.class), at));
          }
          case Topics.DRIFT_FLAGS -> {
            DriftFlag flag = Json.read(record.value(), DriftFlag.class);
            if (event.eventId().equals(flag.eventId())) {
              o.flag = flag;
              o.flagMs = at;
            }
          }
          default -> {}
        }
      }
    }
    if (o.flag.flag() == Flag.ERROR || o.flag.flag() == Flag.INCOMPLETE) {
      throw new IllegalStateException(
          event.model()
              + " "
              + event.version()
              + " ended "
              + o.flag.flag()
              + ": "
              + o.flag.reasons());
    }
    for (Seen seen : results) {
      ShardResult result = seen.result();
      if (!result.runId().equals(runId)) {
        continue;
      }
      if (result.failed()) {
        throw new IllegalStateException(
            "job " + result.jobId() + " failed: " + result.error().message());
      }
      double at = seen.at();
      if (Double.isNaN(o.firstResultMs)) {
        o.firstResultMs = at;
        o.firstResultScoringMs = result.durationMs();
      }
      o.lastResultMs = at;
      o.scoringMs += result.durationMs();
    }
    o.decidedMs =
        o.flag.decidedAt() == null
            ? Double.NaN
            : Duration.between(sentAt, o.flag.decidedAt()).toNanos() / 1e6;
    Meters after = Meters.of(registry);
    o.decisionMs = after.decisionMs - before.decisionMs;
    o.modelLoads = after.loads - before.loads;
    o.modelLoadMs = after.loadMs - before.loadMs;
    return o;
  }

  /** A result and when it became readable, in milliseconds from its event's send. */
  private record Seen(ShardResult result, double at) {}

  /** The meters an event moves, summed over their tags. */
  private record Meters(double loads, double loadMs, double decisionMs) {
    static Meters of(MeterRegistry registry) {
      double loads = 0;
      double loadMs = 0;
      for (Timer timer : registry.find(FleetMeter.MODEL_LOADS.meterName()).timers()) {
        loads += timer.count();
        loadMs += timer.totalTime(TimeUnit.MILLISECONDS);
      }
      double decisionMs = 0;
      for (Timer timer : registry.find(FleetMeter.DECISION_DURATION.meterName()).timers()) {
        decisionMs += timer.totalTime(TimeUnit.MILLISECONDS);
      }
      return new Meters(loads, loadMs, decisionMs);
    }
  }

  /** A model name of its own: each event here starts a new model unless it says otherwise. */
  private static String unique(String name) {
    return name + "-" + Long.toString(System.nanoTime(), 36);
  }

  private StagedWeightEvent causalEvent(
      String modelName, String version, ArtifactRef artifact, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId("bench-" + modelName + "-" + version)
        .model(modelName)
        .version(version)
        .task(Task.CAUSAL_LM)
        .artifact(artifact)
        .goldenSubset(subset)
        .maxSeqLen(maxSeqLen)
        .stride(maxSeqLen / 2)
        .createdAt(Instant.now())
        .build();
  }

  private static StagedWeightEvent embeddingEvent(
      String modelName, DemoAssets.ModelFiles files, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId("bench-" + modelName + "-v1")
        .model(modelName)
        .version("v1")
        .task(Task.EMBEDDING)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .maxSeqLen(EMBEDDING_MAX_SEQ_LEN)
        .createdAt(Instant.now())
        .build();
  }

  private SubsetRef tokenSubset(Path workDir, String name, long[][] rows) throws IOException {
    List<int[]> asInts = new ArrayList<>();
    for (long[] row : rows) {
      asInts.add(Arrays.stream(row).mapToInt(v -> (int) v).toArray());
    }
    Path file = workDir.resolve("golden").resolve(name + ".parquet");
    Files.createDirectories(file.getParent());
    Files.deleteIfExists(file);
    GoldenSubsetWriter.writeTokenIds(
        new org.apache.hadoop.fs.Path(file.toUri()), asInts, 64 * 1024);
    String uri = file.toUri().toString();
    return new SubsetRef(uri, storage.sha256(uri), null, Map.of());
  }

  private SubsetRef pairSubset(Path workDir, String name, List<GoldenSubsetWriter.Pair> pairs)
      throws IOException {
    Path file = workDir.resolve("golden").resolve(name + ".parquet");
    Files.createDirectories(file.getParent());
    Files.deleteIfExists(file);
    // Row groups of about one job each, as in `bench worker`.
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(file.toUri()), pairs, 6 * 1024);
    String uri = file.toUri().toString();
    return new SubsetRef(uri, storage.sha256(uri), null, Map.of());
  }

  private ArtifactRef ref(Path file) throws IOException {
    String uri = file.toAbsolutePath().normalize().toUri().toString();
    return new ArtifactRef(uri, storage.sha256(uri));
  }
}
