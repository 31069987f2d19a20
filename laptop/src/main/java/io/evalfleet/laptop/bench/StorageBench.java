package io.evalfleet.laptop.bench;

import io.evalfleet.cli.logging.InteractiveLogging;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.RowOrder;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.storage.AllowedRoots;
import io.evalfleet.common.storage.HadoopSettings;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.plan.Shard;
import io.evalfleet.dispatcher.plan.ShardPlanner;
import io.evalfleet.laptop.embedded.LocalS3;
import io.evalfleet.scoring.subset.SubsetReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One worker reading shards of the same golden subset from local disk and from an S3 endpoint
 * ({@link LocalS3}, whose relay counts the bytes it sends and the ranges asked for): rows/s and
 * bytes read per shard, in file order, in a seeded order whose blocks are the row groups and in one
 * whose blocks cut across them, side by side.
 */
@Command(
    name = "storage",
    header = "Rows/s and bytes read per shard of a golden subset on local disk and on S3.",
    description =
        "Writes a golden subset of random text (row groups of --row-group-rows rows), serves it from a local S3 endpoint (S3Proxy behind a relay that counts bytes) and reads shards of 1/--shards of its rows as one worker does (SubsetReader, the shards planned as the dispatcher plans them, in file order, in a seeded order whose blocks are the row groups, and in one of blocks of a few rows that cut across them), from local disk and through S3A with the fleet's Hadoop defaults. Prints rows/s and bytes read per shard, and the ratio S3/local.")
public final class StorageBench implements Callable<Integer> {
  /** The bucket the benchmark's subsets are served from. */
  public static final String BUCKET = "golden";

  @picocli.CommandLine.Mixin InteractiveLogging logging;

  @Option(
      names = "--rows",
      defaultValue = "100000",
      description = "Rows of the subset. Default: ${DEFAULT-VALUE}.")
  int rows;

  @Option(
      names = "--row-chars",
      defaultValue = "1000",
      description = "Characters of random text per row. Default: ${DEFAULT-VALUE}.")
  int rowChars;

  @Option(
      names = "--row-group-rows",
      defaultValue = "500",
      description = "Rows per Parquet row group. Default: ${DEFAULT-VALUE}.")
  int rowGroupRows;

  @Option(
      names = "--shards",
      defaultValue = "50",
      description = "The subset is cut into this many shards. Default: ${DEFAULT-VALUE}.")
  int shards;

  @Option(
      names = "--read-shards",
      defaultValue = "5",
      description =
          "Shards read per store and order (spread over the run). Default: ${DEFAULT-VALUE}.")
  int readShards;

  @Option(
      names = "--hadoop",
      description =
          "A Hadoop setting for the S3 reads, key=value, as hadoop.* in the fleet's settings (e.g. fs.s3a.input.stream.type=classic); repeat for more.")
  Map<String, String> hadoop = new LinkedHashMap<>();

  @Option(
      names = "--work-dir",
      defaultValue = ".evalfleet/bench",
      description = "The subset and the endpoint's folder. Default: ${DEFAULT-VALUE}.")
  Path workDir;

  /** What reading one shard cost. */
  public record ShardRead(List<Long> ids, long nanos, long bytesRead, long bytesSent, int gets) {
    /** Rows read per second of the read. */
    public double rowsPerSecond() {
      return ids.size() / (nanos / 1e9);
    }
  }

