package io.evalfleet.monitor.curation;

import io.evalfleet.common.archive.SubsetManifest;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.monitor.traffic.TrafficLogs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

/**
 * Builds a golden subset from traffic-log Parquet files: rows that pass the filter, without repeats
 * (byte for byte, then after {@link TextNormalizer normalisation}; the first occurrence, in source
 * and row order, is kept), sized to a target with every stratum keeping at least its quota (so rare
 * categories survive) and the rest shared in proportion to the rows each stratum has beyond its
 * quota ({@link #quotas}).
 *
 * <p>Which rows are chosen does not depend on file order or on chance beyond the seed: each row's
 * place is the sha256 of the seed (8 bytes, big-endian) followed by its normalised text in UTF-8
 * ({@link #key}), and a stratum takes its rows in that order. The file written holds {@code id},
 * the text column and the stratum column, rows in that order; the same sources, settings and seed
 * give the same bytes. Sources may be files or folders (their {@code .parquet} files, by name) on
 * any Hadoop file system.
 */
public final class SubsetBuilder {
  /**
   * Names the builder and its selection rules in every manifest: a change of rules is a new name.
   */
  public static final String BUILDER = "evalfleet-subset-build/1";

  /**
   * @param filter {@code column=value} conditions that must all hold (values compared as text)
   * @param stratifyBy the stratum column, or null for one stratum
   */
  public record Settings(
      String name,
      String version,
      List<String> sources,
      String textColumn,
      List<String> filter,
      String stratifyBy,
      int targetRows,
      int minPerStratum,
      long seed,
      String output) {
    public Settings {
      sources = List.copyOf(sources);
      filter = List.copyOf(filter);
      if (targetRows <= 0) {
        throw new IllegalArgumentException("the target must be at least 1 row, was " + targetRows);
      }
      if (minPerStratum < 0) {
        throw new IllegalArgumentException(
            "the quota per stratum must be >= 0, was " + minPerStratum);
      }
    }
  }

  /**
   * Rows per row group of a built subset. A job reads only the row groups that hold its rows (from
   * S3 or HDFS, their byte ranges), and a sequential run's seeded order takes equal row groups as
   * its blocks once there are enough of them ({@code min_rows}, 100 by default: from 100,000 rows
   * here), so that a job of 1/50 of the rows reads about 1/50 of the file. Parquet's default cuts
   * by bytes only (128 MB), which leaves most subsets in one row group.
   */
  static final int ROW_GROUP_ROWS = 1_000;

  private record Row(String key, String text, String stratum) {}

  private final Storage storage;

  public SubsetBuilder(Storage storage) {
    this.storage = storage;
  }

  /**
   * Builds the subset, writes it to {@code settings.output()} and returns its manifest.
   *
   * @throws InputException naming the file and column, when a source lacks a column or has one of
   *     another type, when a filter is malformed, or when no row is left
   */
  public SubsetManifest build(Settings settings) throws IOException {
    return build(settings, true);
  }

