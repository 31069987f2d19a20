package io.evalfleet.common.archive;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.MonitorResult;
import io.evalfleet.common.signing.SignedFlag;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * What the fleet keeps of every evaluation, on any Hadoop file system under one root:
 *
 * <pre>
 * scores/&lt;subset sha256&gt;/&lt;artifact sha256&gt;/&lt;score key digest&gt;.parquet   per-row scores (row, one double column per value)
 * locks/&lt;model&gt;/&lt;version&gt;.lock.json                                   evaluation lockfiles
 * baselines/&lt;model&gt;/&lt;epoch millis&gt;-&lt;version&gt;.json                     baseline history
 * reports/&lt;model&gt;/&lt;version&gt;/report.html, review.md, *.png               what reviewers read
 * checkpoints/&lt;run id&gt;/&lt;shard&gt;.json                                   shard results of runs in progress
 * noise-floor/&lt;artifact sha256&gt;/&lt;hardware profile&gt;.json                 measured A/A noise floors
 * </pre>
 *
 * Any two runs on the same subset can be compared row by row from their score files. Files are
 * written under a temporary name and renamed into place. Thread-safe.
 */
public final class EvaluationArchive {
  private final Storage storage;
  private final Path root;

  public EvaluationArchive(Storage storage, String rootUri) {
    this.storage = storage;
    this.root = new Path(rootUri.endsWith("/") ? rootUri : rootUri + "/");
  }

  public String root() {
    return root.toString();
  }

  // ---- per-row scores

  public Path scoresPath(ScoreKey key) {
    return new Path(
        root,
        "scores/"
            + key.subsetSha256()
            + "/"
            + key.artifactSha256()
            + "/"
            + key.digest()
            + ".parquet");
  }

  /** Where and how a run's per-row scores were computed, kept beside them. */
  public record Provenance(
      List<String> onnxRuntime,
      List<String> executionProviders,
      List<String> hardware,
      String modelSignature,
      String runId) {}

  /**
   * Archived per-row scores with their provenance.
   *
   * @param sketches the run's per-token distributions (a {@link
   *     io.evalfleet.common.task.TokenSketch} each, encoded), by name
   */
  public record ArchivedScores(
      String uri,
      Map<String, double[]> rows,
      Map<String, String> sketches,
      Provenance provenance) {}

  /** Key-value metadata of a score file that holds a per-token sketch, followed by its name. */
  private static final String SKETCH_METADATA = "evalfleet.sketch.";

  /** Writes a run's per-row scores and their provenance; returns where. */
  public String writeScores(ScoreKey key, Map<String, double[]> rows, Provenance provenance)
      throws IOException {
    return writeScores(key, rows, Map.of(), provenance);
  }

  /**
   * Writes a run's per-row scores, its per-token sketches (in the file's key-value metadata) and
   * their provenance; returns where.
   */
  public String writeScores(
      ScoreKey key, Map<String, double[]> rows, Map<String, String> sketches, Provenance provenance)
      throws IOException {
    return writeScores(key, rows, null, sketches, provenance);
  }

