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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
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
@Command(name = "review", header = "Times the notifier's review of one flag next to reading its score files alone.",
    description = "Time the notifier's review of one flag (read the archive, draw the charts, write report and comment) on a synthetic archive of two versions, next to reading their two score files alone; prints both and the report size.")
public final class ReviewBench implements Callable<Integer> {
  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(names = "--rows", defaultValue = "100000", description = "Golden rows. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(names = "--rounds", defaultValue = "3", description = "Timed rounds (median reported). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Override
  public Integer call() throws Exception {
    System.out.println("full log: " + logging.apply("bench-review"));
    Path dir = Files.createTempDirectory("evalfleet-bench-review-");
    try {
      Storage storage = Storage.withDefaults();
      EvaluationArchive archive = new EvaluationArchive(storage, dir.resolve("archive").toUri().toString());
      Path subset = dir.resolve("pairs.parquet");
      GoldenSubsetWriter.writeUngradedPairs(new org.apache.hadoop.fs.Path(subset.toUri()), rows,
          i -> "a sentence about topic " + (i % 997) + ", number " + i, i -> "another sentence, number " + i, 8 << 20);
      SplittableRandom random = new SplittableRandom(5);
      double[] base = new double[rows];
      double[] candidate = new double[rows];
      for (int i = 0; i < rows; i++) {
        base[i] = random.nextDouble(-0.1, 1.0);
        candidate[i] = base[i] + random.nextGaussian() * 0.01;
      }
      String baseScores = archiveVersion(archive, subset, "v0", base, null);
      String candidateScores = archiveVersion(archive, subset, "v1", candidate, "v0");
      ReviewPublisher publisher = new ReviewPublisher(new ReviewAssembler(storage, archive), "", Clock.systemUTC());
      DriftFlag flag = new DriftFlag(1, "run-v1", "ev-v1", "bench", "v1", "v0", Flag.GREEN,
          Map.of("mean_cosine", new MetricValue(0.45, rows, "two_sided", 0.45, 0.0, 0.0001, -0.0004, 0.0006, 0.95, 0.02,
              true, 0.001, null, null, Flag.GREEN, "mean_cosine GREEN")), List.of("mean_cosine GREEN"), null,
          List.of("cpu"), null, Instant.now(), null, "1", archive.lockPath("bench", "v1").toString(), null);
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
      long reportBytes = Files.size(Path.of(java.net.URI.create(last.reportUri())));
      double f = Rounds.median(floor);
      double w = Rounds.median(review);
      System.out.printf(Locale.ROOT, "review of one flag, %,d golden rows (median of %d rounds):%n", rows, rounds);
      System.out.printf(Locale.ROOT, "  read the two score files alone:                      %8.2f s%n", f);
      System.out.printf(Locale.ROOT, "  whole review (scores, texts, 5 charts, report, comment): %8.2f s  (%.1fx the reads)%n",
          w, w / f);
      System.out.printf(Locale.ROOT, "  report %,d bytes, comment %,d characters%n", reportBytes, last.markdown().length());
      return 0;
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static String archiveVersion(EvaluationArchive archive, Path subset, String version, double[] cosine,
      String baseline) throws Exception {
    String sha = (version.equals("v0") ? "a" : "b").repeat(64);
    String scores = archive.writeScores(new ScoreKey(sha, "", "t".repeat(64), "d".repeat(64), "{}", "embedding", "e/1",
        null, null, null, null), Map.of("cosine", cosine), new EvaluationArchive.Provenance(List.of(), List.of("cpu"),
        List.of(), "sig", "run-" + version));
    archive.writeLock(new EvaluationLock(EvaluationLock.CURRENT, "bench", version, "ev-" + version, "run-" + version,
        null, "embedding", new ArtifactRef("file:///models/" + version + ".onnx", sha), "t".repeat(64),
        subset.toUri().toString(), "d".repeat(64), Map.of(), "e/1", List.of(), List.of("cpu"), List.of(), null, null,
        null, null, null, "sig", "1", baseline, baseline == null ? Flag.WARN : Flag.GREEN,
        Map.of("mean_cosine", new EvaluationLock.LockedMetric(0.45, null, null, null, null, null)), scores, false,
        Instant.now(), null));
    return scores;
  }
}
