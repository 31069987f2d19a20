package io.evalfleet.cli;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.failure.Failures;
import io.evalfleet.common.model.SentenceTransformersFolder;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.scoring.inspect.ModelInspector;
import io.evalfleet.scoring.model.ArtifactCache;
import io.evalfleet.scoring.model.ModelSessions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "inspect",
    header = "Shows how the fleet would feed a model, and whether it can score it.",
    description =
        "Show what the fleet would make of a model: its inputs and outputs, the task it looks like, how a worker would feed it (pooling, an empty past, the logits' type, windows, batching), whether the tokenizer's ids fit the model's vocabulary, and one probe run through the worker's own code. A sentence-transformers folder (modules.json, 1_Pooling/config.json) is inspected under the pooling, normalisation and prompts it ships. Exits 3, saying why, when the fleet cannot score it.")
final class InspectCommand implements Callable<Integer> {
  /** The exit code for a model the fleet cannot score. */
  static final int NOT_SCORABLE = ExitCode.UNAVAILABLE;

  @Mixin InteractiveLogging logging;

  /** The {@code hadoop.*} settings reach the store the model is read from (s3a:, hdfs:). */
  @Mixin ConfigOptions config;

  @Parameters(
      index = "0",
      paramLabel = "MODEL",
      description =
          "The ONNX file (a path or a storage URI), or a model"
              + " folder (model.onnx or onnx/model.onnx in it, with its sentence-transformers configuration).")
  String model;

  @Option(
      names = "--tokenizer",
      paramLabel = "FILE",
      description =
          "The model's tokenizer.json (needed to probe an"
              + " embedding model, and a causal LM on text). Default: tokenizer.json in the model's folder, when the model is"
              + " given as a folder or has a sentence-transformers configuration.")
  String tokenizer;

  @Option(
      names = "--max-seq-len",
      paramLabel = "N",
      description =
          "Causal LM: its context in tokens, as the event's" + " max_seq_len. Default: 64.")
  Integer maxSeqLen;

  @Option(
      names = "--stride",
      paramLabel = "N",
      description = "Causal LM: the sliding-window stride. Default: half of" + " --max-seq-len.")
  Integer stride;

  @Option(
      names = "--task",
      converter = SubmitCommand.TaskConverter.class,
      description =
          "embedding or causal-lm. Default: guessed from the outputs (a 'logits' output means causal-lm).")
  Task task;

  @Option(
      names = "--pooling",
      converter = SubmitCommand.PoolingConverter.class,
      description =
          "Embedding: the pooling to inspect with. Default: the pooling the model's sentence-transformers"
              + " configuration sets, else mean.")
  EmbeddingConventions.Pooling pooling;

  @Override
  public Integer call() throws Exception {
    System.err.println("full log: " + logging.apply("inspect"));
    Storage storage = Storage.unrestricted(config.load());
    ArtifactRef modelRef;
    ArtifactRef tokenizerRef;
    Optional<SentenceTransformersFolder> shipped = Optional.empty();
    String modelLocation = model;
    String tokenizerLocation = tokenizer;
    try {
      Path local = localPath(model);
      if (local != null) {
        shipped = SentenceTransformersFolder.find(local);
        Path file = SentenceTransformersFolder.modelFile(local);
        modelLocation = file.toString();
        if (tokenizerLocation == null && (Files.isDirectory(local) || shipped.isPresent())) {
          // A model folder holds its tokenizer; a lone file's neighbours may belong to another
          // model.
          for (Path dir :
              new Path[] {
                file.toAbsolutePath().getParent(),
                shipped.map(SentenceTransformersFolder::folder).orElse(null)
              }) {
            if (tokenizerLocation == null
                && dir != null
                && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
              tokenizerLocation = dir.resolve("tokenizer.json").toString();
            }
          }
        }
      }
      modelRef = ref(storage, modelLocation);
      tokenizerRef = tokenizerLocation == null ? null : ref(storage, tokenizerLocation);
    } catch (IOException e) {
      if (Failures.isMissingFile(e) || Failures.isAccessDenied(e)) {
        throw CommandFailure.badInput(CommandErrors.messageOf(e));
      }
      System.out.println("cannot be scored: " + e.getMessage());
      return NOT_SCORABLE;
    }
    EmbeddingConventions conventions =
        pooling == null ? null : EmbeddingConventions.DEFAULTS.withPooling(pooling);
    if (shipped.isPresent() && task != Task.CAUSAL_LM) {
      SentenceTransformersFolder st = shipped.get();
      System.out.println(
          "sentence-transformers configuration in " + st.folder() + ": " + st.describe());
      if (conventions == null) {
        conventions = st.conventions();
      } else {
        conventions =
            new EmbeddingConventions(
                pooling, st.normalize(), st.queryPrompt(), st.documentPrompt(), null);
        st.contradictions(conventions, true, false)
            .forEach(line -> System.out.println("warning: " + line));
      }
    }
    Path cache = Files.createTempDirectory("evalfleet-inspect-");
    try (ModelSessions sessions =
        new ModelSessions(new ArtifactCache(storage, cache, Long.MAX_VALUE), 1)) {
      ModelInspector.Report report =
          new ModelInspector(sessions)
              .inspect(
                  ModelInspector.Subject.of(modelRef)
                      .tokenizer(tokenizerRef)
                      .task(task)
                      .conventions(conventions)
                      .window(maxSeqLen, stride));
      System.out.println("model: " + modelLocation);
      if (tokenizerRef != null) {
        System.out.println(
            "tokenizer: "
                + tokenizerLocation
                + (tokenizer == null ? " (found beside the model)" : ""));
      }
      if (report.signature() != null) {
        System.out.println("signature: " + report.signature());
      }
      if (report.task() != null) {
        System.out.println(
            "task: "
                + report.task().wireName()
                + (report.taskGuessed() ? " (guessed from its outputs)" : ""));
      }
      report.feeding().forEach(line -> System.out.println("  " + line));
      if (!report.scorable()) {
        System.out.println("cannot be scored: " + report.problem());
        return NOT_SCORABLE;
      }
      System.out.println("the fleet can score it");
      return 0;
    } finally {
      try (var files = Files.walk(cache)) {
        for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      }
    }
  }

  /**
   * The local file or folder a location names ({@code file:} URI or a path); null for other
   * storage.
   */
  static Path localPath(String location) {
    if (location.startsWith("file:")) {
      return Path.of(URI.create(location));
    }
    return location.contains(":") ? null : Path.of(location);
  }

  private static ArtifactRef ref(Storage storage, String location) throws IOException {
    String uri =
        location.contains(":")
            ? location
            : Path.of(location).toAbsolutePath().normalize().toUri().toString();
    return new ArtifactRef(uri, storage.sha256(uri));
  }
}