  /**
   * Writes the per-row scores of some of a subset's rows (a sequential run stopped early): value
   * {@code i} of each column is file row {@code fileRows[i]}. They go beside the key's scores,
   * named by the rows they hold ({@code <key>.rows-<n>.parquet}), so an identical evaluation never
   * reuses them as a whole one's; {@link #readScores} puts each value back at its row. With {@code
   * fileRows} null, the scores of every row, as {@link #writeScores(ScoreKey, Map, Map,
   * Provenance)}.
   */
  public String writeScores(
      ScoreKey key,
      Map<String, double[]> rows,
      long[] fileRows,
      Map<String, String> sketches,
      Provenance provenance)
      throws IOException {
    Map<String, String> metadata = new LinkedHashMap<>();
    sketches.forEach((name, sketch) -> metadata.put(SKETCH_METADATA + name, sketch));
    writeJson(provenancePath(key), provenance);
    Path target =
        fileRows == null
            ? scoresPath(key)
            : new Path(
                scoresPath(key).toString().replaceFirst("\\.parquet$", "")
                    + ".rows-"
                    + fileRows.length
                    + ".parquet");
    Types.MessageTypeBuilder builder = Types.buildMessage();
    builder.required(PrimitiveTypeName.INT64).named("row");
    rows.keySet().forEach(name -> builder.required(PrimitiveTypeName.DOUBLE).named(name));
    MessageType schema = builder.named("row_scores");
    int count = rows.values().stream().mapToInt(v -> v.length).max().orElse(0);
    Path partial = partial(target);
    SimpleGroupFactory groups = new SimpleGroupFactory(schema);
    try (ParquetWriter<Group> writer =
        ExampleParquetWriter.builder(HadoopOutputFile.fromPath(partial, storage.conf()))
            .withConf(storage.conf())
            .withType(schema)
            .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
            .withCompressionCodec(CompressionCodecName.SNAPPY)
            .withExtraMetaData(metadata)
            .build()) {
      for (int i = 0; i < count; i++) {
        Group row = groups.newGroup().append("row", fileRows == null ? (long) i : fileRows[i]);
        for (var column : rows.entrySet()) {
          row.append(column.getKey(), column.getValue()[i]);
        }
        writer.write(row);
      }
    }
    commit(partial, target);
    return target.toString();
  }

  /**
   * Where a retrieval run's embeddings are written, beside its scores: its workers write one file
   * per shard there (see the worker's {@code EmbeddingFiles}).
   */
  public Path embeddingsPath(ScoreKey key) {
    return embeddingsOf(scoresPath(key).toString());
  }

  /** The embeddings folder beside the score file {@code scoresUri}. */
  public static Path embeddingsOf(String scoresUri) {
    return new Path(scoresUri.replaceFirst("\\.parquet$", "") + ".embeddings");
  }

  private Path provenancePath(ScoreKey key) {
    return new Path(
        root,
        "scores/" + key.subsetSha256() + "/" + key.artifactSha256() + "/" + key.digest() + ".json");
  }

  /** The archived per-row scores for {@code key}, if a run with the same key was scored before. */
  public Optional<ArchivedScores> scores(ScoreKey key) throws IOException {
    Path path = scoresPath(key);
    if (!fs().exists(path) || !fs().exists(provenancePath(key))) {
      return Optional.empty();
    }
    return Optional.of(
        new ArchivedScores(
            path.toString(),
            readScores(path),
            readSketches(path.toString()),
            readJson(provenancePath(key), Provenance.class)));
  }

  /** The per-token sketches a score file holds, by name; empty when it holds none. */
  public Map<String, String> readSketches(String uri) throws IOException {
    Map<String, String> sketches = new LinkedHashMap<>();
    try (var reader =
        ParquetFileReader.open(HadoopInputFile.fromPath(new Path(uri), storage.conf()))) {
      reader
          .getFooter()
          .getFileMetaData()
          .getKeyValueMetaData()
          .forEach(
              (name, value) -> {
                if (name.startsWith(SKETCH_METADATA)) {
                  sketches.put(name.substring(SKETCH_METADATA.length()), value);
                }
              });
    }
    return sketches;
  }

  /** Whether the score file {@code uri} is there. */
  public boolean hasScores(String uri) throws IOException {
    return fs().exists(new Path(uri));
  }

  /**
   * Per-row scores from a score file written by {@link #writeScores}, by column name, each value at
   * its file row; the rows a file does not hold (the scores of a run stopped early) are NaN, and a
   * column ends at the last row held.
   */
  public Map<String, double[]> readScores(String uri) throws IOException {
    return readScores(new Path(uri));
  }

