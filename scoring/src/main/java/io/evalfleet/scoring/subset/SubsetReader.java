package io.evalfleet.scoring.subset;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.SubsetSchemaException;
import io.evalfleet.common.task.SubsetLayout;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.ParquetRuntimeException;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * Reads one row range of a golden subset, decoding only the requested columns of the row groups
 * that overlap the range. Footers are kept per file (by location, length and modification time),
 * since every shard of a run reads the same file: a job then costs one open and the decoding of its
 * own row groups. Thread-safe.
 */
public final class SubsetReader {
  private static final int FOOTERS_KEPT = 64;

  private final Storage storage;

  /** By location, length and modification time: a rewritten file is read again. */
  private final Cache<String, ParquetMetadata> footers =
      Caffeine.newBuilder().maximumSize(FOOTERS_KEPT).build();

  public SubsetReader(Storage storage) {
    this.storage = storage;
  }

  /** A file and its footer, read or remembered. */
  private record Opened(HadoopInputFile file, ParquetMetadata footer) {}

  private Opened open(String uri) throws IOException {
    storage.size(uri); // the root check and a clear "no such file" before Parquet's own message
    return storage.call(
        uri,
        () -> {
          Path path = Storage.path(uri);
          FileStatus status = path.getFileSystem(storage.conf()).getFileStatus(path);
          HadoopInputFile file = HadoopInputFile.fromStatus(status, storage.conf());
          String key = uri + "|" + status.getLen() + "|" + status.getModificationTime();
          ParquetMetadata footer = footers.getIfPresent(key);
          if (footer == null) {
            try (ParquetFileReader reader = ParquetFileReader.open(file)) {
              footer = reader.getFooter();
            } catch (RuntimeException | EOFException e) {
              throw new InputException(
                  "not a readable Parquet file: " + uri + " (" + e.getMessage() + ")", e);
            }
            footers.put(key, footer);
          }
          return new Opened(file, footer);
        });
  }

