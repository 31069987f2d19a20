package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.ScoreKey;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.notifier.ReviewPublisher;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewAssembler;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What one review costs the notifier: reading a version's and its baseline's per-row scores and the
 * moved rows' text from the archive, drawing the charts, writing the report and the comment; next
 * to the floor, reading the two score files alone.
 */
@Command(
    name = "review",
    header = "Times the notifier's review of one flag next to reading its score files alone.",
    description =
        "Time the notifier's review of one flag (read the archive, draw the charts, write report and comment) on a synthetic archive of two versions, next to reading their two score files alone; prints both and the report size.")
public final class ReviewBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--rows",
      defaultValue = "100000",
      description = "Golden rows. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description = "Timed rounds (median reported). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-review"));
    Path dir = Files.createTempDirectory("evalfleet-bench-review-");
    try {
      Storage storage = Storage.withDefaults();
      EvaluationArchive archive =
          new EvaluationArchive(storage, dir.resolve("archive").toUri().toString());
      Path subset = dir.resolve("pairs.parquet");
      GoldenSubsetWriter.writeUngradedPairs(
          new org.apache.hadoop.fs.Path(subset.toUri()),
          rows,
          i -> "a sentence about topic " + (i % 997) + ", number " + i,
          i -> "another sentence, number " + i,
          8 << 20);
      SplittableRandom random = new SplittableRandom(5);
      double[] base = new double[rows];
      double[] candidate = new double[rows];
      for (int i = 0; i < rows; i++) {
        base[i] = random.nextDouble(-0.1, 1.0);
        candidate[i] = base[i] + random.nextGaussian() * 0.01;
      }
      String baseScores = archiveVersion(archive, subset, "v0", base, null);
      String candidateScores = archiveVersion(archive, subset, "v1", candidate, "v0");
      ReviewPublisher publisher =
          new ReviewPublisher(new ReviewAssembler(storage, archive), "", Clock.systemUTC());
      DriftFlag flag =
          DriftFlag.builder()
              .runId("run-v1")
              .eventId("ev-v1")
              .model("bench")
              .version("v1")
              .baselineVersion("v0")
              .flag(Flag.GREEN)
              .metrics(
                  Map.of(
                      "mean_cosine",
                      MetricValue.builder()
                          .value(0.45)
                          .n(rows)
                          .direction("two_sided")
                          .baseline(0.45)
                          .delta(0.0)
                          .relativeDelta(0.0001)
                          .ciLow(-0.0004)
                          .ciHigh(0.0006)
                          .ciConfidence(0.95)
                          .margin(0.02)
                          .gating(true)
                          .pValue(0.001)
                          .status(Flag.GREEN)
                          .evidence("mean_cosine GREEN")
                          .build()))
              .reasons(List.of("mean_cosine GREEN"))
              .executionProviders(List.of("cpu"))
              .decidedAt(Instant.now())
              .policyVersion("1")
              .lockfile(archive.lockPath("bench", "v1").toString())
              .build();
      publisher.publish(flag); // warm-up
      double[] review = new double[rounds];
      double[] floor = new double[rounds];
      Review last = null;
      for (int r = 0; r < rounds; r++) {
        long started = System.nanoTime();
        archive.readScores(baseScores);
        archive.readScores(candidateScores);
        floor[r] = (System.nanoTime() - started) / 1e9;
        started = System.nanoTime();
        last = publisher.publish(flag);
        review[r] = (System.nanoTime() - started) / 1e9;
      }
      long reportBytes = Files.size(Path.of(URI.create(last.reportUri())));
      double f = Rounds.median(floor);
      double w = Rounds.median(review);
      System.out.printf(
          Locale.ROOT,
          "review of one flag, %,d golden rows (median of %d rounds):%n",
          rows,
          rounds);
      System.out.printf(
          Locale.ROOT, "  read the two score files alone:                      %8.2f s%n", f);
      System.out.printf(
          Locale.ROOT,
          "  whole review (scores, texts, 5 charts, report, comment): %8.2f s  (%.1fx the reads)%n",
          w,
          w / f);
      System.out.printf(
          Locale.ROOT,
          "  report %,d bytes, comment %,d characters%n",
          reportBytes,
          last.markdown().length());
      return 0;
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static String archiveVersion(
      EvaluationArchive archive, Path subset, String version, double[] cosine, String baseline)
      throws Exception {
    String sha = (version.equals("v0") ? "a" : "b").repeat(64);
    String scores =
        archive.writeScores(
            ScoreKey.builder()
                .artifactSha256(sha)
                .externalDataSha256("")
                .tokenizerSha256("t".repeat(64))
                .subsetSha256("d".repeat(64))
                .subsetColumns("{}")
                .task("embedding")
                .evaluatorVersion("e/1")
                .build(),
            Map.of("cosine", cosine),
            new EvaluationArchive.Provenance(
                List.of(), List.of("cpu"), List.of(), "sig", "run-" + version));
    archive.writeLock(
        EvaluationLock.builder()
            .model("bench")
            .version(version)
            .eventId("ev-" + version)
            .runId("run-" + version)
            .task("embedding")
            .artifact(new ArtifactRef("file:///models/" + version + ".onnx", sha))
            .tokenizerSha256("t".repeat(64))
            .goldenSubsetUri(subset.toUri().toString())
            .goldenSubsetSha256("d".repeat(64))
            .goldenSubsetColumns(Map.of())
            .evaluatorVersion("e/1")
            .onnxRuntime(List.of())
            .executionProviders(List.of("cpu"))
            .hardware(List.of())
            .modelSignature("sig")
            .policyVersion("1")
            .baselineVersion(baseline)
            .flag(baseline == null ? Flag.WARN : Flag.GREEN)
            .metrics(
                Map.of("mean_cosine", EvaluationLock.LockedMetric.builder().value(0.45).build()))
            .scores(scores)
            .scoresReused(false)
            .decidedAt(Instant.now())
            .build());
    return scores;
  }
}