  private Map<String, double[]> readScores(Path path) throws IOException {
    Map<String, double[]> columns = new LinkedHashMap<>();
    int rows = 0;
    try (ParquetReader<Group> reader =
        ParquetReader.builder(new GroupReadSupport(), path).withConf(storage.conf()).build()) {
      Group row;
      while ((row = reader.read()) != null) {
        var type = row.getType();
        int at = type.containsField("row") ? Math.toIntExact(row.getLong("row", 0)) : rows;
        for (int f = 0; f < type.getFieldCount(); f++) {
          String name = type.getFieldName(f);
          if (!name.equals("row")) {
            double[] column = columns.computeIfAbsent(name, n -> unscored(1024));
            if (at >= column.length) {
              int length = column.length;
              column = Arrays.copyOf(column, Math.max(length * 2, at + 1));
              Arrays.fill(column, length, column.length, Double.NaN);
              columns.put(name, column);
            }
            column[at] = row.getDouble(f, 0);
          }
        }
        rows = Math.max(rows, at + 1);
      }
    }
    final int count = rows;
    columns.replaceAll((name, column) -> Arrays.copyOf(column, count));
    return columns;
  }

  private static double[] unscored(int length) {
    double[] column = new double[length];
    Arrays.fill(column, Double.NaN);
    return column;
  }

  // ---- golden subsets built from traffic

  public Path subsetManifestPath(String name, String version) {
    return new Path(root, "subsets/" + segment(name) + "/" + segment(version) + ".manifest.json");
  }

  /** Registers a built subset version; returns where its manifest is. */
  public String writeSubsetManifest(SubsetManifest manifest) throws IOException {
    Path target = subsetManifestPath(manifest.name(), manifest.version());
    writeJson(target, manifest);
    return target.toString();
  }

  public Optional<SubsetManifest> subsetManifest(String name, String version) throws IOException {
    Path path = subsetManifestPath(name, version);
    return fs().exists(path) ? Optional.of(readJson(path, SubsetManifest.class)) : Optional.empty();
  }

  // ---- the monitor's checks

  /** Keeps one check of a production model on its traffic, in the model's monitor history. */
  public String writeMonitorResult(MonitorResult result) throws IOException {
    Path target = monitorResultPath(result.model(), result.windowEnd());
    writeJson(target, result);
    // Versions before 2026-12 named a result by its window end in epoch milliseconds: a window
    // checked
    // again keeps one result.
    fs().delete(new Path(target.getParent(), result.windowEnd().toEpochMilli() + ".json"), false);
    return target.toString();
  }

  private static final DateTimeFormatter WINDOW_END =
      DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

  /**
   * Where a monitor result is kept: {@code monitor/<model>/<window end>.json}, the window's end in
   * UTC in ISO 8601's basic format ({@code 20261201T100000Z}, milliseconds added when it has them:
   * {@code 20261201T100000.250Z}); no colons, which HDFS and Hadoop paths refuse, and names sort by
   * time.
   */
  public Path monitorResultPath(String model, Instant windowEnd) {
    String name =
        WINDOW_END.format(windowEnd)
            + (windowEnd.getNano() == 0
                ? ""
                : String.format(Locale.ROOT, ".%03d", windowEnd.getNano() / 1_000_000))
            + "Z";
    return new Path(root, "monitor/" + segment(model) + "/" + name + ".json");
  }

  /**
   * The model's monitor history, oldest window first: one result per window end (the latest
   * evaluated), whether its file is named by the window end or, as before 2026-12, by epoch
   * milliseconds.
   */
  public List<MonitorResult> monitorHistory(String model) throws IOException {
    Path dir = new Path(root, "monitor/" + segment(model));
    if (!fs().exists(dir)) {
      return List.of();
    }
    Map<Instant, MonitorResult> byWindow = new TreeMap<>();
    for (FileStatus file :
        fs().listStatus(dir, p -> p.getName().endsWith(".json") && !p.getName().startsWith("."))) {
      MonitorResult result = readJson(file.getPath(), MonitorResult.class);
      byWindow.merge(result.windowEnd(), result, (a, b) -> later(a, b));
    }
    return new ArrayList<>(byWindow.values());
  }

