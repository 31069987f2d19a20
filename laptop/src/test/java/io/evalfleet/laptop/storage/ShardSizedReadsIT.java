package io.evalfleet.laptop.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.AllowedRoots;
import io.evalfleet.common.storage.HadoopSettings;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.dispatcher.plan.Shard;
import io.evalfleet.dispatcher.plan.ShardPlanner;
import io.evalfleet.laptop.bench.StorageBench;
import io.evalfleet.laptop.embedded.LocalS3;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.LongStream;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker scoring one shard of a large golden subset on S3 reads about that shard's row groups and
 * the footer, not the file: a subset of over 100 MB in 200 row groups, served by a real S3 endpoint
 * whose relay counts the ranges asked for and the bytes sent, one shard of 1/50 of its rows read as
 * the dispatcher plans it, in file order and in a seeded order.
 */
class ShardSizedReadsIT {
  static final int ROWS = 100_000;
  static final int ROW_CHARS = 1050;
  static final int ROW_GROUP_ROWS = 500;
  static final int SHARDS = 50;

  @TempDir static Path dir;
  static LocalS3 s3;
  static Path local;
  static long size;
  static long footer;
  static String key;
  static SubsetRef subset;
  static List<Long> rowGroups;

  @BeforeAll
  static void serveALargeSubset() throws Exception {
    local = dir.resolve("large.parquet");
    StorageBench.writeSubset(local, ROWS, ROW_CHARS, ROW_GROUP_ROWS);
    size = Files.size(local);
    footer = StorageBench.footerBytes(local);
    Storage storage = Storage.withDefaults();
    String localUri = local.toUri().toString();
    rowGroups = GoldenSubsetFile.readFooter(storage, localUri).rowGroupSizes();
    s3 = LocalS3.start(dir.resolve("s3"));
    key = "subsets/large.parquet";
    String uri = s3.upload(local, StorageBench.BUCKET, key);
    subset = new SubsetRef(uri, storage.sha256(localUri), "large", Map.of("text", "text"));
  }

  @AfterAll
  static void stop() throws Exception {
    FileSystem.closeAll();
    if (s3 != null) {
      s3.close();
    }
  }

  @Test
  void theSubsetIsLargeAndInRowGroupsOfEqualRows() {
    assertThat(size).isGreaterThanOrEqualTo(100_000_000L);
    assertThat(rowGroups).hasSize(ROWS / ROW_GROUP_ROWS).containsOnly((long) ROW_GROUP_ROWS);
  }

  @Test
  void aShardInFileOrderReadsItsRowGroupsAndTheFooter() throws Exception {
    List<Shard> plan = new ShardPlanner(ROWS / SHARDS).plan(rowGroups);
    assertThat(plan).hasSize(SHARDS);
    Shard shard = plan.get(17);
    ScoringJob job = StorageBench.job(subset, shard, plan.size(), null);

    StorageBench.ShardRead read = readAsAWorker(job, Map.of());

    assertThat(read.ids())
        .containsExactlyElementsOf(LongStream.range(shard.start(), shard.end()).boxed().toList());
    assertSizedToTheShard(read);
  }

  @Test
  void aShardOfASeededOrderReadsItsBlocksRowGroupsAndTheFooter() throws Exception {
    RowOrder order = RowOrder.of(7, subset.sha256(), rowGroups);
    assertThat(order.unitRows()).isEqualTo(ROW_GROUP_ROWS);
    List<Shard> plan = new ShardPlanner(ROWS / SHARDS).plan(order, null);
    assertThat(plan).hasSize(SHARDS);
    Shard shard = plan.get(17);
    ScoringJob job = StorageBench.job(subset, shard, plan.size(), order);

    StorageBench.ShardRead read = readAsAWorker(job, Map.of());

    assertThat(read.ids())
        .containsExactlyElementsOf(
            Arrays.stream(order.rows(shard.start(), shard.count())).boxed().toList());
    assertSizedToTheShard(read);
    // The order of the rows alone (blocks of 25 rows) would put this shard in most row groups.
    RowOrder byRows = RowOrder.of(7, subset.sha256(), ROWS);
    assertThat(
            Arrays.stream(byRows.rows(shard.start(), shard.count()))
                .map(row -> row / ROW_GROUP_ROWS)
                .distinct()
                .count())
        .isGreaterThan(40);
  }

  @Test
  void whatEachS3aInputStreamAsksForOneShard() throws Exception {
    // Not asserted beyond the fleet's default: the figures behind HadoopSettings.FLEET_DEFAULTS.
    RowOrder order = RowOrder.of(7, subset.sha256(), rowGroups);
    List<Shard> plan = new ShardPlanner(ROWS / SHARDS).plan(order, null);
    ScoringJob job = StorageBench.job(subset, plan.get(23), plan.size(), order);
    Map<String, Map<String, String>> candidates = new LinkedHashMap<>();
    candidates.put("fleet defaults", Map.of());
    candidates.put("analytics", Map.of("fs.s3a.input.stream.type", "analytics"));
    candidates.put("classic", Map.of("fs.s3a.input.stream.type", "classic"));
    candidates.put(
        "classic, random",
        Map.of(
            "fs.s3a.input.stream.type", "classic",
            "fs.s3a.experimental.input.fadvise", "random"));
    candidates.put("prefetch", Map.of("fs.s3a.input.stream.type", "prefetch"));
    candidates.put("no vectored reads", Map.of("parquet.hadoop.vectored.io.enabled", "false"));
    for (var candidate : candidates.entrySet()) {
      StorageBench.ShardRead read = readAsAWorker(job, candidate.getValue());
      System.out.printf(
          Locale.ROOT,
          "s3a %-18s asked for %,13d bytes in %3d GETs, sent %,13d (shard's share %,d + footer"
              + " %,d), %,.0f rows/s%n",
          candidate.getKey(),
          read.bytesRead(),
          read.gets(),
          read.bytesSent(),
          size / SHARDS,
          footer,
          read.rowsPerSecond());
      if (candidate.getValue().isEmpty()) {
        assertSizedToTheShard(read);
      }
    }
  }

  /** Reads the job as a worker does, through S3A with the fleet's defaults and {@code extra}. */
  private static StorageBench.ShardRead readAsAWorker(ScoringJob job, Map<String, String> extra)
      throws Exception {
    FileSystem.closeAll(); // a new S3A client with these settings, as a worker starts
    Map<String, String> settings = new LinkedHashMap<>(s3.hadoopSettings());
    settings.putAll(extra);
    Storage storage =
        new Storage(HadoopSettings.of(settings), AllowedRoots.any(), 3, Duration.ofMillis(200));
    return StorageBench.readS3(s3, storage, key, size, job);
  }

  private static void assertSizedToTheShard(StorageBench.ShardRead read) {
    long bound = (long) (2.5 * size / SHARDS) + footer;
    assertThat(read.bytesRead()).as("bytes asked for").isPositive().isLessThanOrEqualTo(bound);
    assertThat(read.bytesSent()).as("bytes sent").isLessThanOrEqualTo(bound + 64 * 1024);
  }
}