  /**
   * As {@link #build(Settings)}; unless {@code allowSmaller}, refuses (writing nothing) when fewer
   * distinct rows than the target pass the filter, saying how many do.
   */
  public SubsetManifest build(Settings settings, boolean allowSmaller) throws IOException {
    Map<String, String> filter = parseFilter(settings.filter());
    List<SubsetManifest.Source> sources = new ArrayList<>();
    Map<String, List<Row>> strata = new TreeMap<>();
    Set<String> seenExact = new HashSet<>();
    Set<String> seenNormalized = new HashSet<>();
    long[] counts = new long[4]; // read, filtered, exact duplicates, normalised duplicates
    String stratumType = null;
    for (Path file : expand(settings.sources())) {
      String uri = file.toString();
      MessageType schema = TrafficLogs.schema(storage, file);
      requireColumn(schema, uri, settings.textColumn(), true);
      if (settings.stratifyBy() != null) {
        requireColumn(schema, uri, settings.stratifyBy(), false);
        stratumType =
            schema.getType(settings.stratifyBy()).asPrimitiveType().getPrimitiveTypeName().name();
      }
      for (String column : filter.keySet()) {
        requireColumn(schema, uri, column, false);
      }
      long before = counts[0];
      read(
          file,
          schema,
          settings,
          filter.keySet(),
          group -> {
            counts[0]++;
            for (var condition : filter.entrySet()) {
              if (!condition.getValue().equals(value(group, condition.getKey()))) {
                return;
              }
            }
            String text = value(group, settings.textColumn());
            if (text == null) {
              return;
            }
            counts[1]++;
            if (!seenExact.add(text)) {
              counts[2]++;
              return;
            }
            String normalized = TextNormalizer.normalize(text);
            if (!seenNormalized.add(normalized)) {
              counts[3]++;
              return;
            }
            String stratum =
                settings.stratifyBy() == null
                    ? ""
                    : String.valueOf(value(group, settings.stratifyBy()));
            strata
                .computeIfAbsent(stratum, s -> new ArrayList<>())
                .add(new Row(key(settings.seed(), normalized), text, stratum));
          });
      sources.add(new SubsetManifest.Source(uri, storage.sha256(uri), counts[0] - before));
    }
    if (strata.isEmpty()) {
      throw new InputException(
          "no row of "
              + sources.size()
              + " traffic-log file(s) is left after the filter "
              + settings.filter()
              + " and deduplication");
    }
    Map<String, Integer> available = new TreeMap<>();
    strata.forEach((stratum, rows) -> available.put(stratum, rows.size()));
    int distinct = available.values().stream().mapToInt(Integer::intValue).sum();
    if (!allowSmaller && distinct < settings.targetRows()) {
      throw new InputException(
          "a subset of "
              + settings.targetRows()
              + " rows was asked for, but only "
              + distinct
              + " distinct rows are left ("
              + counts[0]
              + " read, "
              + counts[1]
              + " after the filter, "
              + counts[2]
              + " exact and "
              + counts[3]
              + " normalised repeats dropped): ask for at most "
              + distinct
              + " rows, or accept a smaller subset");
    }
    Map<String, Integer> quotas =
        quotas(available, settings.targetRows(), settings.minPerStratum());
    List<Row> chosen = new ArrayList<>();
    Map<String, SubsetManifest.Stratum> strataCounts = new LinkedHashMap<>();
    for (var stratum : strata.entrySet()) {
      List<Row> rows = stratum.getValue();
      rows.sort(Comparator.comparing(Row::key));
      int take = quotas.get(stratum.getKey());
      chosen.addAll(rows.subList(0, take));
      strataCounts.put(stratum.getKey(), new SubsetManifest.Stratum(rows.size(), take));
    }
    chosen.sort(Comparator.comparing(Row::key));
    MessageType outputSchema = outputSchema(settings, stratumType);
    write(new Path(settings.output()), outputSchema, chosen, settings.stratifyBy());
    Map<String, String> schema = new LinkedHashMap<>();
    for (Type field : outputSchema.getFields()) {
      schema.put(
          field.getName(),
          field.asPrimitiveType().getPrimitiveTypeName().name()
              + (field.getLogicalTypeAnnotation() == null
                  ? ""
                  : " " + field.getLogicalTypeAnnotation()));
    }
    return new SubsetManifest(
        SubsetManifest.CURRENT,
        settings.name(),
        settings.version(),
        sources,
        settings.textColumn(),
        settings.filter(),
        settings.stratifyBy(),
        settings.targetRows(),
        settings.minPerStratum(),
        settings.seed(),
        BUILDER,
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        strataCounts,
        new SubsetManifest.Output(
            settings.output(), storage.sha256(settings.output()), chosen.size()),
        schema);
  }

  /**
   * Rows per stratum: each keeps {@code min(available, minimum)}; what the target leaves is shared
   * in proportion to what each stratum has beyond that (largest remainders, ties by stratum name);
   * never more than a stratum has. Fewer than the target when the strata hold fewer rows.
   */
  static Map<String, Integer> quotas(Map<String, Integer> strata, int target, int minimum)
      throws InputException {
    Map<String, Integer> quotas = new TreeMap<>();
    long base = 0;
    long spare = 0;
    for (var stratum : strata.entrySet()) {
      int kept = Math.min(stratum.getValue(), minimum);
      quotas.put(stratum.getKey(), kept);
      base += kept;
      spare += stratum.getValue() - kept;
    }
    if (base > target) {
      throw new InputException(
          strata.size()
              + " strata need "
              + base
              + " rows to keep their quota of "
              + minimum
              + ", more than the target of "
              + target
              + " rows");
    }
    long left = Math.min(target - base, spare);
    if (left == 0) {
      return quotas;
    }
    Map<String, Double> remainders = new TreeMap<>();
    long given = 0;
    for (var stratum : strata.entrySet()) {
      long beyond = stratum.getValue() - quotas.get(stratum.getKey());
      double share = (double) left * beyond / spare;
      int whole = (int) Math.floor(share);
      quotas.merge(stratum.getKey(), whole, Integer::sum);
      given += whole;
      remainders.put(stratum.getKey(), share - whole);
    }
    List<String> byRemainder = new ArrayList<>(remainders.keySet());
    byRemainder.sort(Comparator.comparing((String s) -> -remainders.get(s)).thenComparing(s -> s));
    for (int i = 0; given < left; i++) {
      String stratum = byRemainder.get(i % byRemainder.size());
      if (quotas.get(stratum) < strata.get(stratum)) {
        quotas.merge(stratum, 1, Integer::sum);
        given++;
      }
    }
    return quotas;
  }

