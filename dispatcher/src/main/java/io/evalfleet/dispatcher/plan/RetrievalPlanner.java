package io.evalfleet.dispatcher.plan;

import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.SubsetSchemaException;
import io.evalfleet.common.task.RetrievalTask;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.schema.MessageType;

/**
 * The shards of a retrieval run, from its subset's {@code role} column: every run of consecutive
 * doc rows, then every run of consecutive query rows, each split into shards of at most {@code
 * maxRows} rows of sizes that differ by at most one. Doc shards come first, so that a run's query
 * shards (from {@link Plan#queriesFrom}) can wait for its whole corpus; judgement rows are read by
 * the query jobs, never scored.
 */
public final class RetrievalPlanner {
  private final ShardPlanner rows;

  public RetrievalPlanner(int maxRows) {
    this.rows = new ShardPlanner(maxRows);
  }

  /**
   * @param shards doc shards, then query shards, indexed in that order
   * @param queriesFrom the index of the first query shard
   * @param scoredRows the doc and query rows
   */
  public record Plan(
      List<Shard> shards,
      int queriesFrom,
      long docs,
      long queries,
      long judgements,
      long scoredRows) {}

  /**
   * @throws SubsetSchemaException when a row has no role or another role than doc, query or qrel,
   *     or when the subset lacks docs, queries or judgements
   */
  public Plan plan(
      Storage storage, String uri, MessageType schema, String roleColumn, long rowCount)
      throws IOException, SubsetSchemaException {
    String[] roles = read(storage, uri, schema, roleColumn, rowCount);
    List<long[]> docRuns = new ArrayList<>();
    List<long[]> queryRuns = new ArrayList<>();
    long docs = 0;
    long queries = 0;
    long judgements = 0;
    for (int start = 0; start < roles.length; ) {
      String role = roles[start];
      if (role == null
          || !(role.equals(RetrievalTask.DOC)
              || role.equals(RetrievalTask.QUERY)
              || role.equals(RetrievalTask.QREL))) {
        throw new SubsetSchemaException(
            "golden subset "
                + uri
                + ": row "
                + start
                + " has role "
                + (role == null ? "null" : "'" + role + "'")
                + " in column '"
                + roleColumn
                + "'; a retrieval subset's rows"
                + " are doc, query or qrel");
      }
      int end = start;
      while (end < roles.length && role.equals(roles[end])) {
        end++;
      }
      switch (role) {
        case RetrievalTask.DOC -> {
          docRuns.add(new long[] {start, end - start});
          docs += end - start;
        }
        case RetrievalTask.QUERY -> {
          queryRuns.add(new long[] {start, end - start});
          queries += end - start;
        }
        default -> judgements += end - start;
      }
      start = end;
    }
    if (docs == 0 || queries == 0 || judgements == 0) {
      throw new SubsetSchemaException(
          "golden subset "
              + uri
              + " has "
              + docs
              + " doc, "
              + queries
              + " query and "
              + judgements
              + " qrel rows (column '"
              + roleColumn
              + "'); retrieval needs a corpus, queries and judgements");
    }
    List<Shard> shards = new ArrayList<>();
    split(docRuns, shards);
    int queriesFrom = shards.size();
    split(queryRuns, shards);
    return new Plan(shards, queriesFrom, docs, queries, judgements, docs + queries);
  }

  private void split(List<long[]> runs, List<Shard> into) {
    for (long[] run : runs) {
      for (Shard piece : rows.plan(List.of(run[1]))) {
        into.add(new Shard(into.size(), run[0] + piece.start(), piece.count()));
      }
    }
  }

  private static String[] read(
      Storage storage, String uri, MessageType schema, String column, long rows)
      throws IOException {
    Configuration conf = new Configuration(storage.conf());
    conf.set(
        ReadSupport.PARQUET_READ_SCHEMA,
        new MessageType(schema.getName(), schema.getType(column)).toString());
    String[] roles = new String[Math.toIntExact(rows)];
    int at = 0;
    try (ParquetReader<Group> reader =
        ParquetReader.builder(new GroupReadSupport(), new Path(uri)).withConf(conf).build()) {
      Group row;
      while ((row = reader.read()) != null && at < roles.length) {
        roles[at++] = row.getFieldRepetitionCount(0) == 0 ? null : row.getString(0, 0);
      }
    }
    return roles;
  }
}
