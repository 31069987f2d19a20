package io.evalfleet.laptop.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.laptop.embedded.LocalS3;
import io.evalfleet.laptop.storage.StoredFleetScenario.Observed;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet reads and writes every kind of file it has (models and tokenizers, golden subsets, the
 * evaluation archive with a retrieval run's embeddings, a monitor's traffic log) on another store
 * exactly as on local files: the same scenario ({@link StoredFleetScenario}) on a real HDFS gives
 * the same flags, reasons and metric values, every double to its last digit, as on {@code file:},
 * and the same files in its archive; so does a bucket on a real S3 endpoint ({@link S3FileStore}).
 */
class StoredFilesIT {
  @TempDir static Path dir;
  static StoredFleetScenario.Inputs inputs;
  static Path localStore;
  static Observed onLocalFiles;

  @BeforeAll
  static void runOnLocalFiles() throws Exception {
    inputs = StoredFleetScenario.Inputs.make(dir.resolve("inputs"));
    localStore = dir.resolve("local-store");
    try (LocalFileStore store = new LocalFileStore(localStore)) {
      onLocalFiles = new StoredFleetScenario(store, inputs, dir.resolve("local-run")).run();
    }
    System.out.printf("file: scenario in %s%n", onLocalFiles.elapsed());
    onLocalFiles
        .comparable(localRoots())
        .forEach((step, json) -> System.out.println(step + ": " + json));
  }

  /** The values compared below are known answers, not empty or all alike. */
  @Test
  void onLocalFilesTheRunsGiveTheirKnownAnswers() {
    DriftFlag fp32 = onLocalFiles.flags().get(StoredFleetScenario.EMBEDDING_FP32);
    assertThat(fp32.flag()).as("%s", fp32.reasons()).isEqualTo(Flag.WARN);
    assertThat(fp32.coverage().rowsScored()).isEqualTo(48);
    assertThat(fp32.metrics().get(MetricNames.SPEARMAN).value()).isGreaterThan(0.6);

    DriftFlag int8 = onLocalFiles.flags().get(StoredFleetScenario.EMBEDDING_INT8);
    assertThat(int8.baselineVersion()).isEqualTo("fp32");
    assertThat(int8.flag()).as("%s", int8.reasons()).isIn(Flag.GREEN, Flag.WARN, Flag.RED);
    var meanCosine = int8.metrics().get(MetricNames.MEAN_COSINE);
    assertThat(meanCosine.baseline())
        .isEqualTo(fp32.metrics().get(MetricNames.MEAN_COSINE).value());
    assertThat(meanCosine.value())
        .as("int8 scores differ from fp32's")
        .isNotEqualTo(meanCosine.baseline());
    assertThat(meanCosine.value()).isBetween(0.0, 1.0);
    assertThat(meanCosine.ciLow()).isLessThan(meanCosine.ciHigh());

    DriftFlag again = onLocalFiles.flags().get(StoredFleetScenario.EMBEDDING_FP32_AGAIN);
    assertThat(again.flag()).as("%s", again.reasons()).isEqualTo(Flag.GREEN);
    assertThat(again.reasons())
        .anyMatch(r -> r.startsWith("scores reused from an identical earlier evaluation"));
    assertThat(again.metrics().get(MetricNames.SPEARMAN).relativeDelta()).isZero();

    // Held-out perplexity computed in torch (float64) by scripts/make_causal_lm_fixtures.py.
    DriftFlag causal = onLocalFiles.flags().get(StoredFleetScenario.CAUSAL_LM);
    assertThat(causal.flag()).as("%s", causal.reasons()).isEqualTo(Flag.WARN);
    assertThat(causal.metrics().get(MetricNames.PERPLEXITY).value())
        .isCloseTo(9.916433, within(1e-5));

    DriftFlag retrieval = onLocalFiles.flags().get(StoredFleetScenario.RETRIEVAL);
    assertThat(retrieval.flag()).as("%s", retrieval.reasons()).isEqualTo(Flag.WARN);
    assertThat(retrieval.coverage().rowsScored()).as("192 docs and 48 queries").isEqualTo(240);
    assertThat(retrieval.metrics().get(MetricNames.NDCG_AT_10).value()).isBetween(0.3, 1.0);

    MonitorResult monitor = onLocalFiles.monitor();
    assertThat(monitor.drifted()).as("the window after the shift: %s", monitor.evidence()).isTrue();
    assertThat(monitor.mmd2()).isPositive();
    assertThat(monitor.pValue()).isPositive().isLessThanOrEqualTo(0.05);

    assertThat(onLocalFiles.archived())
        .contains(
            "locks/stored-embedder/fp32.lock.json",
            "locks/stored-embedder/int8.lock.json",
            "locks/stored-lm/base.lock.json",
            "locks/stored-search/fp32.lock.json",
            "monitor/stored-support-embedder/20261101T080000Z.json",
            "reports/stored-embedder/int8/flag.json",
            "reports/stored-embedder/int8/report.html",
            "reports/stored-embedder/int8/review.md",
            "reports/stored-search/fp32/review.md")
        .anyMatch(f -> f.matches("scores/.*\\.embeddings/docs-0\\.parquet"))
        .anyMatch(f -> f.matches("scores/.*\\.embeddings/queries-[0-9]+\\.parquet"));
  }

