package io.evalfleet.scoring.subset;

import org.apache.parquet.example.data.Group;

/** One row's values of golden-subset columns whose types the task's layout has checked. */
public final class Cells {
  private Cells() {}

  /** A text column's value; null when the row has none. */
  public static String text(Group record, String column) {
    return record.getFieldRepetitionCount(column) == 0 ? null : record.getString(column, 0);
  }

  /** A numeric column's value (double, float, int32 or int64) as a double. */
  public static double number(Group record, String column) {
    var type = record.getType().getType(column).asPrimitiveType().getPrimitiveTypeName();
    return switch (type) {
      case DOUBLE -> record.getDouble(column, 0);
      case FLOAT -> record.getFloat(column, 0);
      case INT32 -> record.getInteger(column, 0);
      case INT64 -> record.getLong(column, 0);
      default ->
          throw new IllegalStateException("checked numeric column '" + column + "' is " + type);
    };
  }
}