  @Override
  public Integer call() throws Exception {
    Path dir = workDir.resolve("storage");
    Files.createDirectories(dir);
    Path local = dir.resolve("subset-" + rows + "x" + rowChars + "-" + rowGroupRows + ".parquet");
    if (!Files.exists(local)) {
      writeSubset(local, rows, rowChars, rowGroupRows);
    }
    long size = Files.size(local);
    String localUri = local.toUri().toString();
    Storage localStorage = Storage.withDefaults();
    GoldenSubsetFile footer = GoldenSubsetFile.readFooter(localStorage, localUri);
    SubsetRef localRef =
        new SubsetRef(localUri, localStorage.sha256(localUri), "bench", Map.of("text", "text"));
    int shardRows = Math.max(1, rows / shards);
    List<Shard> fileOrder = new ShardPlanner(shardRows).plan(footer.rowGroupSizes());
    RowOrder order = RowOrder.of(7, localRef.sha256(), footer.rowGroupSizes());
    System.out.printf(
        Locale.ROOT,
        "%nsubset: %,d rows, %,d row groups, %,.1f MB; shards of 1/%d (%,d rows); one worker,"
            + " columns id and text%norders: file; seeded, in blocks of %,d rows (its row groups);"
            + " rows, in blocks of %,d rows (the rows alone, cutting across row groups)%n",
        rows,
        footer.rowGroupSizes().size(),
        size / 1e6,
        shards,
        shardRows,
        order.unitRows(),
        RowOrder.of(7, localRef.sha256(), rows).unitRows());
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3-" + ProcessHandle.current().pid()))) {
      String key = local.getFileName().toString();
      String s3Uri = s3.upload(local, BUCKET, key);
      Map<String, String> settings = new LinkedHashMap<>(s3.hadoopSettings());
      settings.putAll(hadoop);
      Storage s3Storage =
          new Storage(HadoopSettings.of(settings), AllowedRoots.any(), 3, Duration.ofMillis(200));
      SubsetRef s3Ref = new SubsetRef(s3Uri, localRef.sha256(), "bench", localRef.columns());
      System.out.printf(
          Locale.ROOT,
          "%-6s %-6s %12s %16s %16s %8s%n",
          "order",
          "store",
          "rows/s",
          "MB read/shard",
          "share of file",
          "GETs");
      // In file order; in the seeded order, whose blocks are the row groups; and in the order of
      // blocks of a few rows that cut across row groups (what a sequential run used before).
      // One read of each store first, not counted: classes loaded, code compiled, S3A connected.
      readLocal(localStorage, job(localRef, fileOrder.get(0), fileOrder.size(), null));
      readS3(s3, s3Storage, key, size, job(s3Ref, fileOrder.get(0), fileOrder.size(), null));
      Map<String, RowOrder> orders = new LinkedHashMap<>();
      orders.put("file", null);
      orders.put("seeded", order);
      orders.put("rows", RowOrder.of(7, localRef.sha256(), rows));
      for (var entry : orders.entrySet()) {
        RowOrder jobsOrder = entry.getValue();
        List<Shard> plan =
            jobsOrder == null ? fileOrder : new ShardPlanner(shardRows).plan(jobsOrder, null);
        List<ShardRead> onDisk = new ArrayList<>();
        List<ShardRead> onS3 = new ArrayList<>();
        for (int i = 0; i < readShards; i++) {
          Shard shard = plan.get((int) ((long) (2 * i + 1) * plan.size() / (2L * readShards)));
          onDisk.add(readLocal(localStorage, job(localRef, shard, plan.size(), jobsOrder)));
          onS3.add(readS3(s3, s3Storage, key, size, job(s3Ref, shard, plan.size(), jobsOrder)));
        }
        String name = entry.getKey();
        print(name, "local", onDisk, size);
        print(name, "s3", onS3, size);
        System.out.printf(
            Locale.ROOT,
            "%-6s %-6s %11.2fx %15.2fx%n",
            name,
            "s3/loc",
            mean(onS3, true) / mean(onDisk, true),
            mean(onS3, false) / mean(onDisk, false));
      }
      FileSystem.closeAll();
    }
    return 0;
  }

  private static void print(String order, String store, List<ShardRead> reads, long size) {
    double bytes = mean(reads, false);
    System.out.printf(
        Locale.ROOT,
        "%-6s %-6s %12.0f %16.2f %15.2f%% %8.1f%n",
        order,
        store,
        mean(reads, true),
        bytes / 1e6,
        100 * bytes / size,
        reads.stream().mapToInt(ShardRead::gets).average().orElse(0));
  }

  private static double mean(List<ShardRead> reads, boolean rate) {
    return reads.stream()
        .mapToDouble(r -> rate ? r.rowsPerSecond() : r.bytesRead())
        .average()
        .orElse(0);
  }

  /**
   * Writes {@code rows} rows of {@code rowChars} random lowercase letters and spaces (seeded by the
   * row, so that they do not compress away) in row groups of {@code rowGroupRows} rows.
   */
  public static void writeSubset(Path file, int rows, int rowChars, int rowGroupRows)
      throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    GoldenSubsetWriter.writeTexts(
        new org.apache.hadoop.fs.Path(file.toUri()),
        rows,
        row -> text(row, rowChars),
        rowGroupRows);
  }

  /** The text of {@code row} in a subset of {@link #writeSubset}. */
  public static String text(int row, int chars) {
    SplittableRandom random = new SplittableRandom(row);
    char[] text = new char[chars];
    for (int i = 0; i < chars; i++) {
      int c = random.nextInt(27);
      text[i] = c == 26 ? ' ' : (char) ('a' + c);
    }
    return new String(text);
  }

  /** A text-embedding job of {@code shard}, of a seeded order when {@code order} is given. */
  public static ScoringJob job(SubsetRef subset, Shard shard, int shardCount, RowOrder order) {
    String run = "bench-storage-" + System.nanoTime();
    // Only the subset is read here: the model and tokenizer a worker would load stand for it.
    ArtifactRef unread = new ArtifactRef(subset.uri(), subset.sha256());
    return ScoringJob.builder()
        .jobId(ScoringJob.jobId(run, shard.index()))
        .runId(run)
        .eventId(run)
        .model("bench")
        .version("v")
        .task(Task.EMBEDDING)
        .artifact(unread)
        .tokenizer(unread)
        .goldenSubset(subset)
        .shardIndex(shard.index())
        .shardCount(shardCount)
        .rowStart(shard.start())
        .rowCount(shard.count())
        .metrics(Task.EMBEDDING.spec().rowValues())
        .attempt(1)
        .deadline(Instant.now().plusSeconds(600))
        .order(order)
        .build();
  }

  /**
   * Reads the rows of {@code job} from local disk as a worker does (a new reader: footer too);
   * bytes read are what the process read from files meanwhile ({@code rchar} of {@code
   * /proc/self/io}: Parquet's vectored reads of a local file bypass Hadoop's statistics), or 0
   * where there is no such file.
   */
  public static ShardRead readLocal(Storage storage, ScoringJob job) throws IOException {
    long before = bytesReadByProcess();
    List<Long> ids = new ArrayList<>();
    long start = System.nanoTime();
    read(storage, job, ids);
    long nanos = System.nanoTime() - start;
    long read = Math.max(0, bytesReadByProcess() - before);
    return new ShardRead(ids, nanos, read, read, 0);
  }

  private static long bytesReadByProcess() throws IOException {
    Path io = Path.of("/proc/self/io");
    if (!Files.isReadable(io)) {
      return 0;
    }
    for (String line : Files.readAllLines(io)) {
      if (line.startsWith("rchar:")) {
        return Long.parseLong(line.substring("rchar:".length()).trim());
      }
    }
    return 0;
  }

  /**
   * Reads the rows of {@code job} from {@code s3} as a worker does (a new reader: footer too);
   * bytes read are those the ranged GETs of {@code key} asked for (a GET without a bound counts to
   * the end of the object).
   */
  public static ShardRead readS3(LocalS3 s3, Storage storage, String key, long size, ScoringJob job)
      throws IOException {
    s3.resetCounts();
    List<Long> ids = new ArrayList<>();
    long start = System.nanoTime();
    read(storage, job, ids);
    long nanos = System.nanoTime() - start;
    long asked = 0;
    int gets = 0;
    for (LocalS3.Request request : s3.requestsFor(BUCKET, key)) {
      if (request.method().equals("GET")) {
        gets++;
        asked += requestedBytes(request, size);
      }
    }
    return new ShardRead(ids, nanos, asked, s3.bytesSent(), gets);
  }

  /** The bytes a GET of an object of {@code size} bytes asks for. */
  public static long requestedBytes(LocalS3.Request request, long size) {
    long length = request.rangeLength();
    if (length >= 0) {
      return Math.min(length, size);
    }
    String range = request.range();
    if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
      return size - Long.parseLong(range.substring("bytes=".length(), range.length() - 1).trim());
    }
    return size;
  }

  private static void read(Storage storage, ScoringJob job, List<Long> ids) throws IOException {
    new SubsetReader(storage)
        .read(
            job.goldenSubset().uri(),
            List.of("id", "text"),
            job,
            row -> {
              row.getString("text", 0); // decoded, as a tokenizer would have it
              ids.add(row.getLong("id", 0));
            });
  }

  /** The length of the file's footer with its 8-byte tail (length and magic). */
  public static long footerBytes(Path file) throws IOException {
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      in.seek(in.length() - 8);
      byte[] tail = new byte[4];
      in.readFully(tail);
      return ((tail[0] & 0xFFL)
              | (tail[1] & 0xFFL) << 8
              | (tail[2] & 0xFFL) << 16
              | (tail[3] & 0xFFL) << 24)
          + 8;
    }
  }
}
