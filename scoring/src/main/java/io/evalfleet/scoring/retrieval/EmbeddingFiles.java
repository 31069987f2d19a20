package io.evalfleet.scoring.retrieval;

import io.evalfleet.common.failure.InputException;
import io.evalfleet.common.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/**
 * A retrieval run's embeddings in its archive folder: one Parquet file per shard, {@code
 * docs-<first row>.parquet} or {@code queries-<first row>.parquet}, with the subset row of each
 * text ({@code row}, int64) and its L2-normalised embedding ({@code embedding}, the float32 values
 * little-endian in one binary: {@code numpy.frombuffer(value, "<f4")}). A file is written under a
 * temporary name and renamed into place, so a reader never sees half of one; a job scored again
 * (with the same embeddings: scoring is batch-invariant) leaves the first file in place.
 */
public final class EmbeddingFiles {
  public static final String DOCS = "docs";
  public static final String QUERIES = "queries";
  private static final MessageType SCHEMA =
      Types.buildMessage()
          .required(PrimitiveTypeName.INT64)
          .named("row")
          .required(PrimitiveTypeName.BINARY)
          .named("embedding")
          .named("embeddings");

  /**
   * Embeddings of some rows, in row order: {@code vectors} holds {@code rows.length × dimensions}
   * values.
   */
  public record Embeddings(long[] rows, float[] vectors, int dimensions) {
    public int count() {
      return rows.length;
    }

    /** The embedding of the {@code i}-th row held. */
    public float[] vector(int i) {
      float[] out = new float[dimensions];
      System.arraycopy(vectors, i * dimensions, out, 0, dimensions);
      return out;
    }

    public long bytes() {
      return (long) vectors.length * Float.BYTES + rows.length * Long.BYTES;
    }
  }

  private final Storage storage;

  public EmbeddingFiles(Storage storage) {
    this.storage = storage;
  }

  /** Writes the embeddings of rows {@code firstRow ..} of one shard. */
  public void write(String folder, String kind, long firstRow, float[][] vectors)
      throws IOException {
    Path target = new Path(folder, kind + "-" + firstRow + ".parquet");
    Path partial =
        new Path(
            folder, "." + kind + "-" + firstRow + ".parquet." + UUID.randomUUID() + ".partial");
    storage.call(
        folder,
        () -> {
          FileSystem fs = target.getFileSystem(storage.conf());
          SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
          try (ParquetWriter<Group> writer =
              ExampleParquetWriter.builder(HadoopOutputFile.fromPath(partial, storage.conf()))
                  .withConf(storage.conf())
                  .withType(SCHEMA)
                  .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                  .withCompressionCodec(CompressionCodecName.UNCOMPRESSED)
                  .build()) {
            for (int i = 0; i < vectors.length; i++) {
              ByteBuffer bytes =
                  ByteBuffer.allocate(vectors[i].length * Float.BYTES)
                      .order(ByteOrder.LITTLE_ENDIAN);
              bytes.asFloatBuffer().put(vectors[i]);
              writer.write(
                  groups
                      .newGroup()
                      .append("row", firstRow + i)
                      .append("embedding", Binary.fromConstantByteArray(bytes.array())));
            }
          }
          // A shard scored again (a job sent twice) writes the same embeddings: the first file
          // stays, so
          // that a query job listing the folder never finds it missing.
          if (!fs.rename(partial, target)) {
            fs.delete(partial, false);
            if (!fs.exists(target)) {
              throw new IOException("cannot rename " + partial + " to " + target);
            }
          }
          return null;
        });
  }

  /**
   * Every {@code kind} embedding in {@code folder}, in row order.
   *
   * @throws InputException when the folder holds none, or embeddings of different dimensions
   */
  public Embeddings read(String folder, String kind) throws IOException {
    return storage.call(
        folder,
        () -> {
          Path dir = new Path(folder);
          FileSystem fs = dir.getFileSystem(storage.conf());
          if (!fs.exists(dir)) {
            throw new InputException("no embeddings in " + folder + ": the folder does not exist");
          }
          TreeMap<Long, float[]> byRow = new TreeMap<>();
          int dimensions = -1;
          for (FileStatus file :
              fs.listStatus(
                  dir,
                  p -> p.getName().startsWith(kind + "-") && p.getName().endsWith(".parquet"))) {
            try (ParquetReader<Group> reader =
                ParquetReader.builder(new GroupReadSupport(), file.getPath())
                    .withConf(storage.conf())
                    .build()) {
              Group group;
              while ((group = reader.read()) != null) {
                byte[] bytes = group.getBinary("embedding", 0).getBytes();
                float[] vector = new float[bytes.length / Float.BYTES];
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
                if (dimensions >= 0 && vector.length != dimensions) {
                  throw new InputException(
                      "embeddings in "
                          + folder
                          + " have "
                          + dimensions
                          + " and "
                          + vector.length
                          + " dimensions");
                }
                dimensions = vector.length;
                byRow.put(group.getLong("row", 0), vector);
              }
            }
          }
          if (byRow.isEmpty()) {
            throw new InputException("no " + kind + " embeddings in " + folder);
          }
          long[] rows = new long[byRow.size()];
          float[] vectors = new float[byRow.size() * dimensions];
          int i = 0;
          for (Map.Entry<Long, float[]> entry : byRow.entrySet()) {
            rows[i] = entry.getKey();
            System.arraycopy(entry.getValue(), 0, vectors, i * dimensions, dimensions);
            i++;
          }
          return new Embeddings(rows, vectors, dimensions);
        });
  }

  /** Whether {@code folder} holds any {@code kind} embeddings. */
  public boolean has(String folder, String kind) throws IOException {
    return storage.call(
        folder,
        () -> {
          Path dir = new Path(folder);
          FileSystem fs = dir.getFileSystem(storage.conf());
          return fs.exists(dir)
              && fs.listStatus(
                          dir,
                          p ->
                              p.getName().startsWith(kind + "-")
                                  && p.getName().endsWith(".parquet"))
                      .length
                  > 0;
        });
  }
}
