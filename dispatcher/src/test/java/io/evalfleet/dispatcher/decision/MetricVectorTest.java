package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.task.Direction;
import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.Task;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricVectorTest {
  static ShardResult shard(int index, long start, double[] cosine, double[] gold) {
    return ShardResult.builder()
        .jobId("run/" + index)
        .runId("run")
        .shardIndex(index)
        .rowStart(start)
        .rowCount(cosine.length)
        .values(Map.of(MetricNames.COSINE, cosine, MetricNames.GOLD, gold))
        .workerId("w")
        .executionProvider("cpu")
        .durationMs(1)
        .attempt(1)
        .build();
  }

  @Test
  void assemblesRowsInOrderWhateverOrderShardsArrive() {
    MetricVector vector =
        MetricVector.of(
            Task.EMBEDDING,
            List.of(
                shard(1, 2, new double[] {0.3, 0.4}, new double[] {3, 4}),
                shard(0, 0, new double[] {0.1, 0.2}, new double[] {1, 2})));
    assertThat(vector.rowValues().get(MetricNames.COSINE)).containsExactly(0.1, 0.2, 0.3, 0.4);
    assertThat(vector.rows()).isEqualTo(4);
    assertThat(vector.metrics().get(MetricNames.MEAN_COSINE)).isCloseTo(0.25, within(1e-12));
    assertThat(vector.metrics().get(MetricNames.SPEARMAN)).isCloseTo(1.0, within(1e-12));
  }

  @Test
  void aShardWithOtherValuesThanTheRestIsRefusedNotFilledWithZeros() {
    ShardResult cosineOnly =
        ShardResult.builder()
            .jobId("run/1")
            .runId("run")
            .shardIndex(1)
            .rowStart(2)
            .rowCount(2)
            .values(Map.of(MetricNames.COSINE, new double[] {0.3, 0.4}))
            .workerId("w")
            .executionProvider("cpu")
            .durationMs(1)
            .attempt(1)
            .build();
    assertThatThrownBy(
            () ->
                MetricVector.of(
                    Task.EMBEDDING,
                    List.of(shard(0, 0, new double[] {0.1, 0.2}, new double[] {1, 2}), cosineOnly)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shard run/1 has values [cosine]");
  }

  @Test
  void spearmanUsesRanksWithTiesAveraged() {
    // cosine ranks 1,2,3,4,5; gold ranks 2,1,4,3,5 → rho = 1 - 6*4/(5*24) = 0.8
    MetricVector vector =
        MetricVector.of(
            Task.EMBEDDING,
            List.of(
                shard(0, 0, new double[] {0.1, 0.2, 0.3, 0.4, 0.5}, new double[] {2, 1, 4, 3, 5})));
    assertThat(vector.metrics().get(MetricNames.SPEARMAN)).isCloseTo(0.8, within(1e-12));
    // ties: gold (1, 1, 2) ranks (1.5, 1.5, 3) vs (1, 2, 3): Pearson of ranks = 0.8660254
    MetricVector tied =
        MetricVector.of(
            Task.EMBEDDING,
            List.of(shard(0, 0, new double[] {0.1, 0.2, 0.3}, new double[] {1, 1, 2})));
    assertThat(tied.metrics().get(MetricNames.SPEARMAN)).isCloseTo(Math.sqrt(3) / 2, within(1e-9));
  }

  @Test
  void perplexityIsPooledOverTokensNotAveragedOverRows() {
    // Row 0: 10 tokens with NLL 10 (1.0 per token); row 1: 2 tokens with NLL 8 (4.0 per token).
    ShardResult shard =
        ShardResult.builder()
            .jobId("run/0")
            .runId("run")
            .shardIndex(0)
            .rowStart(0)
            .rowCount(2)
            .values(
                Map.of(
                    MetricNames.NLL_SUM,
                    new double[] {10, 8},
                    MetricNames.TOKENS,
                    new double[] {10, 2},
                    MetricNames.BYTES,
                    new double[] {11, 3}))
            .workerId("w")
            .executionProvider("cpu")
            .paddingRatio(0.0)
            .durationMs(1)
            .attempt(1)
            .build();
    MetricVector vector = MetricVector.of(Task.CAUSAL_LM, List.of(shard));
    assertThat(vector.metrics().get(MetricNames.PERPLEXITY))
        .isCloseTo(Math.exp(18.0 / 12), within(1e-12));
    assertThat(vector.metrics().get(MetricNames.BITS_PER_BYTE))
        .isCloseTo(18.0 / (14 * Math.log(2)), within(1e-12));
    double meanOfRowPerplexities = (Math.exp(1.0) + Math.exp(4.0)) / 2;
    assertThat(vector.metrics().get(MetricNames.PERPLEXITY))
        .isNotCloseTo(meanOfRowPerplexities, within(1.0));
    assertThat(io.evalfleet.common.task.Task.direction(MetricNames.PERPLEXITY))
        .isEqualTo(Direction.LOWER_IS_BETTER);
  }

  @Test
  void aRunsVectorHoldsOnlyTheMetricsItsTaskNames() {
    Map<String, double[]> rows =
        Map.of(
            MetricNames.COSINE,
            new double[] {0.5, 0.7, 0.9},
            MetricNames.GOLD,
            new double[] {1, 2, 3},
            MetricNames.NLL_SUM,
            new double[] {1, 1, 1},
            MetricNames.TOKENS,
            new double[] {2, 2, 2});
    assertThat(MetricVector.of(Task.EMBEDDING, rows, 3).metrics())
        .containsOnlyKeys(MetricNames.SPEARMAN, MetricNames.MEAN_COSINE);
    assertThat(MetricVector.of(Task.CAUSAL_LM, rows, 3).metrics())
        .containsOnlyKeys(MetricNames.PERPLEXITY);
  }

  @Test
  void retrievalMetricsAreMeansOverQueriesAndTheIndexLossIsPooled() {
    double nan = Double.NaN;
    // Rows: two docs (only their drift), three queries (the third without a relevant judgement),
    // one judgement row.
    Map<String, double[]> values =
        Map.of(
            MetricNames.NDCG_AT_10,
            new double[] {nan, nan, 1.0, 0.5, nan, nan},
            MetricNames.RR_AT_10,
            new double[] {nan, nan, 1.0, 0.5, nan, nan},
            "recall@10",
            new double[] {nan, nan, 1.0, 1.0, nan, nan},
            MetricNames.INDEX_NDCG_AT_10,
            new double[] {nan, nan, 0.9, 0.3, nan, nan},
            MetricNames.OVERLAP_AT_10,
            new double[] {nan, nan, 0.8, 0.6, nan, nan},
            MetricNames.COSINE_TO_BASELINE,
            new double[] {0.9, 0.7, 0.8, 0.6, 1.0, nan});
    MetricVector vector = MetricVector.of(Task.RETRIEVAL, values, 4);
    assertThat(vector.metrics().get(MetricNames.NDCG_AT_10)).isCloseTo(0.75, within(1e-12));
    assertThat(vector.metrics().get(MetricNames.MRR_AT_10)).isCloseTo(0.75, within(1e-12));
    assertThat(vector.metrics().get("recall@10")).isCloseTo(1.0, within(1e-12));
    assertThat(vector.metrics().get(MetricNames.INDEX_LOSS))
        .isCloseTo(1 - 1.2 / 1.5, within(1e-12));
    assertThat(vector.metrics().get(MetricNames.OVERLAP_AT_10)).isCloseTo(0.7, within(1e-12));
    // every doc and query with both embeddings: (0.9 + 0.7 + 0.8 + 0.6 + 1.0) / 5
    assertThat(vector.metrics().get(MetricNames.TEXT_COSINE)).isCloseTo(0.8, within(1e-12));
    assertThat(MetricVector.units(Task.RETRIEVAL, values)).isEqualTo(2);
  }

  @Test
  void thePairedBootstrapDrawsOnlyTheRowsBothRunsScored() {
    double nan = Double.NaN;
    Map<String, double[]> baseline =
        Map.of(
            MetricNames.NDCG_AT_10,
            new double[] {nan, 0.5, 0.7, nan},
            MetricNames.RR_AT_10,
            new double[] {nan, 0.5, 1.0, nan});
    Map<String, double[]> candidate =
        Map.of(
            MetricNames.NDCG_AT_10,
            new double[] {nan, 0.6, 0.7, nan},
            MetricNames.RR_AT_10,
            new double[] {nan, 0.5, 1.0, nan});
    BootstrapResult result = new PairedBootstrap(500, 3).resample(baseline, candidate);
    assertThat(result.rows()).isEqualTo(2);
    assertThat(
            java.util.Arrays.stream(result.resampledChanges().get(MetricNames.NDCG_AT_10))
                .boxed()
                .toList())
        .allMatch(change -> change >= 0 && change <= 0.2 + 1e-12);
  }
}
