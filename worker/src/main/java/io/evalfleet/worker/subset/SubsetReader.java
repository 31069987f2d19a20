package io.evalfleet.worker.subset;

import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.SubsetSchemaException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;

/**
 * Reads one row range of a golden subset, decoding only the requested columns of the row groups
 * that overlap the range. Not thread-safe; cheap to create.
 */
public final class SubsetReader {
  private final Storage storage;

  public SubsetReader(Storage storage) {
    this.storage = storage;
  }

  /**
   * Calls {@code sink} for rows {@code start .. start + count - 1}, in order, with a record holding
   * just {@code columns}.
   *
   * @throws SubsetSchemaException if a column is missing
   * @throws IOException if the file is missing, unreadable or has fewer rows than asked for
   */
  public void read(String uri, List<String> columns, long start, int count, Consumer<Group> sink) throws IOException {
    storage.size(uri);
    long end = start + count;
    long delivered = 0;
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(Storage.path(uri), storage.conf()))) {
      MessageType fileSchema = reader.getFooter().getFileMetaData().getSchema();
      List<org.apache.parquet.schema.Type> fields = new ArrayList<>();
      for (String column : columns) {
        if (!fileSchema.containsField(column)) {
          throw new SubsetSchemaException("golden subset " + uri + " has no column '" + column + "'");
        }
        fields.add(fileSchema.getType(column));
      }
      MessageType projection = new MessageType(fileSchema.getName(), fields);
      reader.setRequestedSchema(projection);
      var columnIo = new ColumnIOFactory().getColumnIO(projection, fileSchema);
      long groupStart = 0;
      for (BlockMetaData block : reader.getFooter().getBlocks()) {
        long groupEnd = groupStart + block.getRowCount();
        if (groupStart >= end) {
          break;
        }
        if (groupEnd <= start) {
          reader.skipNextRowGroup();
        } else {
          PageReadStore pages = reader.readNextRowGroup();
          RecordReader<Group> records = columnIo.getRecordReader(pages, new GroupRecordConverter(projection));
          for (long row = groupStart; row < groupEnd && row < end; row++) {
            Group record = records.read();
            if (row >= start) {
              sink.accept(record);
              delivered++;
            }
          }
        }
        groupStart = groupEnd;
      }
    } catch (RuntimeException e) {
      throw new IOException("cannot read golden subset " + uri + ": " + e.getMessage(), e);
    }
    if (delivered != count) {
      throw new IOException("golden subset " + uri + " has no rows " + (start + delivered) + ".." + (end - 1)
          + " (asked for " + count + " rows from row " + start + ")");
    }
  }

  /** The footer of the subset, for column checks before reading. */
  public GoldenSubsetFile footer(String uri) throws IOException {
    return GoldenSubsetFile.readFooter(storage, uri);
  }
}
