package io.evalfleet.cli;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.NoiseFloorRecord;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.model.SentenceTransformersFolder;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.decision.MetricVector;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.floor.NoiseFloorMeter;
import io.evalfleet.scoring.floor.NoiseFloorMeter.Measurement;
import io.evalfleet.scoring.floor.NoiseFloorMeter.Run;
import io.evalfleet.scoring.floor.NoiseFloorMeter.Setup;
import io.evalfleet.scoring.model.ExecutionProvider;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "noise-floor",
    header =
        "Measures how far one model's scores move between scoring envelopes (its A/A noise floor).",
    description = {
      "Score the same model on the same golden rows under every combination of the given batch sizes, intra-op threads, deterministic compute and execution providers, locally through the worker's own scorers (no Kafka), and show how far the values spread: per metric max − min (and relative to the first setup's value), per per-row value the largest and the 99th-percentile |Δ| of a row against the first setup. Embedding models run in padded batches of each batch size, even one a worker runs one text at a time, so the floor shows what batching does to the model.",
      "Each hardware profile's floor is archived under archive.root as noise-floor/<model sha256>/<profile>.json; the dispatcher then widens (or refuses, as the policy's noise_floor section says) a comparison whose candidate and baseline were scored under different envelopes, and warns when a policy margin lies below the floor. A provider this build or machine lacks is skipped, saying so. Exits 2 on bad input, 3 when fewer than two setups could run."
    })
final class NoiseFloorCommand implements Callable<Integer> {
  @Mixin InteractiveLogging logging;

  @Mixin ConfigOptions config;

  @Parameters(
      index = "0",
      paramLabel = "MODEL",
      description =
          "The ONNX file (a path or a storage URI), or a model folder (model.onnx or onnx/model.onnx in it).")
  String model;

  @Option(
      names = "--tokenizer",
      paramLabel = "FILE",
      description =
          "The model's tokenizer.json. Default: tokenizer.json in the model's folder, when the model is given as a folder.")
  String tokenizer;

  @Option(
      names = "--subset",
      required = true,
      paramLabel = "PARQUET",
      description =
          "The golden subset (a path or a storage URI) in the task's layout: text_a, text_b (and gold) for embedding, text or token_ids for causal-lm.")
  String subset;

  @Option(
      names = "--rows",
      paramLabel = "N",
      description = "Score only the subset's first N rows. Default: all of them.")
  Integer rows;

  @Option(
      names = "--task",
      converter = SubmitCommand.TaskConverter.class,
      description = "embedding or causal-lm. Default: embedding.")
  Task task = Task.EMBEDDING;

  @Option(
      names = "--max-seq-len",
      paramLabel = "N",
      description =
          "Tokens per text (embedding) or window (causal-lm). Default: 256 for embedding, 64 for causal-lm.")
  Integer maxSeqLen;

  @Option(
      names = "--batch-sizes",
      split = ",",
      paramLabel = "N",
      description = "Batch sizes to score with. Default: 1,8,32.")
  List<Integer> batchSizes = List.of(1, 8, 32);

  @Option(
      names = "--threads",
      split = ",",
      paramLabel = "N",
      description = "ONNX Runtime intra-op thread counts to score with. Default: 1,2.")
  List<Integer> threads = List.of(1, 2);

  @Option(
      names = "--deterministic",
      arity = "1",
      split = ",",
      paramLabel = "off|on",
      converter = OnOff.class,
      description = "Deterministic compute settings to score with. Default: off,on.")
  List<Boolean> deterministic = List.of(false, true);

  @Option(
      names = "--providers",
      split = ",",
      paramLabel = "cpu|cuda",
      converter = ProviderConverter.class,
      description =
          "Execution providers to score with; one this build or machine lacks is skipped. Default: cpu,cuda.")
  List<ExecutionProvider> providers = List.of(ExecutionProvider.CPU, ExecutionProvider.CUDA);

  @Option(
      names = "--name",
      paramLabel = "MODEL_NAME",
      description = "The model's name, kept in the archived floor. Default: none.")
  String name;

  @Option(names = "--dry-run", description = "Show the floor without archiving it.")
  boolean dryRun;

