package io.evalfleet.monitor.traffic;

import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * Texts of a time window of traffic logs: Parquet files (a file, or a folder's {@code .parquet}
 * files) with a text column and a time column (int64 epoch milliseconds, or a Parquet timestamp in
 * milliseconds or microseconds). A window's sample is a sample of its rows without replacement,
 * repeats included (repeated texts are part of the traffic's distribution; dropping them would make
 * every sample more spread out than the traffic and the drift test blind to what repeats): the rows
 * ordered by the sha256 of the seed, the window's start and the row's place among the window's
 * rows, the first {@code size} taken. The same logs give the same sample.
 */
public final class TrafficWindows {
  private final Storage storage;
  private final String uri;
  private final String textColumn;
  private final String timeColumn;

  public TrafficWindows(Storage storage, String uri, String textColumn, String timeColumn) {
    this.storage = storage;
    this.uri = uri;
    this.textColumn = textColumn;
    this.timeColumn = timeColumn;
  }

  /** Up to {@code size} texts of the rows logged in {@code [from, to)}. */
  public List<String> sample(Instant from, Instant to, int size, long seed) throws IOException {
    List<String> texts = new ArrayList<>();
    for (Path file : TrafficLogs.files(storage, uri)) {
      read(file, from.toEpochMilli(), to.toEpochMilli(), texts);
    }
    List<String[]> keyed = new ArrayList<>(texts.size());
    for (int row = 0; row < texts.size(); row++) {
      keyed.add(new String[] {key(seed, from, row), texts.get(row)});
    }
    keyed.sort(Comparator.comparing(k -> k[0]));
    return keyed.stream().limit(size).map(k -> k[1]).toList();
  }

  private void read(Path file, long from, long to, List<String> into) throws IOException {
    MessageType schema = TrafficLogs.schema(storage, file);
    TrafficLogs.requireColumn(schema, file, textColumn);
    TrafficLogs.requireColumn(schema, file, timeColumn);
    Type time = schema.getType(timeColumn);
    if (!time.isPrimitive()
        || time.asPrimitiveType().getPrimitiveTypeName() != PrimitiveTypeName.INT64) {
      throw new InputException(
          "traffic log "
              + file
              + ": time column '"
              + timeColumn
              + "' must be int64 (epoch"
              + " milliseconds, or a timestamp), but is "
              + time);
    }
    long perMilli =
        time.getLogicalTypeAnnotation()
                    instanceof LogicalTypeAnnotation.TimestampLogicalTypeAnnotation ts
                && ts.getUnit() == LogicalTypeAnnotation.TimeUnit.MICROS
            ? 1000
            : 1;
    Configuration conf = new Configuration(storage.conf());
    conf.set(
        ReadSupport.PARQUET_READ_SCHEMA,
        new MessageType(schema.getName(), List.of(schema.getType(textColumn), time)).toString());
    storage.call(
        file.toString(),
        () -> {
          try (ParquetReader<Group> reader =
              ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
            Group row;
            while ((row = reader.read()) != null) {
              if (row.getFieldRepetitionCount(timeColumn) == 0
                  || row.getFieldRepetitionCount(textColumn) == 0) {
                continue;
              }
              long at = row.getLong(timeColumn, 0) / perMilli;
              if (at >= from && at < to) {
                into.add(row.getString(textColumn, 0));
              }
            }
          }
          return null;
        });
  }

  private static String key(long seed, Instant from, int row) {
    var digest = Storage.newDigest();
    digest.update(
        ByteBuffer.allocate(2 * Long.BYTES + Integer.BYTES)
            .putLong(seed)
            .putLong(from.toEpochMilli())
            .putInt(row)
            .array());
    return HexFormat.of().formatHex(digest.digest());
  }
}