  private static MonitorResult later(MonitorResult a, MonitorResult b) {
    if (a.evaluatedAt() == null) {
      return b;
    }
    return b.evaluatedAt() != null && b.evaluatedAt().isAfter(a.evaluatedAt()) ? b : a;
  }

  // ---- noise floors

  /** Where the noise floor of the model with digest {@code artifactSha256} on a profile is kept. */
  public Path noiseFloorPath(String artifactSha256, String profile) {
    return new Path(
        root, "noise-floor/" + segment(artifactSha256) + "/" + segment(profile) + ".json");
  }

  /** Keeps a measured noise floor, replacing an earlier one of the same model and profile. */
  public String writeNoiseFloor(NoiseFloorRecord floor) throws IOException {
    Path target = noiseFloorPath(floor.artifactSha256(), floor.profile());
    writeJson(target, floor);
    return target.toString();
  }

  /** The noise floor measured for the model on the profile, if any. */
  public Optional<NoiseFloorRecord> noiseFloor(String artifactSha256, String profile)
      throws IOException {
    Path path = noiseFloorPath(artifactSha256, profile);
    return fs().exists(path)
        ? Optional.of(readJson(path, NoiseFloorRecord.class))
        : Optional.empty();
  }

  // ---- lockfiles

  public Path lockPath(String model, String version) {
    return new Path(root, "locks/" + segment(model) + "/" + segment(version) + ".lock.json");
  }

  public String writeLock(EvaluationLock lock) throws IOException {
    Path target = lockPath(lock.model(), lock.version());
    writeJson(target, lock);
    return target.toString();
  }

  public Optional<EvaluationLock> lock(String model, String version) throws IOException {
    Path path = lockPath(model, version);
    return fs().exists(path) ? Optional.of(readJson(path, EvaluationLock.class)) : Optional.empty();
  }

  /**
   * Where the signed flag of {@code model} {@code version} is kept, beside its lockfile: the exact
   * bytes the dispatcher published with their signature ({@link SignedFlag.Archived}).
   */
  public Path signedFlagPath(String model, String version) {
    return new Path(root, "locks/" + segment(model) + "/" + segment(version) + ".flag.signed.json");
  }

  /** Keeps the signed flag of {@code model} {@code version}; returns where. */
  public String writeSignedFlag(String model, String version, SignedFlag flag) throws IOException {
    Path target = signedFlagPath(model, version);
    writeJson(target, flag.archived());
    return target.toString();
  }

  /** The signed flag of {@code model} {@code version}, if the dispatcher kept one. */
  public Optional<SignedFlag> signedFlag(String model, String version) throws IOException {
    Path path = signedFlagPath(model, version);
    if (!fs().exists(path)) {
      return Optional.empty();
    }
    try {
      return Optional.of(SignedFlag.of(readJson(path, SignedFlag.Archived.class)));
    } catch (IllegalArgumentException e) {
      throw new IOException(path + " is unreadable: " + e.getMessage(), e);
    }
  }

  /** Reads a lockfile from anywhere (a path or URI), e.g. for {@code lock diff}. */
  public static EvaluationLock readLock(Storage storage, String uri) throws IOException {
    try (InputStream in = storage.open(uri)) {
      return Json.read(in.readAllBytes(), EvaluationLock.class);
    } catch (ContractViolation e) {
      throw new IOException(uri + " is not an evaluation lockfile: " + e.getMessage(), e);
    }
  }

  /** Every lockfile of {@code model}, oldest decision first. */
  public List<EvaluationLock> locks(String model) throws IOException {
    Path dir = new Path(root, "locks/" + segment(model));
    if (!fs().exists(dir)) {
      return List.of();
    }
    List<EvaluationLock> locks = new ArrayList<>();
    for (FileStatus file : fs().listStatus(dir, p -> p.getName().endsWith(".lock.json"))) {
      locks.add(readJson(file.getPath(), EvaluationLock.class));
    }
    locks.sort(
        Comparator.comparing(
            EvaluationLock::decidedAt, Comparator.nullsFirst(Comparator.naturalOrder())));
    return locks;
  }