  /** {@code off} or {@code on}. */
  static final class OnOff implements picocli.CommandLine.ITypeConverter<Boolean> {
    @Override
    public Boolean convert(String value) {
      return switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "on", "true" -> true;
        case "off", "false" -> false;
        default ->
            throw new picocli.CommandLine.TypeConversionException(
                "expected off or on, got '" + value + "'");
      };
    }
  }

  /** {@code cpu} or {@code cuda}. */
  static final class ProviderConverter
      implements picocli.CommandLine.ITypeConverter<ExecutionProvider> {
    @Override
    public ExecutionProvider convert(String value) {
      ExecutionProvider provider = ExecutionProvider.parse(value);
      if (provider == ExecutionProvider.AUTO) {
        throw new picocli.CommandLine.TypeConversionException(
            "name cpu or cuda: auto would measure whichever one this machine has");
      }
      return provider;
    }
  }

  @Override
  public Integer call() throws Exception {
    System.err.println("full log: " + logging.apply("noise-floor"));
    FleetConfig loaded = config.load();
    Storage storage = Storage.of(loaded);
    if (task != Task.EMBEDDING && task != Task.CAUSAL_LM) {
      throw CommandFailure.badInput(
          "noise-floor measures embedding and causal-lm models, not " + task.wireName());
    }
    for (List<Integer> values : List.of(batchSizes, threads)) {
      if (values.isEmpty() || values.stream().anyMatch(v -> v < 1)) {
        throw CommandFailure.badInput(
            "--batch-sizes and --threads need positive numbers, got " + values);
      }
    }
    ArtifactRef modelRef;
    ArtifactRef tokenizerRef;
    SubsetRef subsetRef;
    long subsetRows;
    String modelLocation = model;
    String tokenizerLocation = tokenizer;
    try {
      Path local = InspectCommand.localPath(model);
      if (local != null) {
        Path file = SentenceTransformersFolder.modelFile(local);
        modelLocation = file.toString();
        Path beside = file.toAbsolutePath().getParent().resolve("tokenizer.json");
        if (tokenizerLocation == null && Files.isDirectory(local) && Files.isRegularFile(beside)) {
          tokenizerLocation = beside.toString();
        }
      }
      modelRef = ref(storage, modelLocation);
      tokenizerRef = tokenizerLocation == null ? null : ref(storage, tokenizerLocation);
      String subsetUri = uri(subset);
      subsetRows = GoldenSubsetFile.readFooter(storage, subsetUri).rowCount();
      subsetRef = new SubsetRef(subsetUri, storage.sha256(subsetUri), "noise-floor", Map.of());
    } catch (IOException e) {
      if (Failures.isMissingFile(e)) {
        throw CommandFailure.badInput(CommandErrors.messageOf(e));
      }
      throw CommandFailure.badInput("cannot read " + e.getMessage());
    }
    if (tokenizerRef == null) {
      throw CommandFailure.badInput(
          "no tokenizer: give --tokenizer, or the model as a folder holding tokenizer.json");
    }
    if (subsetRows == 0) {
      throw CommandFailure.badInput("golden subset " + subset + " has no rows");
    }
    int count = (int) Math.min(rows == null ? subsetRows : rows, subsetRows);
    if (count < 1) {
      throw CommandFailure.badInput("--rows must be positive, got " + rows);
    }
    ScoringJob job = job(modelRef, tokenizerRef, subsetRef, count);
    List<Setup> setups = Setup.grid(providers, batchSizes, threads, deterministic);
    Path cache = Files.createTempDirectory("evalfleet-noise-floor-");
    Measurement measurement;
    try {
      measurement =
          new NoiseFloorMeter(
                  storage,
                  cache,
                  values -> MetricVector.of(task, values, count).metrics(),
                  loaded.get(FleetConfig.MAX_SEQ_LEN),
                  Clock.systemUTC())
              .measure(name, job, setups);
    } catch (ScoringException e) {
      throw CommandFailure.badInput(e.getMessage());
    } finally {
      try (var files = Files.walk(cache)) {
        for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      }
    }
    PrintStream out = System.out;
    out.println("model: " + modelLocation + " (sha256 " + modelRef.sha256().substring(0, 12) + ")");
    out.println("golden subset: " + subset + ", " + count + " rows, task " + task.wireName());
    print(out, measurement);
    if (measurement.runs().size() < 2) {
      out.println("fewer than two setups could run: no floor measured");
      return ExitCode.UNAVAILABLE;
    }
    if (!dryRun) {
      EvaluationArchive archive =
          new EvaluationArchive(storage, loaded.get(FleetConfig.ARCHIVE_ROOT));
      for (NoiseFloorRecord floor : measurement.floors()) {
        out.println("archived: " + archive.writeNoiseFloor(floor));
      }
    }
    return ExitCode.OK;
  }

  private ScoringJob job(
      ArtifactRef modelRef, ArtifactRef tokenizerRef, SubsetRef subsetRef, int count) {
    Integer seqLen = maxSeqLen != null ? maxSeqLen : task == Task.CAUSAL_LM ? 64 : null;
    var builder =
        ScoringJob.builder()
            .jobId("noise-floor/00000")
            .runId("noise-floor")
            .eventId("noise-floor")
            .model(name == null ? "noise-floor" : name)
            .version("noise-floor")
            .task(task)
            .artifact(modelRef)
            .tokenizer(tokenizerRef)
            .goldenSubset(subsetRef)
            .maxSeqLen(seqLen)
            .shardIndex(0)
            .shardCount(1)
            .rowStart(0)
            .rowCount(count)
            .metrics(task.spec().rowValues())
            .attempt(1)
            .deadline(Instant.now().plusSeconds(24 * 3600));
    if (task == Task.CAUSAL_LM) {
      builder.stride(Math.max(1, seqLen / 2));
    }
    return builder.build();
  }

  /** The runs, one line each, then each profile's floor. */
  static void print(PrintStream out, Measurement measurement) {
    List<Run> runs = measurement.runs();
    TreeSet<String> metrics = new TreeSet<>();
    runs.forEach(r -> metrics.addAll(r.metrics().keySet()));
    List<String> rowValues = new ArrayList<>();
    if (!runs.isEmpty()) {
      runs.get(0).values().keySet().stream()
          .filter(v -> !v.equals(MetricNames.GOLD))
          .forEach(rowValues::add);
    }
    StringBuilder header =
        new StringBuilder(String.format(Locale.ROOT, "%-34s %-20s", "setup", "profile"));
    metrics.forEach(m -> header.append(String.format(Locale.ROOT, " %14s", m)));
    rowValues.forEach(v -> header.append(String.format(Locale.ROOT, " %16s", v + " max|Δ|")));
    header.append(String.format(Locale.ROOT, " %8s", "ms"));
    out.println(header);
    Map<String, double[]> reference = runs.isEmpty() ? Map.of() : runs.get(0).values();
    for (Run run : runs) {
      StringBuilder line =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "%-34s %-20s",
                  run.setup().label(),
                  run.envelope() == null ? "?" : run.envelope().profile()));
      metrics.forEach(
          m -> {
            Double value = run.metrics().get(m);
            line.append(
                value == null
                    ? String.format(Locale.ROOT, " %14s", "-")
                    : String.format(Locale.ROOT, " %14.9f", value));
          });
      for (String v : rowValues) {
        double[] mine = run.values().get(v);
        double[] theirs = reference.get(v);
        double max = 0;
        for (int i = 0; i < mine.length; i++) {
          max = Math.max(max, Math.abs(mine[i] - theirs[i]));
        }
        line.append(String.format(Locale.ROOT, " %16.3e", max));
      }
      line.append(String.format(Locale.ROOT, " %8d", run.millis()));
      out.println(line);
    }
    measurement.skipped().forEach(out::println);
    for (NoiseFloorRecord floor : measurement.floors()) {
      out.println();
      out.println(
          "noise floor on profile "
              + floor.profile()
              + " ("
              + floor.envelopes().size()
              + " setups, "
              + floor.rows()
              + " rows; Δ against the first):");
      out.println(
          String.format(Locale.ROOT, "  %-16s %12s %12s", "metric", "max − min", "relative"));
      floor
          .metrics()
          .forEach(
              (metric, spread) ->
                  out.println(
                      String.format(
                          Locale.ROOT,
                          "  %-16s %12.3e %12s",
                          metric,
                          spread.spread(),
                          spread.relativeSpread() == null
                              ? "-"
                              : String.format(Locale.ROOT, "%.3e", spread.relativeSpread()))));
      out.println(String.format(Locale.ROOT, "  %-16s %12s %12s", "per row", "max |Δ|", "p99 |Δ|"));
      floor
          .rowValues()
          .forEach(
              (value, spread) ->
                  out.println(
                      String.format(
                          Locale.ROOT,
                          "  %-16s %12.3e %12.3e",
                          value,
                          spread.maxAbsDelta(),
                          spread.p99AbsDelta())));
    }
  }

  private static String uri(String location) {
    return location.contains(":")
        ? location
        : Path.of(location).toAbsolutePath().normalize().toUri().toString();
  }

  private static ArtifactRef ref(Storage storage, String location) throws IOException {
    String uri = uri(location);
    return new ArtifactRef(uri, storage.sha256(uri));
  }
}
