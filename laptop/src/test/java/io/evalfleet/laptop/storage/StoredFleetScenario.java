package io.evalfleet.laptop.storage;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.demo.SupportTraffic;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.monitor.MonitorRole;
import io.evalfleet.monitor.MonitorSpec;
import io.evalfleet.notifier.ReviewPublisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * The fleet with every file it touches on one store: the ONNX models and their tokenizers, the
 * golden subsets, the evaluation archive (with a retrieval run's embeddings, reused scores and the
 * notifier's reviews in it) and a monitor's traffic log. On a real broker it stages an embedding
 * model, its int8 quantisation and the same fp32 weights again (their scores read back from the
 * archive), a byte-level causal LM (with the deployable's {@code evalfleet inspect} and {@code
 * evalfleet submit}, given the store's settings) and a retrieval model, checks one monitor window,
 * and returns what it saw, so that the same scenario on two stores can be compared value for value.
 * Only the store's input folders are allowed roots (with the archive).
 */
public final class StoredFleetScenario {
  static final Duration WAIT = Duration.ofMinutes(2);
  static final Instant TRAFFIC_START = Instant.parse("2026-11-01T00:00:00Z");

  /** Staged runs, by the name of the step that staged them. */
  public static final String EMBEDDING_FP32 = "embedding-fp32";

  public static final String EMBEDDING_INT8 = "embedding-int8";

  /** The fp32 model again under another version: its scores are read back from the archive. */
  public static final String EMBEDDING_FP32_AGAIN = "embedding-fp32-again";

  public static final String CAUSAL_LM = "causal-lm";
  public static final String RETRIEVAL = "retrieval";

  /** Traffic log hours: six of reference, one before the shift, one after it. */
  static final int TRAFFIC_HOURS = 8;

  static final int SHIFT_HOUR = 7;

  /** The local files every store gets a copy of, made once. */
  public record Inputs(
      DemoAssets.ModelFiles fp32,
      DemoAssets.ModelFiles int8,
      DemoAssets.ModelFiles causal,
      SubsetRef pairs,
      SubsetRef heldout,
      SubsetRef retrieval,
      Path traffic) {

    /** Writes the inputs under {@code dir}. */
    public static Inputs make(Path dir) throws IOException {
      DemoAssets assets = new DemoAssets(dir);
      Path pairs = dir.resolve("golden").resolve("sts-pairs-48.parquet");
      Files.createDirectories(pairs.getParent());
      // 48 pairs in row groups of about 1 KB: several ranged reads per shard.
      GoldenSubsetWriter.writePairs(
          new org.apache.hadoop.fs.Path(pairs.toUri()),
          DemoAssets.readPairs().subList(0, 48),
          1024);
      String pairsUri = pairs.toUri().toString();
      return new Inputs(
          assets.model(DemoAssets.Model.MINILM_FP32),
          assets.model(DemoAssets.Model.MINILM_INT8),
          assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE),
          new SubsetRef(
              pairsUri, Storage.withDefaults().sha256(pairsUri), "sts-pairs-48", Map.of()),
          assets.heldoutText(),
          assets.retrievalSubset(),
          Path.of(
              java.net.URI.create(
                  SupportTraffic.write(
                      dir.resolve("traffic"), TRAFFIC_START, TRAFFIC_HOURS, SHIFT_HOUR, 3))));
    }
  }

  /**
   * What the scenario saw on one store.
   *
   * @param flags each staged run's flag, by step
   * @param monitor the monitor's result for the window after the shift
   * @param archiveRoot the archive's URI on the store
   * @param archived every file under the archive root, relative to it, as the store lists them
   * @param elapsed how long the scenario took on this store, fleet start and stop included
   */
  public record Observed(
      LinkedHashMap<String, DriftFlag> flags,
      MonitorResult monitor,
      String archiveRoot,
      List<String> archived,
      Duration elapsed) {

    /**
     * Each flag and the monitor result as JSON, without what differs between two runs of the same
     * evaluation (ids, times, durations) and with the store's locations (each of {@code
     * storeRoots}, as a prefix) written as {@code <store>/}: two stores that served the same bytes
     * give the same text, every double to its last digit.
     */
    public Map<String, String> comparable(List<String> storeRoots) {
      Map<String, String> out = new LinkedHashMap<>();
      flags.forEach(
          (step, flag) ->
              out.put(
                  step,
                  comparable(
                      Json.mapper().valueToTree(flag),
                      storeRoots,
                      "run_id",
                      "event_id",
                      "staged_at",
                      "decided_at",
                      "duration_ms")));
      out.put(
          "monitor", comparable(Json.mapper().valueToTree(monitor), storeRoots, "evaluated_at"));
      return out;
    }

    /**
     * The archive's files, with the time a baseline was recorded (the start of its file name) left
     * out.
     */
    public List<String> comparableArchive() {
      return archived.stream()
          .map(f -> f.replaceFirst("^(baselines/[^/]+/)[0-9]+-", "$1<recorded-at>-"))
          .toList();
    }

    private static String comparable(JsonNode node, List<String> storeRoots, String... varying) {
      ObjectNode object = (ObjectNode) node;
      object.remove(List.of(varying));
      relocate(object, storeRoots);
      return object.toPrettyString();
    }

    /** Every text that names a place on the store names it as {@code <store>/...} instead. */
    private static void relocate(JsonNode node, List<String> storeRoots) {
      if (node instanceof ObjectNode object) {
        Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> field = fields.next();
          if (field.getValue().isTextual()) {
            field.setValue(new TextNode(relocate(field.getValue().textValue(), storeRoots)));
          } else {
            relocate(field.getValue(), storeRoots);
          }
        }
      } else if (node.isArray()) {
        for (int i = 0; i < node.size(); i++) {
          JsonNode item = node.get(i);
          if (item.isTextual()) {
            ((com.fasterxml.jackson.databind.node.ArrayNode) node)
                .set(i, new TextNode(relocate(item.textValue(), storeRoots)));
          } else {
            relocate(item, storeRoots);
          }
        }
      }
    }

    private static String relocate(String text, List<String> storeRoots) {
      for (String root : storeRoots) {
        text = text.replace(root, "<store>/");
      }
      return text;
    }
  }

  private final FileStore store;
  private final Inputs inputs;
  private final Path work;

  /**
   * @param work a local folder of this run's own: the fleet's model cache and broker state
   */
  public StoredFleetScenario(FileStore store, Inputs inputs, Path work) {
    this.store = store;
    this.inputs = inputs;
    this.work = work;
  }

  /** Puts the inputs on the store, runs the fleet and the monitor on them, and stops the fleet. */
  public Observed run() throws Exception {
    long start = System.nanoTime();
    DemoAssets.ModelFiles fp32 = put(inputs.fp32(), "models/minilm-fp32");
    DemoAssets.ModelFiles int8 = put(inputs.int8(), "models/minilm-int8");
    DemoAssets.ModelFiles causal = put(inputs.causal(), "models/bytegpt-base");
    SubsetRef pairs = put(inputs.pairs(), "golden/sts-pairs-48.parquet");
    SubsetRef heldout = put(inputs.heldout(), "golden/heldout-text-v1.parquet");
    SubsetRef retrieval = put(inputs.retrieval(), "golden/sts-retrieval-v1.parquet");
    String traffic = store.put(inputs.traffic(), "traffic");
    String archiveRoot = store.uri("archive");

    Map<String, String> settings = new LinkedHashMap<>(store.settings());
    settings.put(FleetConfig.ARCHIVE_ROOT.key(), archiveRoot);
    settings.put(
        FleetConfig.ALLOWED_ROOTS.key(),
        String.join(",", store.uri("models"), store.uri("golden"), store.uri("traffic")));
    settings.put(FleetConfig.SHARD_ROWS.key(), "32");
    settings.put(FleetConfig.INTRA_OP_THREADS.key(), "1");
    settings.put(FleetConfig.MAX_IN_FLIGHT_PER_RUN.key(), "2");
    LinkedHashMap<String, DriftFlag> flags = new LinkedHashMap<>();
    MonitorResult monitored;
    List<String> archived;
    try (LocalFleet fleet =
            LocalFleet.start(
                FleetConfig.defaults().with(settings),
                1,
                work.resolve("cache"),
                new SimpleMeterRegistry(),
                true);
        FlagWatcher watcher = new FlagWatcher(fleet.config(), true);
        Submitter submitter = new Submitter(fleet.config())) {
      Stager stage = new Stager(submitter, watcher);
      flags.put(
          EMBEDDING_FP32,
          stage.await(
              event("stored-embedder", "fp32", Task.EMBEDDING, fp32, pairs)
                  .quantizationBits(32)
                  .build()));
      flags.put(
          EMBEDDING_INT8,
          stage.await(
              event("stored-embedder", "int8", Task.EMBEDDING, int8, pairs)
                  .quantizationBits(8)
                  .build()));
      flags.put(
          EMBEDDING_FP32_AGAIN,
          stage.await(
              event("stored-embedder", "fp32-again", Task.EMBEDDING, fp32, pairs)
                  .quantizationBits(32)
                  .build()));
      // Staged as a pipeline stages it: the deployable's submit, which reads the files' digests;
      // and looked at as a person looks at a model: the deployable's inspect, which runs it.
      runTheCommandLine(
          fleet.config(),
          "submit",
          "--event-id=stored-lm-base",
          "--model=stored-lm",
          "--version=base",
          "--task=causal-lm",
          "--artifact=" + causal.onnx().uri(),
          "--tokenizer=" + causal.tokenizer().uri(),
          "--subset=" + heldout.uri(),
          "--max-seq-len=" + DemoAssets.CAUSAL_CONTEXT,
          "--stride=" + DemoAssets.CAUSAL_CONTEXT / 2);
      runTheCommandLine(
          fleet.config(),
          "inspect",
          causal.onnx().uri(),
          "--tokenizer=" + causal.tokenizer().uri(),
          "--max-seq-len=" + DemoAssets.CAUSAL_CONTEXT);
      flags.put(CAUSAL_LM, watcher.await("stored-lm-base", WAIT));
      flags.put(
          RETRIEVAL,
          stage.await(
              event("stored-search", "fp32", Task.RETRIEVAL, fp32, retrieval)
                  .quantizationBits(32)
                  .build()));
      try (MonitorRole monitor =
          new MonitorRole(
              fleet.config(),
              monitorSpec(fp32, traffic),
              work.resolve("monitor-cache"),
              new SimpleMeterRegistry(),
              Clock.systemUTC())) {
        monitored = monitor.checkAt(TRAFFIC_START.plus(Duration.ofHours(TRAFFIC_HOURS)));
      }
      Storage storage = Storage.of(fleet.config());
      EvaluationArchive archive = new EvaluationArchive(storage, archiveRoot);
      // The notifier writes each flag's review into the archive after the flag: its comment last.
      await("a review in the archive for each flag")
          .atMost(WAIT)
          .until(
              () -> {
                for (DriftFlag flag : flags.values()) {
                  if (archive
                      .reportFile(flag.model(), flag.version(), ReviewPublisher.COMMENT)
                      .isEmpty()) {
                    return false;
                  }
                }
                return true;
              });
      archived = list(storage, archiveRoot);
    }
    return new Observed(
        flags, monitored, archiveRoot, archived, Duration.ofNanos(System.nanoTime() - start));
  }

  /** The operators' artifact, built by the cli module. */
  static final Path DEPLOYABLE = Path.of("..", "cli", "target").toAbsolutePath().normalize();

  /**
   * Runs {@code evalfleet <command> <args>} in its own JVM against the fleet, with the store's
   * settings in a {@code --config} file (they may hold its keys, which no command line may); fails
   * with its output when it does not exit 0.
   */
  private void runTheCommandLine(FleetConfig fleet, String name, String... args) throws Exception {
    Path log = work.resolve(name + ".log");
    Path output = work.resolve(name + ".out");
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                DEPLOYABLE.resolve("evalfleet.jar")
                    + java.io.File.pathSeparator
                    + DEPLOYABLE.resolve("lib")
                    + "/*",
                "io.evalfleet.cli.Evalfleet",
                name,
                "-b",
                fleet.get(FleetConfig.BOOTSTRAP_SERVERS),
                "--log-file",
                log.toString()));
    java.util.Properties settings = new java.util.Properties();
    settings.putAll(store.settings());
    Path settingsFile = work.resolve(name + ".properties");
    try (var writer = Files.newBufferedWriter(settingsFile)) {
      settings.store(writer, "the store's settings");
    }
    command.addAll(List.of("--config", settingsFile.toString()));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    if (!process.waitFor(2, java.util.concurrent.TimeUnit.MINUTES) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "evalfleet "
              + name
              + " on "
              + store.scheme()
              + " did not succeed: "
              + Files.readString(output)
              + "\nlog: "
              + (Files.exists(log) ? Files.readString(log) : "(none)"));
    }
  }

  /** Hourly windows of the support traffic, against its first six hours. */
  static MonitorSpec monitorSpec(DemoAssets.ModelFiles model, String traffic) {
    MonitorSpec spec =
        MonitorSpec.builder()
            .model("stored-support-embedder")
            .version("prod-1")
            .artifact(model.onnx())
            .tokenizer(model.tokenizer())
            .traffic(new MonitorSpec.Traffic(traffic, "message", "ts"))
            .window(Duration.ofHours(1))
            .sample(40)
            .referenceStart(TRAFFIC_START)
            .referenceEnd(TRAFFIC_START.plus(Duration.ofHours(6)))
            .interval(Duration.ofHours(1))
            .alpha(0.05)
            .permutations(199)
            .seed(7)
            .build();
    if (!spec.problems().isEmpty()) {
      throw new IllegalStateException("monitor spec: " + spec.problems());
    }
    return spec;
  }

  private static StagedWeightEvent.Builder event(
      String model, String version, Task task, DemoAssets.ModelFiles files, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId(model + "-" + version)
        .model(model)
        .version(version)
        .task(task)
        .artifact(files.onnx())
        .tokenizer(files.tokenizer())
        .goldenSubset(subset)
        .createdAt(Instant.now());
  }

  /** Submits one event at a time and waits for its flag. */
  private record Stager(Submitter submitter, FlagWatcher watcher) {
    DriftFlag await(StagedWeightEvent event) throws Exception {
      submitter.submit(event);
      return watcher.await(event.eventId(), WAIT);
    }
  }

  private DemoAssets.ModelFiles put(DemoAssets.ModelFiles local, String folder) throws IOException {
    return new DemoAssets.ModelFiles(
        put(local.onnx(), folder + "/model.onnx"),
        put(local.tokenizer(), folder + "/tokenizer.json"));
  }

  private ArtifactRef put(ArtifactRef local, String name) throws IOException {
    return new ArtifactRef(store.put(localPath(local.uri()), name), local.sha256());
  }

  private SubsetRef put(SubsetRef local, String name) throws IOException {
    return new SubsetRef(
        store.put(localPath(local.uri()), name), local.sha256(), local.version(), Map.of());
  }

  private static Path localPath(String uri) {
    return Path.of(java.net.URI.create(uri));
  }

  /** Every file under {@code root}, relative to it, sorted, as the store lists them. */
  static List<String> list(Storage storage, String root) throws IOException {
    return list(Storage.path(root).getFileSystem(storage.conf()), root);
  }

  /** Every file under {@code root} on {@code fs}, relative to it, sorted. */
  static List<String> list(FileSystem fs, String root) throws IOException {
    org.apache.hadoop.fs.Path dir = Storage.path(root);
    String prefix = fs.makeQualified(dir).toUri().getPath();
    List<String> files = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
    while (it.hasNext()) {
      String path = it.next().getPath().toUri().getPath();
      files.add(path.substring(prefix.length() + (prefix.endsWith("/") ? 0 : 1)));
    }
    files.sort(null);
    return files;
  }
}
