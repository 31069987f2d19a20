package io.evalfleet.dispatcher.plan;

import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * The length of every row of one golden-subset column, read with only that column projected: a
 * token-id list's length, or a text's UTF-8 length in bytes (an upper bound on its tokens for any
 * byte-level BPE tokenizer, and the exact count for a byte-level model).
 */
public final class RowLengths {
  private RowLengths() {}

  public static long[] read(
      Storage storage, String uri, MessageType schema, String column, long rows)
      throws IOException {
    Configuration conf = new Configuration(storage.conf());
    Type field = schema.getType(column);
    conf.set(ReadSupport.PARQUET_READ_SCHEMA, new MessageType(schema.getName(), field).toString());
    long[] lengths = new long[Math.toIntExact(rows)];
    int at = 0;
    try (ParquetReader<Group> reader =
        ParquetReader.builder(new GroupReadSupport(), new Path(uri)).withConf(conf).build()) {
      Group row;
      while ((row = reader.read()) != null && at < lengths.length) {
        lengths[at++] = lengthOf(row, field);
      }
    }
    return lengths;
  }

  private static long lengthOf(Group row, Type field) {
    if (row.getFieldRepetitionCount(0) == 0) {
      return 0;
    }
    if (!field.isPrimitive()) {
      return row.getGroup(0, 0).getFieldRepetitionCount(0);
    }
    if (field.isRepetition(Type.Repetition.REPEATED)) {
      return row.getFieldRepetitionCount(0);
    }
    return row.getBinary(0, 0).length();
  }
}
