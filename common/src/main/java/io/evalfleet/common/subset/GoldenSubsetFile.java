package io.evalfleet.common.subset;

import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * What the Parquet footer of a golden subset says: its schema and its row groups. Reading it
 * touches only the footer, never the data pages.
 *
 * @param rowGroupSizes the number of rows in each row group, in file order
 */
public record GoldenSubsetFile(String uri, MessageType schema, List<Long> rowGroupSizes) {

  public GoldenSubsetFile {
    rowGroupSizes = List.copyOf(rowGroupSizes);
  }

  public static GoldenSubsetFile readFooter(Storage storage, String uri) throws IOException {
    storage.size(uri); // a clear "no such file" before Parquet's own message
    return storage.call(uri, () -> footer(storage, uri));
  }

  /** The subset as described by an already read footer. */
  public static GoldenSubsetFile of(String uri, ParquetMetadata footer) {
    List<Long> sizes = new ArrayList<>();
    for (BlockMetaData block : footer.getBlocks()) {
      sizes.add(block.getRowCount());
    }
    return new GoldenSubsetFile(uri, footer.getFileMetaData().getSchema(), sizes);
  }

  private static GoldenSubsetFile footer(Storage storage, String uri) throws IOException {
    try (ParquetFileReader reader =
        ParquetFileReader.open(
            HadoopInputFile.fromPath(Storage.path(uri), storage.conf()),
            HadoopReadOptions.builder(storage.conf()).build())) {
      return of(uri, reader.getFooter());
    } catch (RuntimeException | EOFException e) {
      throw new InputException(
          "not a readable Parquet file: " + uri + " (" + e.getMessage() + ")", e);
    }
  }

  public long rowCount() {
    return rowGroupSizes.stream().mapToLong(Long::longValue).sum();
  }

  /** Checks that {@code column} exists as a top-level UTF-8 string column. */
  public void requireText(String role, String column) throws SubsetSchemaException {
    PrimitiveType type = primitive(role, column);
    if (type.getPrimitiveTypeName() != PrimitiveTypeName.BINARY
        || !(type.getLogicalTypeAnnotation()
            instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation)) {
      throw new SubsetSchemaException(
          "golden subset "
              + uri
              + ": column '"
              + column
              + "' ("
              + role
              + ") must be a UTF-8 string column, but is "
              + describe(type));
    }
  }

  /** Checks that {@code column} exists as a top-level floating-point or integer column. */
  public void requireNumber(String role, String column) throws SubsetSchemaException {
    PrimitiveType type = primitive(role, column);
    switch (type.getPrimitiveTypeName()) {
      case DOUBLE, FLOAT, INT32, INT64 -> {}
      default ->
          throw new SubsetSchemaException(
              "golden subset "
                  + uri
                  + ": column '"
                  + column
                  + "' ("
                  + role
                  + ") must be numeric, but is "
                  + describe(type));
    }
  }

  /**
   * Checks that {@code column} is a list of int32 or int64 (Parquet's LIST, or a legacy repeated
   * field).
   */
  public void requireTokenIds(String role, String column) throws SubsetSchemaException {
    if (!schema.containsField(column)) {
      throw new SubsetSchemaException(
          "golden subset "
              + uri
              + " has no column '"
              + column
              + "' ("
              + role
              + "); its columns are "
              + schema.getFields().stream().map(Type::getName).toList());
    }
    Type type = schema.getType(column);
    Type element = type;
    while (!element.isPrimitive()) {
      var group = element.asGroupType();
      if (group.getFieldCount() != 1) {
        element = null;
        break;
      }
      element = group.getType(0);
    }
    boolean list =
        type.isRepetition(Type.Repetition.REPEATED)
            || type.getLogicalTypeAnnotation()
                instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation;
    if (!list
        || element == null
        || !(element.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT32
            || element.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT64)) {
      throw new SubsetSchemaException(
          "golden subset "
              + uri
              + ": column '"
              + column
              + "' ("
              + role
              + ") must be a list of int32 or int64 token ids, but is "
              + type.toString().trim().replaceAll("\\s+", " "));
    }
  }

  public boolean hasColumn(String column) {
    return schema.containsField(column);
  }

  private PrimitiveType primitive(String role, String column) throws SubsetSchemaException {
    if (!schema.containsField(column)) {
      throw new SubsetSchemaException(
          "golden subset "
              + uri
              + " has no column '"
              + column
              + "' ("
              + role
              + "); its columns are "
              + schema.getFields().stream().map(Type::getName).toList());
    }
    Type type = schema.getType(column);
    if (!type.isPrimitive() || type.isRepetition(Type.Repetition.REPEATED)) {
      throw new SubsetSchemaException(
          "golden subset "
              + uri
              + ": column '"
              + column
              + "' ("
              + role
              + ") must be a plain column, but is "
              + type);
    }
    return type.asPrimitiveType();
  }

  private static String describe(PrimitiveType type) {
    LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
    return type.getPrimitiveTypeName().name().toLowerCase()
        + (logical == null ? "" : " (" + logical + ")");
  }
}