  // ---- reports

  /** Where a file of the review of {@code model} {@code version} is kept. */
  public Path reportPath(String model, String version, String file) {
    return new Path(root, reportRelativePath(model, version, file));
  }

  /**
   * {@link #reportPath} relative to the archive's root, for an archive published at another URL.
   */
  public static String reportRelativePath(String model, String version, String file) {
    return "reports/" + segment(model) + "/" + segment(version) + "/" + file;
  }

  /**
   * Writes a file of a version's review (the HTML report, its images, the comment); returns where.
   */
  public String writeReportFile(String model, String version, String file, byte[] content)
      throws IOException {
    return writeBytes(reportPath(model, version, file), content);
  }

  /**
   * Writes a page about all of a model's versions ({@code reports/<model>/<file>}); returns where.
   */
  public String writeModelPage(String model, String file, byte[] content) throws IOException {
    return writeBytes(new Path(root, "reports/" + segment(model) + "/" + file), content);
  }

  /** A file of a version's review, if it was written. */
  public Optional<byte[]> reportFile(String model, String version, String file) throws IOException {
    Path path = reportPath(model, version, file);
    if (!fs().exists(path)) {
      return Optional.empty();
    }
    try (InputStream in = fs().open(path)) {
      return Optional.of(in.readAllBytes());
    }
  }

  // ---- baseline history

  public void recordBaseline(BaselineSnapshot snapshot) throws IOException {
    writeJson(
        new Path(
            root,
            "baselines/"
                + segment(snapshot.model())
                + "/"
                + snapshot.recordedAt().toEpochMilli()
                + "-"
                + segment(snapshot.version())
                + ".json"),
        snapshot);
  }

  /** The model's baseline history, oldest first. */
  public List<BaselineSnapshot> baselineHistory(String model) throws IOException {
    Path dir = new Path(root, "baselines/" + segment(model));
    if (!fs().exists(dir)) {
      return List.of();
    }
    List<BaselineSnapshot> history = new ArrayList<>();
    for (FileStatus file : fs().listStatus(dir, p -> p.getName().endsWith(".json"))) {
      history.add(readJson(file.getPath(), BaselineSnapshot.class));
    }
    history.sort(Comparator.comparing(BaselineSnapshot::recordedAt));
    return history;
  }

  // ---- files

  private void writeJson(Path target, Object value) throws IOException {
    byte[] json = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
    byte[] line = Arrays.copyOf(json, json.length + 1);
    line[json.length] = '\n';
    writeBytes(target, line);
  }

  /** Writes {@code content} under a temporary name and renames it into place; returns where. */
  private String writeBytes(Path target, byte[] content) throws IOException {
    Path partial = partial(target);
    try (OutputStream out = storage.create(partial)) {
      out.write(content);
    }
    commit(partial, target);
    return target.toString();
  }

  private <T> T readJson(Path path, Class<T> type) throws IOException {
    try (InputStream in = fs().open(path)) {
      return Json.read(in.readAllBytes(), type);
    } catch (ContractViolation e) {
      throw new IOException(path + " is unreadable: " + e.getMessage(), e);
    }
  }

  private static Path partial(Path target) {
    return new Path(target.getParent(), "." + target.getName() + ".partial");
  }

  private void commit(Path partial, Path target) throws IOException {
    FileSystem fs = fs();
    fs.delete(target, false);
    if (!fs.rename(partial, target)) {
      throw new IOException("cannot move " + partial + " to " + target);
    }
  }

  private FileSystem fs() throws IOException {
    return root.getFileSystem(storage.conf());
  }

  /** A model or version name as one safe path segment: unchanged when already safe. */
  static String segment(String name) {
    if (name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      return name;
    }
    String digest =
        HexFormat.of()
            .formatHex(Storage.newDigest().digest(name.getBytes(StandardCharsets.UTF_8)), 0, 4);
    return name.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + digest;
  }
}
