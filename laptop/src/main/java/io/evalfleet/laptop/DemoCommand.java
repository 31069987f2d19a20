package io.evalfleet.laptop;

import io.evalfleet.cli.ConfigOptions;
import io.evalfleet.cli.FlagPrinter;
import io.evalfleet.cli.FlagWatcher;
import io.evalfleet.cli.Submitter;
import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.laptop.demo.DemoAssets;
import io.evalfleet.laptop.embedded.LocalFleet;
import io.evalfleet.notifier.ReviewPublisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    header = "Runs the whole fleet on an embedded broker and judges real models, then exits.",
    description =
        "Run the whole fleet on an embedded Kafka broker and judge real models: stage all-MiniLM-L6-v2 (fp32) as the baseline, then its int8 quantisation as the candidate; stage a small byte-level causal LM, then a version fine-tuned on other text (a retrain: perplexity drift); judge a search model on retrieval (fp32, then int8 and bge-small against fp32's index); then an event with a wrong sha256. Print each metric vector and drift flag, then exit.")
public final class DemoCommand implements Callable<Integer> {
  @Mixin ConfigOptions config;
  @Mixin InteractiveLogging logging;

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/demo",
      description = "Where models and the golden subset are written. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  @Option(
      names = "--workers",
      defaultValue = "2",
      description = "Workers to run. Default: ${DEFAULT-VALUE}.")
  int workers;

  @Option(
      names = "--timeout",
      defaultValue = "PT5M",
      description = "Longest wait for one flag. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Override
  public Integer call() throws Exception {
    Path log = logging.apply("demo");
    // A fresh broker and a fresh archive: each demo starts with no baselines and no history.
    deleteTree(workDir.resolve("archive"));
    FleetConfig base =
        config
            .load()
            .with(
                Map.of(
                    FleetConfig.ARCHIVE_ROOT.key(),
                        workDir.toAbsolutePath().resolve("archive").toUri().toString(),
                    FleetConfig.SHARD_ROWS.key(), "32",
                    FleetConfig.INTRA_OP_THREADS.key(), "1"));
    DemoAssets assets = new DemoAssets(workDir);
    System.out.println("full log: " + log);
    System.out.println(
        "writing the golden subset and copying the models to " + workDir.toAbsolutePath());
    SubsetRef subset = assets.goldenSubset();
    DemoAssets.ModelFiles fp32 = assets.model(DemoAssets.Model.MINILM_FP32);
    DemoAssets.ModelFiles int8 = assets.model(DemoAssets.Model.MINILM_INT8);
    SubsetRef heldout = assets.heldoutText();
    DemoAssets.ModelFiles lmBase = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_BASE);
    DemoAssets.ModelFiles lmTuned = assets.causalModel(DemoAssets.CausalModel.BYTEGPT_FINETUNED);
    SubsetRef retrieval = assets.retrievalSubset();
    DemoAssets.ModelFiles bge = assets.model(DemoAssets.Model.BGE_SMALL);

    System.out.println(
        "starting an embedded Kafka broker, the dispatcher and " + workers + " workers");
    try (LocalFleet fleet =
            LocalFleet.start(
                base, workers, workDir.resolve("cache"), new SimpleMeterRegistry(), true);
        FlagWatcher flags = new FlagWatcher(fleet.config(), false);
        Submitter submitter = new Submitter(fleet.config())) {
      System.out.println("fleet up, Kafka at " + fleet.bootstrapServers());
      String stamp = Long.toString(System.currentTimeMillis(), 36);

      StagedWeightEvent baseline =
          event("demo-fp32-" + stamp, "fp32", fp32, subset, DemoAssets.Model.MINILM_FP32.bits);
      DriftFlag baselineFlag =
          stageAndAwait(
              submitter,
              flags,
              baseline,
              "1/8 staging the baseline: all-MiniLM-L6-v2 fp32 (first version of the model, so nothing to compare with)");

      StagedWeightEvent candidate =
          event("demo-int8-" + stamp, "int8", int8, subset, DemoAssets.Model.MINILM_INT8.bits);
      DriftFlag candidateFlag =
          stageAndAwait(
              submitter,
              flags,
              candidate,
              "2/8 staging the candidate: all-MiniLM-L6-v2 dynamically quantised to int8, compared with fp32");
      printReview(fleet.config(), candidateFlag);

      StagedWeightEvent lmBaseline = causalEvent("demo-lm-base-" + stamp, "base", lmBase, heldout);
      DriftFlag lmBaselineFlag =
          stageAndAwait(
              submitter,
              flags,
              lmBaseline,
              "3/8 staging a causal LM: byte-level GPT trained on English (first version, nothing to compare with)");

      StagedWeightEvent lmCandidate =
          causalEvent("demo-lm-tuned-" + stamp, "finetuned-on-code", lmTuned, heldout).toBuilder()
              .changeKind(ChangeKind.RETRAIN)
              .build();
      DriftFlag lmCandidateFlag =
          stageAndAwait(
              submitter,
              flags,
              lmCandidate,
              "4/8 staging its fine-tune on program code (a retrain), scored on the same held-out English: judged"
                  + " on perplexity and bits per byte; its token shift would decide nothing, so it is not measured");

      StagedWeightEvent searchBaseline =
          searchEvent("demo-search-fp32-" + stamp, "fp32", fp32, retrieval, null);
      DriftFlag searchBaselineFlag =
          stageAndAwait(
              submitter,
              flags,
              searchBaseline,
              "5/8 staging a search model: all-MiniLM-L6-v2 on retrieval (192 docs embedded by corpus jobs, then 48"
                  + " queries ranked against them; first version)");

      StagedWeightEvent searchInt8 =
          searchEvent("demo-search-int8-" + stamp, "int8", int8, retrieval, null);
      DriftFlag searchInt8Flag =
          stageAndAwait(
              submitter,
              flags,
              searchInt8,
              "6/8 staging its int8 quantisation: can the index built with fp32 embeddings keep serving it?");

      StagedWeightEvent searchBge =
          searchEvent(
              "demo-search-bge-" + stamp, "bge-small", bge, retrieval, DemoAssets.BGE_CONVENTIONS);
      DriftFlag searchBgeFlag =
          stageAndAwait(
              submitter,
              flags,
              searchBge,
              "7/8 staging another model of the same dimensions, bge-small-en-v1.5, against the same index");

      ArtifactRef wrongDigest = new ArtifactRef(int8.onnx().uri(), "0".repeat(64));
      StagedWeightEvent corrupt =
          event(
              "demo-bad-digest-" + stamp,
              "int8-tampered",
              new DemoAssets.ModelFiles(wrongDigest, int8.tokenizer()),
              subset,
              8);
      DriftFlag corruptFlag =
          stageAndAwait(
              submitter,
              flags,
              corrupt,
              "8/8 staging an event whose artifact sha256 does not match the file");

      boolean asExpected =
          baselineFlag.flag() == Flag.WARN
              && !baselineFlag.metrics().isEmpty()
              && candidateFlag.flag() != Flag.ERROR
              && candidateFlag.flag() != Flag.INCOMPLETE
              && lmBaselineFlag.flag() == Flag.WARN
              && lmBaselineFlag.metrics().containsKey("perplexity")
              && lmCandidateFlag.flag() == Flag.RED
              && lmCandidateFlag.changeKind() == ChangeKind.RETRAIN
              && lmCandidateFlag.metrics().containsKey("perplexity")
              && searchBaselineFlag.flag() == Flag.WARN
              && searchBaselineFlag.metrics().containsKey("ndcg@10")
              && searchInt8Flag.metrics().containsKey("index_loss")
              && searchBgeFlag.reasons().stream().anyMatch(r -> r.startsWith("re-index required"))
              && corruptFlag.flag() == Flag.ERROR;
      System.out.println(
          asExpected
              ? "\ndemo finished: every event got its flag."
              : "\ndemo finished, but a flag was not what the demo expects (see above).");
      return asExpected ? 0 : 1;
    }
  }

  private DriftFlag stageAndAwait(
      Submitter submitter, FlagWatcher flags, StagedWeightEvent event, String what)
      throws Exception {
    System.out.println("\n" + what);
    long started = System.nanoTime();
    submitter.submit(event);
    DriftFlag flag = flags.await(event.eventId(), timeout);
    System.out.print(FlagPrinter.render(flag));
    System.out.printf(
        "  (flag received %.1f s after staging)%n", (System.nanoTime() - started) / 1e9);
    return flag;
  }

  /**
   * Prints the pull-request comment the notifier wrote for {@code flag}, and where its HTML report
   * is.
   */
  private void printReview(FleetConfig config, DriftFlag flag) throws Exception {
    var archive = new EvaluationArchive(Storage.of(config), config.get(FleetConfig.ARCHIVE_ROOT));
    long deadline = System.nanoTime() + timeout.toNanos();
    Optional<byte[]> comment = Optional.empty();
    // The notifier writes the report, then the comment, once it has read the flag.
    while (comment.isEmpty() && System.nanoTime() < deadline) {
      comment =
          archive
              .reportFile(flag.model(), flag.version(), ReviewPublisher.COMMENT)
              .filter(md -> new String(md, StandardCharsets.UTF_8).contains(flag.runId()));
      if (comment.isEmpty()) {
        Thread.sleep(200);
      }
    }
    if (comment.isEmpty()) {
      System.out.println("  (the notifier wrote no review within " + timeout + ")");
      return;
    }
    System.out.println(
        "\n  the pull-request comment the notifier wrote (" + ReviewPublisher.COMMENT + "):\n");
    System.out.println(new String(comment.get(), StandardCharsets.UTF_8).indent(4));
    System.out.println(
        "  HTML report: "
            + archive.reportPath(flag.model(), flag.version(), ReviewPublisher.REPORT));
  }

  private static StagedWeightEvent causalEvent(
      String eventId, String version, DemoAssets.ModelFiles model, SubsetRef subset) {
    return StagedWeightEvent.builder()
        .eventId(eventId)
        .model("bytegpt")
        .version(version)
        .task(Task.CAUSAL_LM)
        .artifact(model.onnx())
        .tokenizer(model.tokenizer())
        .goldenSubset(subset)
        .baseline(StagedWeightEvent.PRODUCTION)
        .quantizationBits(32)
        .maxSeqLen(DemoAssets.CAUSAL_CONTEXT)
        .stride(DemoAssets.CAUSAL_CONTEXT / 2)
        .hardwareProfile("cpu")
        .createdAt(Instant.now())
        .build();
  }

  private static StagedWeightEvent searchEvent(
      String eventId,
      String version,
      DemoAssets.ModelFiles model,
      SubsetRef subset,
      EmbeddingConventions conventions) {
    return StagedWeightEvent.builder()
        .eventId(eventId)
        .model("minilm-search")
        .version(version)
        .task(Task.RETRIEVAL)
        .artifact(model.onnx())
        .tokenizer(model.tokenizer())
        .goldenSubset(subset)
        .baseline(StagedWeightEvent.PRODUCTION)
        .maxSeqLen(256)
        .hardwareProfile("cpu")
        .createdAt(Instant.now())
        .embedding(conventions)
        .build();
  }

  private static StagedWeightEvent event(
      String eventId, String version, DemoAssets.ModelFiles model, SubsetRef subset, int bits) {
    return StagedWeightEvent.builder()
        .eventId(eventId)
        .model("all-minilm-l6-v2")
        .version(version)
        .task(Task.EMBEDDING)
        .artifact(model.onnx())
        .tokenizer(model.tokenizer())
        .goldenSubset(subset)
        .baseline(StagedWeightEvent.PRODUCTION)
        .quantizationBits(bits)
        .maxSeqLen(256)
        .hardwareProfile("cpu")
        .createdAt(Instant.now())
        .build();
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
