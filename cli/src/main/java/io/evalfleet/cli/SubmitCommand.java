package io.evalfleet.cli;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.cli.progress.ProgressDisplay;
import io.evalfleet.cli.progress.ProgressWatcher;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.model.SentenceTransformersFolder;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "submit",
    header = "Publishes a staged-weight event, and with --wait waits for its flag.",
    description =
        "Publish a staged-weight event to evalfleet.weights.staged. Either give a JSON event file, or describe the event with options (digests of local files are computed).")
final class SubmitCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;
  @Mixin InteractiveLogging logging;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Option(
        names = "--event",
        paramLabel = "FILE",
        description = "A StagedWeightEvent as JSON ('-' for stdin).")
    String eventFile;

    @ArgGroup(exclusive = false)
    Described described;
  }

  static final class Described {
    @Option(
        names = "--model",
        required = true,
        description = "The model's name; its versions are compared with each other.")
    String model;

    @Option(
        names = "--version",
        required = true,
        description = "This version's name, e.g. a commit sha or v2.")
    String version;

    @Option(
        names = "--task",
        defaultValue = "embedding",
        converter = TaskConverter.class,
        description =
            "embedding, causal-lm or retrieval (see docs/wire-format.md). Default: ${DEFAULT-VALUE}.")
    Task task;

    @Option(
        names = "--artifact",
        required = true,
        paramLabel = "URI",
        description =
            "The ONNX file, or a model folder"
                + " (model.onnx or onnx/model.onnx in it). An embedding model's sentence-transformers configuration beside it"
                + " (modules.json, 1_Pooling/config.json, config_sentence_transformers.json) sets the event's pooling,"
                + " normalisation and prefixes, unless the options below set them.")
    String artifact;

    @Option(names = "--tokenizer", paramLabel = "URI", description = "The model's tokenizer.json.")
    String tokenizer;

    @Option(
        names = "--subset",
        required = true,
        paramLabel = "URI",
        description = "The golden subset (Parquet).")
    String subset;

    @Option(
        names = "--baseline",
        defaultValue = "production",
        description =
            "The version to compare with: production (the pinned baseline) or an evaluated version. Default: ${DEFAULT-VALUE}.")
    String baseline;

    @Option(
        names = "--max-seq-len",
        description = "The model's context in tokens (causal-lm needs it).")
    Integer maxSeqLen;

    @Option(
        names = "--stride",
        description = "Sliding-window stride for causal-lm. Default: half of --max-seq-len.")
    Integer stride;

    @Option(
        names = "--change-kind",
        paramLabel = "KIND",
        converter = ChangeKindConverter.class,
        description =
            "What kind of change this version is to its baseline: retrain (new weights: judged on"
                + " its metrics' margins), or quantization, export or runtime (the same model, which"
                + " must keep its outputs: a causal LM's token shift gates too). Default: the"
                + " policy's for the model, else quantization when --quantization-bits differ from"
                + " the baseline's, else retrain.")
    ChangeKind changeKind;

    @Option(
        names = "--quantization-bits",
        paramLabel = "BITS",
        description = "The weights' precision in bits, e.g. 4, 8, 16 or 32.")
    Integer quantizationBits;

    @Option(names = "--event-id", description = "Default: a random UUID.")
    String eventId;

    @Option(
        names = "--pooling",
        description =
            "Embedding: mean, cls, max or last_token (the model's own convention)."
                + " Default: as the model's sentence-transformers configuration says, else mean.",
        converter = PoolingConverter.class)
    EmbeddingConventions.Pooling pooling;

    @Option(
        names = "--no-normalize",
        description = "Embedding: do not L2-normalise the pooled vector.")
    boolean noNormalize;

    @Option(
        names = "--prefix-a",
        paramLabel = "TEXT",
        description = "Embedding: prepended to each first text (e5: 'query: ').")
    String prefixA;

    @Option(
        names = "--prefix-b",
        paramLabel = "TEXT",
        description = "Embedding: prepended to each second text.")
    String prefixB;

    @Option(
        names = "--output",
        paramLabel = "NAME",
        description = "Embedding: the model output to read.")
    String output;

    @Option(
        names = "--review",
        paramLabel = "WHERE",
        converter = ReviewConverter.class,
        description =
            "Where the version is reviewed, for the notifier's comment: github:owner/name#PR,"
                + " gitlab:group/project#MR, or provider:repository@COMMIT.")
    ReviewRef review;

    @Option(names = "--commit", description = "The source commit of the training code.")
    String commit;

    /** The conventions the options give; null when none is given (the defaults apply). */
    EmbeddingConventions conventions() {
      if (pooling == null && !noNormalize && prefixA == null && prefixB == null && output == null) {
        return null;
      }
      return new EmbeddingConventions(
          pooling, noNormalize ? Boolean.FALSE : null, prefixA, prefixB, output);
    }

    /**
     * The conventions the model ships, each overridden by an option the user set; a warning for
     * each option that contradicts what the model ships.
     */
    EmbeddingConventions conventions(
        SentenceTransformersFolder shipped, Consumer<String> warnings) {
      EmbeddingConventions asked =
          new EmbeddingConventions(
              pooling != null ? pooling : shipped.pooling(),
              noNormalize ? Boolean.FALSE : shipped.normalize(),
              prefixA != null ? prefixA : shipped.queryPrompt(),
              prefixB != null ? prefixB : shipped.documentPrompt(),
              output);
      shipped.contradictions(asked, pooling != null, noNormalize).forEach(warnings);
      return asked;
    }
  }

  @Option(
      names = "--wait",
      paramLabel = "DURATION",
      description = "Wait this long (e.g. PT5M) for the flag and print it.")
  Duration wait;

  @Option(names = "--no-progress", description = "With --wait: do not show the run's progress.")
  boolean noProgress;

  @Override
  public Integer call() throws Exception {
    System.err.println("full log: " + logging.apply("submit"));
    FleetConfig loaded = config.load();
    StagedWeightEvent event =
        source.eventFile != null
            ? readEvent(source.eventFile)
            : describe(source.described, Storage.unrestricted(loaded), System.err);
    try (FlagWatcher watcher = wait == null ? null : new FlagWatcher(loaded, false);
        ProgressWatcher progress = wait == null || noProgress ? null : new ProgressWatcher(loaded);
        ProgressDisplay display = ProgressDisplay.forConsole(System.err);
        Submitter submitter = new Submitter(loaded)) {
      submitter.submit(event);
      System.out.println(
          "submitted event " + event.eventId() + " for " + event.model() + " " + event.version());
      if (watcher != null) {
        watcher.onRejected(read -> System.err.println(read.rejectedLine()));
        DriftFlag flag =
            progress == null
                ? watcher.await(event.eventId(), wait)
                : watcher.await(event.eventId(), wait, progress, display);
        System.out.print(FlagPrinter.render(flag));
        if (watcher.verifying()) {
          // await gives only a flag that verified, under the key its signing_key_id names.
          System.out.println("  signed by key " + flag.signingKeyId() + " (verified)");
        }
        // A gate: only GREEN and WARN let the version through.
        return switch (flag.flag()) {
          case GREEN, WARN -> ExitCode.OK;
          case RED, ERROR, INCOMPLETE -> ExitCode.PROBLEM_FOUND;
        };
      }
    }
    return 0;
  }

  private static StagedWeightEvent readEvent(String file) throws Exception {
    byte[] bytes = file.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(file));
    try {
      return Json.read(bytes, StagedWeightEvent.class);
    } catch (ContractViolation e) {
      throw CommandFailure.badInput(
          (file.equals("-") ? "the event on stdin" : file)
              + " is not a valid staged event: "
              + e.getMessage()
              + " (docs/wire-format.md describes one)");
    }
  }

  /** The event {@code d} describes, with the digests of its files as {@code storage} reads them. */
  static StagedWeightEvent describe(Described d, Storage storage, PrintStream console)
      throws Exception {
    String artifact = d.artifact;
    EmbeddingConventions conventions = d.conventions();
    Path local = InspectCommand.localPath(d.artifact);
    if (local != null) {
      try {
        artifact = SentenceTransformersFolder.modelFile(local).toString();
        Optional<SentenceTransformersFolder> shipped =
            d.task == Task.CAUSAL_LM ? Optional.empty() : SentenceTransformersFolder.find(local);
        if (shipped.isPresent()) {
          conventions =
              d.conventions(shipped.get(), warning -> console.println("warning: " + warning));
          console.println(
              "embedding conventions from "
                  + shipped.get().folder()
                  + ": "
                  + shipped.get().describe()
                  + (d.conventions() == null ? "" : "; the event's: " + conventions.describe()));
        }
      } catch (InputException e) {
        throw new IllegalArgumentException(
            "invalid --artifact " + d.artifact + ": " + e.getMessage(), e);
      }
    }
    return StagedWeightEvent.builder()
        .eventId(d.eventId != null ? d.eventId : UUID.randomUUID().toString())
        .model(d.model)
        .version(d.version)
        .task(d.task)
        .artifact(ref(storage, artifact))
        .tokenizer(d.tokenizer == null ? null : ref(storage, d.tokenizer))
        .goldenSubset(new SubsetRef(uri(d.subset), storage.sha256(uri(d.subset)), null, Map.of()))
        .baseline(d.baseline)
        .quantizationBits(d.quantizationBits)
        .changeKind(d.changeKind)
        .maxSeqLen(d.maxSeqLen)
        .stride(d.stride)
        .commit(d.commit)
        .createdAt(Instant.now())
        .embedding(conventions)
        .review(d.review)
        .build();
  }

  /** A pooling by its wire name, as events spell it. */
  static final class PoolingConverter
      implements picocli.CommandLine.ITypeConverter<EmbeddingConventions.Pooling> {
    @Override
    public EmbeddingConventions.Pooling convert(String value) {
      for (EmbeddingConventions.Pooling pooling : EmbeddingConventions.Pooling.values()) {
        if (pooling.wireName().equals(value)) {
          return pooling;
        }
      }
      throw new picocli.CommandLine.TypeConversionException(
          "unknown pooling '"
              + value
              + "' (known: "
              + Arrays.stream(EmbeddingConventions.Pooling.values())
                  .map(EmbeddingConventions.Pooling::wireName)
                  .toList()
              + ")");
    }
  }

  /** {@code provider:repository#number} or {@code provider:repository@commit}. */
  static final class ReviewConverter implements picocli.CommandLine.ITypeConverter<ReviewRef> {
    private static final Pattern FORM =
        Pattern.compile("(github|gitlab):([^#@]+)(?:#(\\d+)|@([0-9a-fA-F]+))");

    @Override
    public ReviewRef convert(String value) {
      var match = FORM.matcher(value);
      if (!match.matches()) {
        throw new picocli.CommandLine.TypeConversionException(
            "'"
                + value
                + "' is not github:owner/name#PR, gitlab:group/project#MR or provider:repository@COMMIT");
      }
      try {
        return new ReviewRef(
            ReviewRef.Provider.valueOf(match.group(1).toUpperCase(Locale.ROOT)),
            match.group(2),
            match.group(3) == null ? null : Integer.valueOf(match.group(3)),
            match.group(4) == null ? null : match.group(4).toLowerCase(Locale.ROOT));
      } catch (ContractViolation e) {
        throw new picocli.CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** A change kind by its wire name, as events spell it; nothing else. */
  static final class ChangeKindConverter implements picocli.CommandLine.ITypeConverter<ChangeKind> {
    @Override
    public ChangeKind convert(String value) {
      return ChangeKind.parse(value)
          .orElseThrow(
              () ->
                  new picocli.CommandLine.TypeConversionException(
                      "unknown change kind '"
                          + value
                          + "' (known: "
                          + ChangeKind.wireNames()
                          + ")"));
    }
  }

  /** A task by its wire name, as events spell it. */
  static final class TaskConverter implements picocli.CommandLine.ITypeConverter<Task> {
    @Override
    public Task convert(String value) {
      for (Task task : Task.values()) {
        if (task.wireName().equals(value)) {
          return task;
        }
      }
      throw new picocli.CommandLine.TypeConversionException(
          "unknown task '"
              + value
              + "' (known: "
              + Arrays.stream(Task.values()).map(Task::wireName).toList()
              + ")");
    }
  }

  private static ArtifactRef ref(Storage storage, String location) throws Exception {
    String uri = uri(location);
    return new ArtifactRef(uri, storage.sha256(uri));
  }

  /** Local relative paths become absolute {@code file:} URIs. */
  private static String uri(String location) {
    return location.contains(":")
        ? location
        : Path.of(location).toAbsolutePath().normalize().toUri().toString();
  }
}
