package io.evalfleet.common.task;

import static io.evalfleet.common.task.ColumnRole.Presence.REQUIRED;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Sentence-embedding models scored on retrieval: a corpus, queries and graded relevance judgements
 * in one golden-subset file, told apart by its {@code role} column ({@value #DOC}, {@value #QUERY},
 * {@value #QREL}). The corpus is embedded by sharded jobs first; then each query job embeds its
 * queries and ranks the whole corpus by exact cosine. Per query: recall@k, the reciprocal rank
 * within the top 10 and nDCG@10 with the {@code (2^rel − 1)/log2(i + 1)} gain; run metrics are
 * their means over queries, compared with the baseline by a paired bootstrap over queries.
 *
 * <p>Against a baseline's archived embeddings the jobs also score the candidate's queries against
 * the baseline's corpus embeddings (the index as it stands: does it need rebuilding?), the overlap
 * of both models' top 10, and each text's cosine between its two embeddings when dimensions match.
 */
public final class RetrievalTask extends TaskSpec {
  public static final String ROLE = "role";
  public static final String TEXT = "text";
  public static final String QUERY_ID = "query_id";
  public static final String DOC_ID = "doc_id";
  public static final String RELEVANCE = "relevance";

  /** Role values. */
  public static final String DOC = "doc";

  public static final String QUERY = "query";
  public static final String QREL = "qrel";

  /** The cut-offs recall may be asked at (the policy names which, e.g. {@code recall@10}). */
  public static final List<Integer> RECALL_CUTOFFS = List.of(1, 5, 10, 20, 100);

  /** The cut-off of MRR, nDCG, the index comparison and the neighbour overlap. */
  public static final int CUTOFF = 10;

  RetrievalTask() {
    super(
        "retrieval",
        "a sentence-embedding model scored on retrieving judged documents for queries",
        List.of(TOKENIZER),
        List.of(EMBEDDING),
        List.of(
            new ColumnRole(
                ROLE,
                ColumnType.TEXT,
                REQUIRED,
                "what the row is: doc, query or qrel (a judgement)"),
            new ColumnRole(TEXT, ColumnType.TEXT, REQUIRED, "a doc's or a query's text"),
            new ColumnRole(
                QUERY_ID, ColumnType.TEXT, REQUIRED, "a query's id (query and qrel rows)"),
            new ColumnRole(DOC_ID, ColumnType.TEXT, REQUIRED, "a doc's id (doc and qrel rows)"),
            new ColumnRole(
                RELEVANCE,
                ColumnType.NUMBER,
                REQUIRED,
                "a judgement's graded relevance, > 0 is relevant")),
        List.of(MetricNames.RR_AT_10, MetricNames.NDCG_AT_10),
        metricSpecs());
  }

  private static List<MetricSpec> metricSpecs() {
    List<MetricSpec> metrics = new ArrayList<>();
    for (int k : RECALL_CUTOFFS) {
      metrics.add(
          new MetricSpec(
              recall(k),
              Direction.HIGHER_IS_BETTER,
              "mean over queries of the share of a query's relevant docs among its top " + k));
    }
    metrics.add(
        new MetricSpec(
            MetricNames.MRR_AT_10,
            Direction.HIGHER_IS_BETTER,
            "mean over queries of 1 / rank of the first relevant doc within the top 10 (0 if none)"));
    metrics.add(
        new MetricSpec(
            MetricNames.NDCG_AT_10,
            Direction.HIGHER_IS_BETTER,
            "mean over queries of nDCG@10 with gain (2^rel - 1) / log2(rank + 1), ideal from the judgements"));
    metrics.add(
        new MetricSpec(
            MetricNames.INDEX_NDCG_AT_10,
            Direction.HIGHER_IS_BETTER,
            "nDCG@10 of the candidate's queries against the baseline's corpus embeddings (the index as it stands)"));
    metrics.add(
        new MetricSpec(
            MetricNames.INDEX_LOSS,
            Direction.LOWER_IS_BETTER,
            "1 - index_ndcg@10 / ndcg@10: what keeping the old index costs against rebuilding it"));
    metrics.add(
        new MetricSpec(
            MetricNames.OVERLAP_AT_10,
            Direction.HIGHER_IS_BETTER,
            "mean over queries of the share of the baseline's top 10 docs also in the candidate's top 10"));
    metrics.add(
        new MetricSpec(
            MetricNames.TEXT_COSINE,
            Direction.HIGHER_IS_BETTER,
            "mean over docs and queries of the cosine between a text's baseline and candidate embeddings"));
    return metrics;
  }

  /** The metric name of recall at {@code k}, e.g. {@code recall@10}. */
  public static String recall(int k) {
    return String.format(Locale.ROOT, "recall@%d", k);
  }

  /**
   * Per query: the candidate's comparison with the baseline's embeddings, never paired with the
   * baseline's own.
   */
  @Override
  public List<String> comparisonValues() {
    return List.of(
        MetricNames.INDEX_NDCG_AT_10, MetricNames.OVERLAP_AT_10, MetricNames.COSINE_TO_BASELINE);
  }

  /** A query's nDCG@10 (NaN for doc and judgement rows). */
  @Override
  public RowScore rowScore() {
    return new RowScore(
        "query nDCG@10",
        Direction.HIGHER_IS_BETTER,
        (values, row) -> values.get(MetricNames.NDCG_AT_10)[row]);
  }

  @Override
  protected String requirementReason(String field) {
    return field.equals(TOKENIZER) ? " (tokenizer.uri and tokenizer.sha256)" : "";
  }
}
