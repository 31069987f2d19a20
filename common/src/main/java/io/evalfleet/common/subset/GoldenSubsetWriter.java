package io.evalfleet.common.subset;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
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

/**
 * Writes golden subsets as Parquet: sentence pairs for embedding models, text or token rows for
 * causal LMs.
 */
public final class GoldenSubsetWriter {
  /** One sentence pair with its human similarity score (0–5). */
  public record Pair(long id, String textA, String textB, double gold) {}

  public static final MessageType PAIR_SCHEMA =
      Types.buildMessage()
          .required(PrimitiveTypeName.INT64)
          .named("id")
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("text_a")
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("text_b")
          .required(PrimitiveTypeName.DOUBLE)
          .named("gold")
          .named("sentence_pairs");

  /**
   * Embedding pairs without gold scores: {@code id, text_a, text_b} (mean cosine is their only
   * metric).
   */
  public static final MessageType UNGRADED_PAIR_SCHEMA =
      Types.buildMessage()
          .required(PrimitiveTypeName.INT64)
          .named("id")
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("text_a")
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("text_b")
          .named("ungraded_pairs");

  /** Causal-LM rows as text: {@code id, text}. */
  public static final MessageType TEXT_SCHEMA =
      Types.buildMessage()
          .required(PrimitiveTypeName.INT64)
          .named("id")
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("text")
          .named("text_rows");

  /** Causal-LM rows pre-tokenised: {@code id, input_ids list<int32>}. */
  public static final MessageType TOKEN_SCHEMA =
      Types.buildMessage()
          .required(PrimitiveTypeName.INT64)
          .named("id")
          .requiredList()
          .requiredElement(PrimitiveTypeName.INT32)
          .named("input_ids")
          .named("token_rows");