  /**
   * Calls {@code sink} for rows {@code start .. start + count - 1}, in order, with a record holding
   * just {@code columns}.
   *
   * @throws SubsetSchemaException if a column is missing
   * @throws IOException if the file is missing, unreadable or has fewer rows than asked for
   */
  public void read(String uri, List<String> columns, long start, int count, Consumer<Group> sink)
      throws IOException {
    Opened opened = open(uri);
    long end = start + count;
    long delivered = 0;
    MessageType fileSchema = opened.footer().getFileMetaData().getSchema();
    List<Type> fields = new ArrayList<>();
    for (String column : columns) {
      if (!fileSchema.containsField(column)) {
        throw new SubsetSchemaException("golden subset " + uri + " has no column '" + column + "'");
      }
      fields.add(fileSchema.getType(column));
    }
    MessageType projection = new MessageType(fileSchema.getName(), fields);
    try (ParquetFileReader reader =
        ParquetFileReader.open(
            opened.file(),
            opened.footer(),
            HadoopReadOptions.builder(storage.conf()).build(),
            opened.file().newStream())) {
      reader.setRequestedSchema(projection);
      var columnIo = new ColumnIOFactory().getColumnIO(projection, fileSchema);
      long groupStart = 0;
      for (BlockMetaData block : opened.footer().getBlocks()) {
        long groupEnd = groupStart + block.getRowCount();
        if (groupStart >= end) {
          break;
        }
        if (groupEnd <= start) {
          reader.skipNextRowGroup();
        } else {
          PageReadStore pages = reader.readNextRowGroup();
          RecordReader<Group> records =
              columnIo.getRecordReader(pages, new GroupRecordConverter(projection));
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
    } catch (ParquetRuntimeException e) {
      throw new InputException("cannot decode golden subset " + uri + ": " + e.getMessage(), e);
    }
    if (delivered != count) {
      throw new InputException(
          "golden subset "
              + uri
              + " has no rows "
              + (start + delivered)
              + ".."
              + (end - 1)
              + " (asked for "
              + count
              + " rows from row "
              + start
              + ")");
    }
  }

  /**
   * Calls {@code sink} for the rows of {@code job}, in the order its values follow: rows {@code
   * row_start .. row_start + row_count - 1} of the file, or, for a job of a seeded row order, the
   * file rows at those positions of the order, decoding only the row groups that hold them.
   *
   * @throws SubsetSchemaException if a column is missing
   * @throws IOException if the file is missing, unreadable or lacks some of the rows
   */
  public void read(String uri, List<String> columns, ScoringJob job, Consumer<Group> sink)
      throws IOException {
    if (job.order() == null) {
      read(uri, columns, job.rowStart(), job.rowCount(), sink);
      return;
    }
    read(uri, columns, job.fileRows(), sink);
  }

  /**
   * Calls {@code sink} for the file rows {@code rows}, in that order (any order, repeats allowed),
   * decoding only the requested columns of the row groups that hold them.
   */
  public void read(String uri, List<String> columns, long[] rows, Consumer<Group> sink)
      throws IOException {
    Opened opened = open(uri);
    Integer[] byRow = new Integer[rows.length];
    for (int i = 0; i < rows.length; i++) {
      byRow[i] = i;
    }
    Arrays.sort(byRow, (a, b) -> Long.compare(rows[a], rows[b]));
    Group[] found = new Group[rows.length];
    MessageType projection = projection(uri, opened, columns);
    MessageType fileSchema = opened.footer().getFileMetaData().getSchema();
    try (ParquetFileReader reader =
        ParquetFileReader.open(
            opened.file(),
            opened.footer(),
            HadoopReadOptions.builder(storage.conf()).build(),
            opened.file().newStream())) {
      reader.setRequestedSchema(projection);
      var columnIo = new ColumnIOFactory().getColumnIO(projection, fileSchema);
      long groupStart = 0;
      int next = 0; // the next wanted row, in row order
      for (BlockMetaData block : opened.footer().getBlocks()) {
        if (next == byRow.length) {
          break;
        }
        long groupEnd = groupStart + block.getRowCount();
        if (rows[byRow[next]] >= groupEnd) {
          reader.skipNextRowGroup();
        } else {
          PageReadStore pages = reader.readNextRowGroup();
          RecordReader<Group> records =
              columnIo.getRecordReader(pages, new GroupRecordConverter(projection));
          for (long row = groupStart; row < groupEnd && next < byRow.length; row++) {
            Group record = records.read();
            while (next < byRow.length && rows[byRow[next]] == row) {
              found[byRow[next++]] = record;
            }
          }
        }
        groupStart = groupEnd;
      }
    } catch (ParquetRuntimeException e) {
      throw new InputException("cannot decode golden subset " + uri + ": " + e.getMessage(), e);
    }
    for (int i = 0; i < found.length; i++) {
      if (found[i] == null) {
        throw new InputException("golden subset " + uri + " has no row " + rows[i]);
      }
    }
    for (Group record : found) {
      sink.accept(record);
    }
  }

  private static MessageType projection(String uri, Opened opened, List<String> columns)
      throws IOException {
    MessageType fileSchema = opened.footer().getFileMetaData().getSchema();
    List<Type> fields = new ArrayList<>();
    for (String column : columns) {
      if (!fileSchema.containsField(column)) {
        throw new SubsetSchemaException("golden subset " + uri + " has no column '" + column + "'");
      }
      fields.add(fileSchema.getType(column));
    }
    return new MessageType(fileSchema.getName(), fields);
  }

  /**
   * The columns the job's task reads from its subset, checked against the footer by the task's
   * spec.
   */
  public SubsetLayout layout(ScoringJob job) throws IOException {
    return job.task()
        .spec()
        .layout(
            footer(job.goldenSubset().uri()), job.goldenSubset()::column, job.tokenizer() != null);
  }

  /** The footer of the subset, for column checks before reading. */
  public GoldenSubsetFile footer(String uri) throws IOException {
    return GoldenSubsetFile.of(uri, open(uri).footer());
  }
}
