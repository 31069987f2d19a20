package io.evalfleet.dispatcher.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.SubsetSchemaException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetrievalPlannerTest {
  @TempDir Path dir;

  private RetrievalPlanner.Plan plan(int docs, int queries, int qrels, int maxRows)
      throws Exception {
    Map<String, String> docTexts = new LinkedHashMap<>();
    for (int i = 0; i < docs; i++) {
      docTexts.put("d" + i, "doc " + i);
    }
    Map<String, String> queryTexts = new LinkedHashMap<>();
    for (int i = 0; i < queries; i++) {
      queryTexts.put("q" + i, "query " + i);
    }
    List<GoldenSubsetWriter.Judgement> judgements = new java.util.ArrayList<>();
    for (int i = 0; i < qrels; i++) {
      judgements.add(
          new GoldenSubsetWriter.Judgement(
              "q" + (i % Math.max(1, queries)), "d" + (i % Math.max(1, docs)), 1));
    }
    Path file = dir.resolve("r-" + docs + "-" + queries + "-" + qrels + ".parquet");
    GoldenSubsetWriter.writeRetrieval(
        new org.apache.hadoop.fs.Path(file.toUri()),
        new GoldenSubsetWriter.Retrieval(docTexts, queryTexts, judgements),
        1 << 20);
    Storage storage = Storage.withDefaults();
    GoldenSubsetFile footer = GoldenSubsetFile.readFooter(storage, file.toUri().toString());
    return new RetrievalPlanner(maxRows)
        .plan(storage, footer.uri(), footer.schema(), "role", footer.rowCount());
  }

  @Test
  void docsAreShardedFirstThenQueriesAndJudgementsAreNotScored() throws Exception {
    RetrievalPlanner.Plan plan = plan(10, 5, 7, 4);
    // 10 docs in 3 shards of 4, 3, 3 rows; 5 queries in 2 shards of 3 and 2 rows, starting at row
    // 10.
    assertThat(plan.shards())
        .containsExactly(
            new Shard(0, 0, 4),
            new Shard(1, 4, 3),
            new Shard(2, 7, 3),
            new Shard(3, 10, 3),
            new Shard(4, 13, 2));
    assertThat(plan.queriesFrom()).isEqualTo(3);
    assertThat(plan.docs()).isEqualTo(10);
    assertThat(plan.queries()).isEqualTo(5);
    assertThat(plan.judgements()).isEqualTo(7);
    assertThat(plan.scoredRows()).isEqualTo(15);
  }

  @Test
  void aSubsetWithoutJudgementsOrQueriesIsRefusedSayingWhatItHas() {
    assertThatThrownBy(() -> plan(3, 2, 0, 4))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining("has 3 doc, 2 query and 0 qrel rows")
        .hasMessageContaining("needs a corpus, queries and judgements");
    assertThatThrownBy(() -> plan(3, 0, 2, 4))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining("has 3 doc, 0 query and 2 qrel rows");
  }

  @Test
  void aRowOfAnotherRoleIsRefusedNamingItsRowAndRole() throws Exception {
    Path file = dir.resolve("passages.parquet");
    var schema = GoldenSubsetWriter.RETRIEVAL_SCHEMA;
    var groups = new org.apache.parquet.example.data.simple.SimpleGroupFactory(schema);
    try (var writer =
        org.apache.parquet.hadoop.example.ExampleParquetWriter.builder(
                org.apache.parquet.hadoop.util.HadoopOutputFile.fromPath(
                    new org.apache.hadoop.fs.Path(file.toUri()),
                    new org.apache.hadoop.conf.Configuration()))
            .withType(schema)
            .build()) {
      writer.write(
          groups.newGroup().append("role", "doc").append("text", "a doc").append("doc_id", "d0"));
      writer.write(
          groups
              .newGroup()
              .append("role", "passage")
              .append("text", "a passage")
              .append("doc_id", "p0"));
    }
    Storage storage = Storage.withDefaults();
    GoldenSubsetFile footer = GoldenSubsetFile.readFooter(storage, file.toUri().toString());
    assertThatThrownBy(
            () ->
                new RetrievalPlanner(4)
                    .plan(storage, footer.uri(), footer.schema(), "role", footer.rowCount()))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining(
            "row 1 has role 'passage' in column 'role'; a retrieval subset's rows are doc, query or qrel");
  }
}