  /**
   * A retrieval subset (one file, a {@code role} column): its docs, then its queries, then its
   * judgements.
   */
  public static final MessageType RETRIEVAL_SCHEMA =
      Types.buildMessage()
          .required(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("role")
          .optional(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("text")
          .optional(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("query_id")
          .optional(PrimitiveTypeName.BINARY)
          .as(LogicalTypeAnnotation.stringType())
          .named("doc_id")
          .optional(PrimitiveTypeName.DOUBLE)
          .named("relevance")
          .named("retrieval");

  /** A retrieval subset's rows: docs (id → text), queries (id → text) and graded judgements. */
  public record Retrieval(
      Map<String, String> docs, Map<String, String> queries, List<Judgement> qrels) {}

  /**
   * Query {@code queryId} finds doc {@code docId} relevant with grade {@code relevance} (0: judged
   * not relevant).
   */
  public record Judgement(String queryId, String docId, int relevance) {}

  private GoldenSubsetWriter() {}

  /**
   * Writes a retrieval subset: a row per doc, then per query, then per judgement, in the maps'
   * order.
   */
  public static void writeRetrieval(Path path, Retrieval subset, long rowGroupBytes)
      throws IOException {
    List<String> docIds = List.copyOf(subset.docs().keySet());
    List<String> queryIds = List.copyOf(subset.queries().keySet());
    int docs = docIds.size();
    int queries = queryIds.size();
    write(
        path,
        RETRIEVAL_SCHEMA,
        rowGroupBytes,
        docs + queries + subset.qrels().size(),
        (groups, i) -> {
          if (i < docs) {
            return groups
                .newGroup()
                .append("role", "doc")
                .append("text", subset.docs().get(docIds.get(i)))
                .append("doc_id", docIds.get(i));
          }
          if (i < docs + queries) {
            String id = queryIds.get(i - docs);
            return groups
                .newGroup()
                .append("role", "query")
                .append("text", subset.queries().get(id))
                .append("query_id", id);
          }
          Judgement judgement = subset.qrels().get(i - docs - queries);
          return groups
              .newGroup()
              .append("role", "qrel")
              .append("query_id", judgement.queryId())
              .append("doc_id", judgement.docId())
              .append("relevance", (double) judgement.relevance());
        });
  }

  public static void writeTexts(Path path, List<String> texts, long rowGroupBytes)
      throws IOException {
    write(
        path,
        TEXT_SCHEMA,
        rowGroupBytes,
        texts.size(),
        (groups, i) -> groups.newGroup().append("id", (long) i).append("text", texts.get(i)));
  }

  /**
   * Writes {@code rows} texts made on the fly by {@code text} in row groups of exactly {@code
   * rowGroupRows} rows (the last may have fewer), whatever their bytes: a seeded order then takes
   * whole row groups as its blocks, so that a job reads its own share of the file (see {@code
   * RowOrder.of} with row-group sizes).
   */
  public static void writeTexts(Path path, int rows, IntFunction<String> text, int rowGroupRows)
      throws IOException {
    if (rowGroupRows <= 0) {
      throw new IllegalArgumentException("row groups must hold rows, got " + rowGroupRows);
    }
    SimpleGroupFactory groups = new SimpleGroupFactory(TEXT_SCHEMA);
    try (ParquetWriter<Group> writer =
        builder(path, TEXT_SCHEMA, Long.MAX_VALUE)
            .withRowGroupRowCountLimit(rowGroupRows)
            .build()) {
      for (int i = 0; i < rows; i++) {
        writer.write(groups.newGroup().append("id", (long) i).append("text", text.apply(i)));
      }
    }
  }

  public static void writeTokenIds(Path path, List<int[]> rows, long rowGroupBytes)
      throws IOException {
    writeTokenIds(path, rows, rowGroupBytes, Integer.MAX_VALUE);
  }

  /**
   * Writes token-id rows in row groups of about {@code rowGroupBytes} bytes and at most {@code
   * rowGroupRows} rows.
   */
  public static void writeTokenIds(
      Path path, List<int[]> rows, long rowGroupBytes, int rowGroupRows) throws IOException {
    write(
        path,
        TOKEN_SCHEMA,
        rowGroupBytes,
        rowGroupRows,
        rows.size(),
        (groups, i) -> {
          Group row = groups.newGroup().append("id", (long) i);
          Group list = row.addGroup("input_ids");
          for (int id : rows.get(i)) {
            list.addGroup("list").append("element", id);
          }
          return row;
        });
  }

  /**
   * Writes {@code rows} ungraded pairs made on the fly by {@code textA} and {@code textB} (so that
   * a large subset is never held in memory).
   */
  public static void writeUngradedPairs(
      Path path, int rows, IntFunction<String> textA, IntFunction<String> textB, long rowGroupBytes)
      throws IOException {
    write(
        path,
        UNGRADED_PAIR_SCHEMA,
        rowGroupBytes,
        rows,
        (groups, i) ->
            groups
                .newGroup()
                .append("id", (long) i)
                .append("text_a", textA.apply(i))
                .append("text_b", textB.apply(i)));
  }

  private interface RowMaker {
    Group make(SimpleGroupFactory groups, int index);
  }

  private static void write(
      Path path, MessageType schema, long rowGroupBytes, int rows, RowMaker maker)
      throws IOException {
    write(path, schema, rowGroupBytes, Integer.MAX_VALUE, rows, maker);
  }

  private static void write(
      Path path, MessageType schema, long rowGroupBytes, int rowGroupRows, int rows, RowMaker maker)
      throws IOException {
    SimpleGroupFactory groups = new SimpleGroupFactory(schema);
    try (ParquetWriter<Group> writer =
        builder(path, schema, rowGroupBytes).withRowGroupRowCountLimit(rowGroupRows).build()) {
      for (int i = 0; i < rows; i++) {
        writer.write(maker.make(groups, i));
      }
    }
  }

  private static ExampleParquetWriter.Builder builder(
      Path path, MessageType schema, long rowGroupBytes) throws IOException {
    return ExampleParquetWriter.builder(HadoopOutputFile.fromPath(path, new Configuration()))
        .withType(schema)
        .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
        .withCompressionCodec(CompressionCodecName.SNAPPY)
        .withRowGroupSize(rowGroupBytes)
        .withMinRowCountForPageSizeCheck(1)
        .withMaxRowCountForPageSizeCheck(16);
  }

  /**
   * Writes {@code pairs} to {@code path}, replacing it, in row groups of about {@code
   * rowGroupBytes} bytes (small values give several row groups, as a large subset has).
   */
  public static void writePairs(Path path, List<Pair> pairs, long rowGroupBytes)
      throws IOException {
    write(
        path,
        PAIR_SCHEMA,
        rowGroupBytes,
        pairs.size(),
        (groups, i) ->
            groups
                .newGroup()
                .append("id", pairs.get(i).id())
                .append("text_a", pairs.get(i).textA())
                .append("text_b", pairs.get(i).textB())
                .append("gold", pairs.get(i).gold()));
  }
}
