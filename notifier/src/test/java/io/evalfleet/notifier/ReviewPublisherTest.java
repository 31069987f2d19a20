package io.evalfleet.notifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.archive.EvaluationArchive;
import io.evalfleet.common.archive.EvaluationLock;
import io.evalfleet.common.archive.ScoreKey;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewAssembler;
import io.evalfleet.notifier.review.ReviewMarkdown;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reviews written from a real archive on the local file system: two versions scored on one subset.
 */
class ReviewPublisherTest {
  static final int ROWS = 50;
  @TempDir Path dir;
  EvaluationArchive archive;
  ReviewPublisher publisher;
  String subsetUri;

  @BeforeEach
  void archiveTwoVersions() throws Exception {
    Storage storage = Storage.withDefaults();
    archive = new EvaluationArchive(storage, dir.resolve("archive").toUri().toString());
    publisher =
        new ReviewPublisher(
            new ReviewAssembler(storage, archive),
            "",
            Clock.fixed(Instant.parse("2026-12-01T12:00:00Z"), ZoneOffset.UTC));
    List<GoldenSubsetWriter.Pair> pairs = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      pairs.add(new GoldenSubsetWriter.Pair(100 + i, "first text " + i, "second text " + i, i % 5));
    }
    Path subset = dir.resolve("pairs.parquet");
    GoldenSubsetWriter.writePairs(new org.apache.hadoop.fs.Path(subset.toUri()), pairs, 1 << 20);
    subsetUri = subset.toUri().toString();
    // v1 moves row 17 most (down by 0.5), every other row by 0.01
    archiveVersion("v0", i -> 0.6, null, Flag.WARN, Instant.parse("2026-12-01T10:00:00Z"));
    archiveVersion(
        "v1", i -> i == 17 ? 0.1 : 0.61, "v0", Flag.RED, Instant.parse("2026-12-01T11:00:00Z"));
  }

  private void archiveVersion(
      String version,
      java.util.function.IntToDoubleFunction cosine,
      String baseline,
      Flag flag,
      Instant decided)
      throws Exception {
    double[] values = new double[ROWS];
    for (int i = 0; i < ROWS; i++) {
      values[i] = cosine.applyAsDouble(i);
    }
    String sha = version.equals("v0") ? "a".repeat(64) : "b".repeat(64);
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
            Map.of("cosine", values),
            new EvaluationArchive.Provenance(
                List.of(), List.of("cpu"), List.of(), "sig", "run-" + version));
    archive.writeLock(
        EvaluationLock.builder()
            .model("m")
            .version(version)
            .eventId("ev-" + version)
            .runId("run-" + version)
            .commit("commit-" + version)
            .task("embedding")
            .artifact(new ArtifactRef("file:///models/" + version + ".onnx", sha))
            .tokenizerSha256("t".repeat(64))
            .goldenSubsetUri(subsetUri)
            .goldenSubsetSha256("d".repeat(64))
            .goldenSubsetColumns(Map.of())
            .evaluatorVersion("e/1")
            .onnxRuntime(List.of())
            .executionProviders(List.of("cpu"))
            .hardware(List.of())
            .modelSignature("sig")
            .policyVersion("1")
            .baselineVersion(baseline)
            .flag(flag)
            .metrics(
                Map.of(
                    "mean_cosine",
                    EvaluationLock.LockedMetric.builder()
                        .value(0.6)
                        .relativeChange(baseline == null ? null : -0.0067)
                        .ciLow(baseline == null ? null : -0.02)
                        .ciHigh(baseline == null ? null : 0.005)
                        .ciConfidence(0.95)
                        .status(baseline == null ? null : flag)
                        .baseline(baseline == null ? null : 0.6)
                        .margin(0.02)
                        .build()))
            .scores(scores)
            .scoresReused(false)
            .decidedAt(decided)
            .build());
  }

  private DriftFlag flagOfV1() {
    MetricValue metric =
        MetricValue.builder()
            .value(0.6)
            .n(ROWS)
            .direction("two_sided")
            .baseline(0.6)
            .delta(-0.004)
            .relativeDelta(-0.0067)
            .ciLow(-0.02)
            .ciHigh(0.005)
            .ciConfidence(0.95)
            .margin(0.02)
            .gating(true)
            .pValue(0.01)
            .status(Flag.RED)
            .evidence("mean_cosine RED: 0.7% lower")
            .build();
    return DriftFlag.builder()
        .runId("run-v1")
        .eventId("ev-v1")
        .model("m")
        .version("v1")
        .baselineVersion("v0")
        .flag(Flag.RED)
        .metrics(Map.of("mean_cosine", metric))
        .reasons(List.of("mean_cosine RED: 0.7% lower"))
        .executionProviders(List.of("cpu"))
        .decidedAt(Instant.parse("2026-12-01T11:00:00Z"))
        .policyVersion("1")
        .lockfile(archive.lockPath("m", "v1").toString())
        .build();
  }

  @Test
  void writesTheReportTheCommentAndTheFlagIntoTheArchive() throws Exception {
    Review review = publisher.publish(flagOfV1());
    assertThat(review.reportUri()).endsWith("reports/m/v1/report.html");
    String html =
        new String(
            archive.reportFile("m", "v1", ReviewPublisher.REPORT).orElseThrow(),
            StandardCharsets.UTF_8);
    // interval, histogram, scatter, and one history chart for the one metric
    assertThat(html.split("src=\"data:image/png;base64,", -1)).hasSize(5);
    assertThat(html).contains("first text 17", "commit-v1", "v0", "Content-Security-Policy");
    assertThat(archive.reportFile("m", "v1", ReviewPublisher.HISTOGRAM)).isPresent();
    assertThat(
            archive
                .reportFile("m", "v1", ReviewPublisher.COMMENT)
                .map(b -> new String(b, StandardCharsets.UTF_8)))
        .contains(review.markdown());
    assertThat(
            Json.read(
                archive.reportFile("m", "v1", ReviewPublisher.FLAG).orElseThrow(), DriftFlag.class))
        .isEqualTo(flagOfV1());
  }

  @Test
  void theCommentListsTheRowThatMovedMostFirstWithItsIdAndText() {
    String md = publisher.publish(flagOfV1()).markdown();
    int table = md.indexOf("#### Rows that moved most");
    assertThat(table).isPositive();
    String firstRow = md.substring(table).lines().skip(4).findFirst().orElseThrow();
    assertThat(firstRow)
        .startsWith("| 117 | first text 17 ⟷ second text 17 | 0.6000 | 0.1000 | -0.5000 |");
    assertThat(md).contains("#### What changed since the baseline (lockfile)", "artifact.sha256");
    assertThat(md).contains("History of m (2 evaluations)");
  }

  @Test
  void aFlagWithoutLockfileStillGetsAReviewNamingItsCause() {
    DriftFlag error =
        DriftFlag.builder()
            .runId("run-x")
            .eventId("ev-x")
            .model("m")
            .version("broken")
            .flag(Flag.ERROR)
            .metrics(Map.of())
            .reasons(List.of("artifact: sha256 mismatch"))
            .executionProviders(List.of())
            .decidedAt(Instant.now())
            .build();
    Review review = publisher.publish(error);
    assertThat(review.markdown())
        .contains("could not be evaluated: artifact: sha256 mismatch", "Fix the cause");
    assertThat(review.reportUri()).isNotNull();
    DriftFlag nameless =
        DriftFlag.builder()
            .runId("run-y")
            .eventId("unparsed:t/0/1")
            .flag(Flag.ERROR)
            .metrics(Map.of())
            .reasons(List.of("not JSON"))
            .executionProviders(List.of())
            .decidedAt(Instant.now())
            .build();
    assertThat(publisher.publish(nameless).markdown())
        .startsWith(ReviewMarkdown.marker(null))
        .contains("not JSON");
  }

  @Test
  void aMetricWhoseChangeIsNotFiniteStillGetsAReport() {
    DriftFlag v1 = flagOfV1();
    MetricValue infinite =
        MetricValue.builder()
            .value(0.6)
            .n(ROWS)
            .direction("two_sided")
            .baseline(0.0)
            .delta(0.6)
            .relativeDelta(Double.POSITIVE_INFINITY)
            .ciLow(Double.NaN)
            .ciHigh(Double.NaN)
            .ciConfidence(0.95)
            .margin(0.02)
            .gating(true)
            .status(Flag.RED)
            .evidence("mean_cosine RED from 0")
            .build();
    DriftFlag flag =
        DriftFlag.builder()
            .runId(v1.runId())
            .eventId(v1.eventId())
            .model("m")
            .version("v1")
            .baselineVersion("v0")
            .flag(Flag.RED)
            .metrics(Map.of("mean_cosine", infinite))
            .reasons(v1.reasons())
            .executionProviders(List.of())
            .decidedAt(v1.decidedAt())
            .policyVersion("1")
            .lockfile(v1.lockfile())
            .build();
    Review review = publisher.publish(flag);
    assertThat(review.reportUri()).isNotNull();
    assertThat(review.markdown()).contains("| mean_cosine |");
  }

  @Test
  void rebuildsAReviewFromTheKeptFlagOrFromTheLockfile() throws Exception {
    assertThat(publisher.rebuild("m", "v0").markdown()).contains("rebuilt from the lockfile");
    publisher.publish(flagOfV1());
    Files.delete(
        Path.of(
            java.net.URI.create(archive.reportPath("m", "v1", ReviewPublisher.REPORT).toString())));
    Review again = publisher.rebuild("m", "v1");
    assertThat(again.markdown())
        .doesNotContain("rebuilt from the lockfile")
        .contains("RED: 0.7% lower");
    assertThat(Path.of(java.net.URI.create(again.reportUri()))).exists();
    assertThatThrownBy(() -> publisher.rebuild("m", "never"))
        .hasMessageContaining("no evaluation of m never");
  }
}
