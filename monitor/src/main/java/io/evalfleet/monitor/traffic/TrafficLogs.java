package io.evalfleet.monitor.traffic;

import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/** Traffic-log Parquet files on any Hadoop file system: where they are, and their columns. */
public final class TrafficLogs {
  private TrafficLogs() {}

  /**
   * The file {@code source}, or the {@code .parquet} files of the folder {@code source} by name.
   */
  public static List<Path> files(Storage storage, String source) throws IOException {
    Path root = Storage.path(source);
    FileSystem fs = root.getFileSystem(storage.conf());
    FileStatus status = storage.call(source, () -> fs.getFileStatus(root));
    if (!status.isDirectory()) {
      return List.of(status.getPath());
    }
    List<Path> files = new ArrayList<>();
    for (FileStatus file :
        storage.call(source, () -> fs.listStatus(root, p -> p.getName().endsWith(".parquet")))) {
      files.add(file.getPath());
    }
    files.sort(Comparator.comparing(Path::getName));
    return files;
  }

  /** A file's schema, from its footer. */
  public static MessageType schema(Storage storage, Path file) throws IOException {
    return storage.call(
        file.toString(),
        () -> {
          try (ParquetFileReader reader =
              ParquetFileReader.open(HadoopInputFile.fromPath(file, storage.conf()))) {
            return reader.getFooter().getFileMetaData().getSchema();
          } catch (RuntimeException e) {
            throw new InputException(
                file + " is not a readable Parquet file: " + e.getMessage(), e);
          }
        });
  }

  /**
   * @throws InputException naming the file and its columns, when {@code column} is not one of them
   */
  public static void requireColumn(MessageType schema, Object file, String column)
      throws InputException {
    if (!schema.containsField(column)) {
      throw new InputException(
          "traffic log "
              + file
              + " has no column '"
              + column
              + "'; its columns are "
              + schema.getFields().stream().map(Type::getName).toList());
    }
  }
}