  /**
   * A row's place: the sha256 of the seed and its normalised text, so the order depends on nothing
   * else.
   */
  static String key(long seed, String normalized) {
    var digest = Storage.newDigest();
    digest.update(ByteBuffer.allocate(Long.BYTES).putLong(seed).array());
    digest.update(normalized.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(digest.digest());
  }

  private static Map<String, String> parseFilter(List<String> conditions) throws InputException {
    Map<String, String> filter = new LinkedHashMap<>();
    for (String condition : conditions) {
      int at = condition.indexOf('=');
      if (at <= 0) {
        throw new InputException("filter '" + condition + "' is not of the form column=value");
      }
      filter.put(condition.substring(0, at).trim(), condition.substring(at + 1));
    }
    return filter;
  }

  /** Files, and the {@code .parquet} files of folders by name, in the order given. */
  private List<Path> expand(List<String> sources) throws IOException {
    List<Path> files = new ArrayList<>();
    for (String source : sources) {
      files.addAll(TrafficLogs.files(storage, source));
    }
    if (files.isEmpty()) {
      throw new InputException("no traffic-log Parquet file in " + sources);
    }
    return files;
  }

  private static void requireColumn(MessageType schema, String uri, String column, boolean text)
      throws InputException {
    TrafficLogs.requireColumn(schema, uri, column);
    Type type = schema.getType(column);
    boolean string =
        type.isPrimitive()
            && type.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.BINARY
            && type.getLogicalTypeAnnotation()
                instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation;
    boolean scalar = type.isPrimitive() && !type.isRepetition(Type.Repetition.REPEATED);
    if (text ? !string : !scalar) {
      throw new InputException(
          "traffic log "
              + uri
              + ": column '"
              + column
              + "' must be "
              + (text ? "a UTF-8 string" : "a scalar")
              + " column, but is "
              + type);
    }
  }

  private interface RowSink {
    void accept(Group group);
  }

  private void read(
      Path file, MessageType schema, Settings settings, Set<String> filterColumns, RowSink sink)
      throws IOException {
    List<Type> fields = new ArrayList<>();
    for (Type field : schema.getFields()) {
      String name = field.getName();
      if (name.equals(settings.textColumn())
          || name.equals(settings.stratifyBy())
          || filterColumns.contains(name)) {
        fields.add(field);
      }
    }
    Configuration conf = new Configuration(storage.conf());
    conf.set(ReadSupport.PARQUET_READ_SCHEMA, new MessageType(schema.getName(), fields).toString());
    storage.call(
        file.toString(),
        () -> {
          try (ParquetReader<Group> reader =
              ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
            Group group;
            while ((group = reader.read()) != null) {
              sink.accept(group);
            }
          }
          return null;
        });
  }

  /** A column's value as text; null when the row has none. */
  private static String value(Group group, String column) {
    if (group.getFieldRepetitionCount(column) == 0) {
      return null;
    }
    PrimitiveType type = group.getType().getType(column).asPrimitiveType();
    return switch (type.getPrimitiveTypeName()) {
      case BINARY, FIXED_LEN_BYTE_ARRAY -> group.getString(column, 0);
      case INT32 -> Integer.toString(group.getInteger(column, 0));
      case INT64 -> Long.toString(group.getLong(column, 0));
      case DOUBLE -> Double.toString(group.getDouble(column, 0));
      case FLOAT -> Float.toString(group.getFloat(column, 0));
      case BOOLEAN -> Boolean.toString(group.getBoolean(column, 0));
      default -> group.getValueToString(group.getType().getFieldIndex(column), 0);
    };
  }

  private static MessageType outputSchema(Settings settings, String stratumType) {
    var builder =
        Types.buildMessage()
            .required(PrimitiveTypeName.INT64)
            .named("id")
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named(settings.textColumn());
    if (settings.stratifyBy() != null) {
      builder
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named(settings.stratifyBy());
    }
    return builder.named("golden_subset");
  }

  private void write(Path target, MessageType schema, List<Row> rows, String stratumColumn)
      throws IOException {
    SimpleGroupFactory groups = new SimpleGroupFactory(schema);
    String textColumn = schema.getFields().get(1).getName();
    // Written without Hadoop's .crc side file: the subset is handed to other tools and stores as it
    // is.
    Configuration conf = storage.writeConf(target);
    try (ParquetWriter<Group> writer =
        ExampleParquetWriter.builder(HadoopOutputFile.fromPath(target, conf))
            .withConf(conf)
            .withType(schema)
            .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
            .withCompressionCodec(CompressionCodecName.SNAPPY)
            .withRowGroupRowCountLimit(ROW_GROUP_ROWS)
            .build()) {
      for (int i = 0; i < rows.size(); i++) {
        Group group =
            groups.newGroup().append("id", (long) i).append(textColumn, rows.get(i).text());
        if (stratumColumn != null) {
          group.append(stratumColumn, rows.get(i).stratum());
        }
        writer.write(group);
      }
    }
  }
}
