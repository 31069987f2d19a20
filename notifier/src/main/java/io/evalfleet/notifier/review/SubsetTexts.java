package io.evalfleet.notifier.review;

import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/** Reads the text of a few golden rows, by row number, for the rows that moved most. */
public final class SubsetTexts {
  /** An optional column holding each row's own id; the row number stands in when it is absent. */
  public static final String ID_COLUMN = "id";

  private SubsetTexts() {}

  /**
   * The given text columns of {@code rows} in the subset at {@code uri}, by row number and then
   * column; columns missing from the file are skipped. Reads only those columns (and {@code id}),
   * in one pass.
   */
  public static Map<Integer, Map<String, String>> read(
      Storage storage, String uri, List<String> textColumns, Set<Integer> rows) throws IOException {
    Map<Integer, Map<String, String>> texts = new HashMap<>();
    if (rows.isEmpty()) {
      return texts;
    }
    var footer = GoldenSubsetFile.readFooter(storage, uri);
    Types.MessageTypeBuilder projection = Types.buildMessage();
    List<String> wanted = new ArrayList<>();
    for (String column : concat(ID_COLUMN, textColumns)) {
      if (footer.hasColumn(column) && !wanted.contains(column)) {
        projection.addField(footer.schema().getType(column));
        wanted.add(column);
      }
    }
    if (wanted.isEmpty()) {
      return texts;
    }
    MessageType schema = projection.named("texts");
    Configuration conf = new Configuration(storage.conf());
    conf.set(ReadSupport.PARQUET_READ_SCHEMA, schema.toString());
    int last = rows.stream().mapToInt(Integer::intValue).max().orElse(-1);
    try (ParquetReader<Group> reader =
        ParquetReader.builder(new GroupReadSupport(), Storage.path(uri)).withConf(conf).build()) {
      Group group;
      for (int row = 0; row <= last && (group = reader.read()) != null; row++) {
        if (!rows.contains(row)) {
          continue;
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String column : wanted) {
          if (group.getFieldRepetitionCount(column) > 0) {
            values.put(
                column,
                group.getType().getType(column).asPrimitiveType().getPrimitiveTypeName()
                        == PrimitiveTypeName.BINARY
                    ? group.getString(column, 0)
                    : group.getValueToString(group.getType().getFieldIndex(column), 0));
          }
        }
        texts.put(row, values);
      }
    }
    return texts;
  }

  private static List<String> concat(String first, List<String> rest) {
    List<String> all = new ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all;
  }
}
