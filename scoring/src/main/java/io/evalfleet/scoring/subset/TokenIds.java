package io.evalfleet.scoring.subset;

import org.apache.parquet.example.data.Group;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * Reads a token-id list column ({@code list<int32>} or {@code list<int64>}, or a legacy repeated
 * field) of one record.
 */
public final class TokenIds {
  private TokenIds() {}

  /** The ids, or {@code null} when the record has no value in {@code column}. */
  public static long[] read(Group record, String column) {
    if (record.getFieldRepetitionCount(column) == 0) {
      return null;
    }
    Type type = record.getType().getType(column);
    if (type.isPrimitive()) { // legacy: repeated int32/int64 field
      int n = record.getFieldRepetitionCount(column);
      long[] ids = new long[n];
      boolean int32 = type.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT32;
      for (int i = 0; i < n; i++) {
        ids[i] = int32 ? record.getInteger(column, i) : record.getLong(column, i);
      }
      return ids;
    }
    Group list = record.getGroup(column, 0);
    int n = list.getFieldRepetitionCount(0);
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      Group element = list.getGroup(0, i);
      boolean int32 =
          element.getType().getType(0).asPrimitiveType().getPrimitiveTypeName()
              == PrimitiveTypeName.INT32;
      ids[i] = int32 ? element.getInteger(0, 0) : element.getLong(0, 0);
    }
    return ids;
  }
}
