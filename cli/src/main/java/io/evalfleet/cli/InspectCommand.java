package io.evalfleet.cli;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.worker.inspect.ModelInspector;
import io.evalfleet.worker.model.ArtifactCache;
import io.evalfleet.worker.model.ModelSessions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", header = "Shows how the fleet would feed a model, and whether it can score it.", description = "Show what the fleet would make of a model: its inputs and outputs, the task it looks like, how a worker would feed it (pooling, an empty past, the logits' type), and one probe run through the worker's own code. Exits 3, saying why, when the fleet cannot score it.")
final class InspectCommand implements Callable<Integer> {
  /** The exit code for a model the fleet cannot score. */
  static final int NOT_SCORABLE = 3;

  @Mixin InteractiveLogging logging;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The ONNX file (a path or a storage URI).")
  String model;

  @Option(names = "--tokenizer", paramLabel = "FILE", description = "The model's tokenizer.json (needed to probe an embedding model).")
  String tokenizer;

  @Option(names = "--task", converter = SubmitCommand.TaskConverter.class,
      description = "embedding or causal-lm. Default: guessed from the outputs (a 'logits' output means causal-lm).")
  Task task;

  @Option(names = "--pooling", converter = SubmitCommand.PoolingConverter.class,
      description = "Embedding: the pooling to inspect with. Default: mean.")
  EmbeddingConventions.Pooling pooling;

  @Override
  public Integer call() throws Exception {
    System.err.println("full log: " + logging.apply("inspect"));
    Storage storage = Storage.withDefaults();
    ArtifactRef modelRef;
    ArtifactRef tokenizerRef;
    try {
      modelRef = ref(storage, model);
      tokenizerRef = tokenizer == null ? null : ref(storage, tokenizer);
    } catch (java.io.IOException e) {
      if (io.evalfleet.common.failure.Failures.isMissingFile(e)) {
        throw CommandFailure.badInput(CommandErrors.messageOf(e));
      }
      System.out.println("cannot be scored: " + e.getMessage());
      return NOT_SCORABLE;
    }
    Path cache = Files.createTempDirectory("evalfleet-inspect-");
    try (ModelSessions sessions = new ModelSessions(new ArtifactCache(storage, cache, Long.MAX_VALUE), 1)) {
      ModelInspector.Report report = new ModelInspector(sessions).inspect(modelRef, tokenizerRef, task,
          pooling == null ? null : new EmbeddingConventions(pooling, null, null, null, null));
      System.out.println("model: " + model);
      if (report.signature() != null) {
        System.out.println("signature: " + report.signature());
      }
      if (report.task() != null) {
        System.out.println("task: " + report.task().wireName() + (report.taskGuessed() ? " (guessed from its outputs)" : ""));
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
        for (Path path : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      }
    }
  }

  private static ArtifactRef ref(Storage storage, String location) throws java.io.IOException {
    String uri = location.contains(":") ? location : Path.of(location).toAbsolutePath().normalize().toUri().toString();
    return new ArtifactRef(uri, storage.sha256(uri));
  }
}
