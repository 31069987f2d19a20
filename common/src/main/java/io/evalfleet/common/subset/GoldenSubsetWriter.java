package io.evalfleet.common.subset;

import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;

/** Writes a sentence-pair golden subset ({@code id, text_a, text_b, gold}) as a Parquet file. */
public final class GoldenSubsetWriter {
  /** One sentence pair with its human similarity score (0–5). */
  public record Pair(long id, String textA, String textB, double gold) {}

  public static final MessageType PAIR_SCHEMA = Types.buildMessage()
      .required(PrimitiveTypeName.INT64).named("id")
      .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("text_a")
      .required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named("text_b")
      .required(PrimitiveTypeName.DOUBLE).named("gold")
      .named("sentence_pairs");

  private GoldenSubsetWriter() {}

  /**
   * Writes {@code pairs} to {@code path}, replacing it, in row groups of about
   * {@code rowGroupBytes} bytes (small values give several row groups, as a large subset has).
   */
  public static void writePairs(Path path, List<Pair> pairs, long rowGroupBytes) throws IOException {
    SimpleGroupFactory groups = new SimpleGroupFactory(PAIR_SCHEMA);
    try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(path, new Configuration()))
        .withType(PAIR_SCHEMA)
        .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
        .withCompressionCodec(CompressionCodecName.SNAPPY)
        .withRowGroupSize(rowGroupBytes)
        .withMinRowCountForPageSizeCheck(1)
        .withMaxRowCountForPageSizeCheck(16)
        .build()) {
      for (Pair pair : pairs) {
        writer.write(groups.newGroup()
            .append("id", pair.id())
            .append("text_a", pair.textA())
            .append("text_b", pair.textB())
            .append("gold", pair.gold()));
      }
    }
  }
}