  @Test
  void onHdfsEveryFlagAndMetricIsAsOnLocalFilesAndEveryFileIsOnHdfs() throws Exception {
    Observed onHdfs;
    List<String> opened;
    List<String> listedByHdfs;
    String root;
    try (LocalHdfs hdfs = LocalHdfs.start(dir.resolve("hdfs"))) {
      root = hdfs.uri("");
      onHdfs = new StoredFleetScenario(hdfs, inputs, dir.resolve("hdfs-run")).run();
      opened = hdfs.opened();
      listedByHdfs =
          StoredFleetScenario.list(hdfs.fileSystem(), hdfs.fileSystem().getUri() + "/archive");
    }
    System.out.printf("hdfs: scenario in %s%n", onHdfs.elapsed());

    assertSameAsOnLocalFiles(onHdfs, List.of(root));
    assertThat(onHdfs.archiveRoot()).startsWith("hdfs://" + LocalHdfs.NAMESERVICE + "/");
    assertThat(listedByHdfs)
        .as("the archive, as the name node lists it")
        .isEqualTo(onHdfs.archived());
    assertThat(opened)
        .as("files read from HDFS, by the name node's audit log")
        .contains(
            "/models/minilm-fp32/model.onnx",
            "/models/minilm-fp32/tokenizer.json",
            "/models/minilm-int8/model.onnx",
            "/models/bytegpt-base/model.onnx",
            "/golden/sts-pairs-48.parquet",
            "/golden/heldout-text-v1.parquet",
            "/golden/sts-retrieval-v1.parquet",
            "/traffic/support.parquet")
        .anyMatch(f -> f.matches("/archive/scores/.*\\.embeddings/docs-0\\.parquet"))
        .as("scores read back from the archive: reused, and reviewed")
        .anyMatch(f -> f.matches("/archive/scores/[0-9a-f/]+\\.parquet"));
  }

  @Test
  void onS3EveryFlagAndMetricIsAsOnLocalFilesAndEveryFileIsReadFromTheEndpoint() throws Exception {
    Observed onS3;
    List<String> paths;
    try (S3FileStore s3 = new S3FileStore(dir.resolve("s3"), "evalfleet")) {
      s3.endpoint().resetCounts();
      onS3 = new StoredFleetScenario(s3, inputs, dir.resolve("s3-run")).run();
      paths = s3.endpoint().requests().stream().map(LocalS3.Request::path).distinct().toList();
    }
    System.out.printf("s3a: scenario in %s%n", onS3.elapsed());

    assertSameAsOnLocalFiles(onS3, List.of("s3a://evalfleet/"));
    assertThat(onS3.archiveRoot()).startsWith("s3a://evalfleet/");
    assertThat(paths)
        .as("objects the endpoint was asked for")
        .contains(
            "/evalfleet/models/minilm-fp32/model.onnx",
            "/evalfleet/models/minilm-int8/model.onnx",
            "/evalfleet/models/bytegpt-base/model.onnx",
            "/evalfleet/golden/sts-pairs-48.parquet",
            "/evalfleet/golden/heldout-text-v1.parquet",
            "/evalfleet/golden/sts-retrieval-v1.parquet",
            "/evalfleet/traffic/support.parquet")
        .anyMatch(p -> p.matches("/evalfleet/archive/scores/.*\\.embeddings/docs-0\\.parquet"));
  }

  /** The local store's root, as a URI and as a path. */
  static List<String> localRoots() {
    String local = localStore.toAbsolutePath() + "/";
    return List.of("file://" + local, "file:" + local, local);
  }

  /**
   * {@code observed}, on another store, saw what the scenario saw on local files: the same flags
   * with the same reasons and metric vectors (JSON of every value, so each double to its last
   * digit), the same monitor result, and the same files in the archive.
   */
  static void assertSameAsOnLocalFiles(Observed observed, List<String> storeRoots) {
    Map<String, String> expected = onLocalFiles.comparable(localRoots());
    Map<String, String> actual = observed.comparable(storeRoots);
    assertThat(actual).containsOnlyKeys(expected.keySet());
    expected.forEach((step, json) -> assertThat(actual.get(step)).as(step).isEqualTo(json));
    assertThat(observed.comparableArchive()).isEqualTo(onLocalFiles.comparableArchive());
  }
}
