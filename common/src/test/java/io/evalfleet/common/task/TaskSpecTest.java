package io.evalfleet.common.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.GoldenSubsetWriter;
import io.evalfleet.common.subset.SubsetSchemaException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TaskSpecTest {
  static final ArtifactRef MODEL = new ArtifactRef("file:///m/model.onnx", "b".repeat(64));
  static final ArtifactRef TOKENIZER = new ArtifactRef("file:///m/tokenizer.json", "d".repeat(64));
  static final SubsetRef SUBSET =
      new SubsetRef("file:///g/s.parquet", "c".repeat(64), "v1", Map.of());

  static StagedWeightEvent event(
      Task task, Integer maxSeqLen, Integer stride, ArtifactRef tokenizer) {
    return StagedWeightEvent.builder()
        .eventId("e1")
        .model("m")
        .version("v1")
        .task(task)
        .artifact(MODEL)
        .tokenizer(tokenizer)
        .goldenSubset(SUBSET)
        .maxSeqLen(maxSeqLen)
        .stride(stride)
        .createdAt(Instant.EPOCH)
        .build();
  }

  static ScoringJob job(Task task, Integer maxSeqLen, Integer stride, ArtifactRef tokenizer) {
    return ScoringJob.builder()
        .jobId("run-1/00000")
        .runId("run-1")
        .eventId("e1")
        .model("m")
        .version("v1")
        .task(task)
        .artifact(MODEL)
        .tokenizer(tokenizer)
        .goldenSubset(SUBSET)
        .maxSeqLen(maxSeqLen)
        .stride(stride)
        .shardIndex(0)
        .shardCount(1)
        .rowStart(0)
        .rowCount(10)
        .metrics(task.spec().rowValues())
        .attempt(1)
        .deadline(Instant.EPOCH)
        .build();
  }

  @ParameterizedTest(name = "max_seq_len {0}, stride {1}: {2}")
  @CsvSource(
      nullValues = "null",
      value = {
        "null, null, 'field ''max_seq_len'': is required for task causal-lm'",
        "1, null, 'field ''max_seq_len'': 1 leaves no token to score with context'",
        "64, 64, 'field ''stride'': 64 must be smaller than max_seq_len 64'",
        "64, 65, 'field ''stride'': 65 must be smaller than max_seq_len 64'"
      })
  void eventAndJobRejectTheSameCausalLmParameters(
      Integer maxSeqLen, Integer stride, String message) {
    assertThatThrownBy(() -> event(Task.CAUSAL_LM, maxSeqLen, stride, null))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining(message);
    assertThatThrownBy(() -> job(Task.CAUSAL_LM, maxSeqLen, stride, null))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining(message);
  }

  @Test
  void strideBelowTheContextIsAcceptedAndDefaultsToHalfOfIt() {
    assertThat(event(Task.CAUSAL_LM, 64, 63, null).stride()).isEqualTo(63);
    assertThat(Task.CAUSAL_LM.spec().stride(64, null)).isEqualTo(32);
    assertThat(Task.CAUSAL_LM.spec().stride(3, null)).isEqualTo(1);
    assertThat(Task.CAUSAL_LM.spec().stride(64, 10)).isEqualTo(10);
    assertThat(Task.EMBEDDING.spec().stride(256, null)).as("embeddings are not windowed").isNull();
  }

  @Test
  void embeddingNeedsTheModelsTokenizer() {
    assertThatThrownBy(() -> event(Task.EMBEDDING, 256, null, null))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("field 'tokenizer': is required for task embedding");
    assertThat(event(Task.EMBEDDING, null, null, TOKENIZER).task()).isEqualTo(Task.EMBEDDING);
  }

  @Test
  void everyTaskNamesItsRowValuesAndMetricsWithDirections() {
    for (Task task : Task.values()) {
      TaskSpec spec = task.spec();
      assertThat(spec.name()).isEqualTo(task.wireName());
      assertThat(spec.rowValues()).as(task + " row values").isNotEmpty();
      assertThat(spec.metrics())
          .as(task + " metrics")
          .isNotEmpty()
          .allSatisfy(m -> assertThat(m.direction()).isNotNull());
      assertThat(spec.columns()).as(task + " columns").isNotEmpty();
    }
    assertThat(Task.direction(MetricNames.PERPLEXITY)).isEqualTo(Direction.LOWER_IS_BETTER);
    assertThat(Task.direction(MetricNames.SPEARMAN)).isEqualTo(Direction.HIGHER_IS_BETTER);
    assertThat(Task.direction("not-a-metric")).isEqualTo(Direction.TWO_SIDED);
  }

  @Test
  void embeddingLayoutReadsRequiredAndOptionalColumns() throws Exception {
    SubsetLayout withGold =
        Task.EMBEDDING.spec().layout(file(GoldenSubsetWriter.PAIR_SCHEMA), SUBSET::column, true);
    assertThat(withGold.columns())
        .containsOnlyKeys(EmbeddingTask.TEXT_A, EmbeddingTask.TEXT_B, EmbeddingTask.GOLD);

    MessageType noGold =
        Types.buildMessage()
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named("a")
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named("b")
            .named("pairs");
    SubsetRef mapped =
        new SubsetRef(
            "file:///g/s.parquet", "c".repeat(64), null, Map.of("text_a", "a", "text_b", "b"));
    SubsetLayout layout = Task.EMBEDDING.spec().layout(file(noGold), mapped::column, true);
    assertThat(layout.column(EmbeddingTask.TEXT_A)).isEqualTo("a");
    assertThat(layout.has(EmbeddingTask.GOLD)).isFalse();
  }

  @Test
  void missingOrMistypedColumnIsRejectedNamingRoleAndColumn() {
    assertThatThrownBy(
            () ->
                Task.EMBEDDING
                    .spec()
                    .layout(file(GoldenSubsetWriter.TEXT_SCHEMA), SUBSET::column, true))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining("no column 'text_a' (text_a)");
    MessageType textGold =
        Types.buildMessage()
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named("text_a")
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named("text_b")
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named("gold")
            .named("pairs");
    assertThatThrownBy(() -> Task.EMBEDDING.spec().layout(file(textGold), SUBSET::column, true))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining("column 'gold' (gold) must be numeric");
  }

  @Test
  void causalLmReadsTokenIdsInPreferenceToTextAndNeedsATokenizerForText() throws Exception {
    MessageType both =
        Types.buildMessage()
            .requiredList()
            .requiredElement(PrimitiveTypeName.INT64)
            .named("input_ids")
            .required(PrimitiveTypeName.BINARY)
            .as(LogicalTypeAnnotation.stringType())
            .named("text")
            .named("rows");
    assertThat(Task.CAUSAL_LM.spec().layout(file(both), SUBSET::column, false).columns())
        .containsOnlyKeys(CausalLmTask.INPUT_IDS);
    assertThat(
            Task.CAUSAL_LM
                .spec()
                .layout(file(GoldenSubsetWriter.TEXT_SCHEMA), SUBSET::column, true)
                .columns())
        .containsOnlyKeys(CausalLmTask.TEXT);
    assertThatThrownBy(
            () ->
                Task.CAUSAL_LM
                    .spec()
                    .layout(file(GoldenSubsetWriter.TEXT_SCHEMA), SUBSET::column, false))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining("holds text, so task causal-lm needs the" + " model's tokenizer");
    assertThatThrownBy(
            () ->
                Task.CAUSAL_LM
                    .spec()
                    .layout(file(GoldenSubsetWriter.PAIR_SCHEMA), SUBSET::column, true))
        .isInstanceOf(SubsetSchemaException.class)
        .hasMessageContaining(
            "has none of the columns task causal-lm reads its rows from: 'input_ids' (input_ids) or"
                + " 'text' (text)");
  }

  @Test
  void embeddingConventionsTravelInTheEventWithTheirDefaultsFilledIn() {
    String json =
        """
        {"schema_version": 1, "event_id": "e-1", "model": "bge", "version": "v1", "task": "embedding",
         "artifact": {"uri": "file:///m/model.onnx", "sha256": "%s"},
         "tokenizer": {"uri": "file:///m/tokenizer.json", "sha256": "%s"},
         "golden_subset": {"uri": "file:///g/s.parquet", "sha256": "%s"},
         "embedding": {"pooling": "cls", "prefix_a": "query: "}}
        """
            .formatted("b".repeat(64), "d".repeat(64), "c".repeat(64));
    StagedWeightEvent event =
        io.evalfleet.common.contract.Json.read(
            json.getBytes(java.nio.charset.StandardCharsets.UTF_8), StagedWeightEvent.class);
    EmbeddingConventions conventions = event.embedding();
    assertThat(conventions.pooling()).isEqualTo(EmbeddingConventions.Pooling.CLS);
    assertThat(conventions.normalize()).isTrue();
    assertThat(conventions.prefixA()).isEqualTo("query: ");
    assertThat(conventions.prefixB()).isEmpty();
    assertThat(conventions.output()).isNull();
    assertThat(conventions.describe())
        .isEqualTo("pooling cls, normalized, prefixes \"query: \"/\"\", output default");
    StagedWeightEvent again =
        io.evalfleet.common.contract.Json.read(
            io.evalfleet.common.contract.Json.write(event), StagedWeightEvent.class);
    assertThat(again).isEqualTo(event);
    assertThat(EmbeddingConventions.orDefaults(null).pooling())
        .isEqualTo(EmbeddingConventions.Pooling.MEAN);
  }

  @Test
  void embeddingConventionsOnAnotherTaskAreRefusedNotIgnored() {
    assertThatThrownBy(
            () ->
                StagedWeightEvent.builder()
                    .eventId("e1")
                    .model("m")
                    .version("v1")
                    .task(Task.CAUSAL_LM)
                    .artifact(MODEL)
                    .goldenSubset(SUBSET)
                    .maxSeqLen(128)
                    .createdAt(Instant.EPOCH)
                    .embedding(EmbeddingConventions.DEFAULTS)
                    .build())
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining(
            "field 'embedding': applies to the tasks that embed text (embedding, retrieval), not to task causal-lm");
    assertThatThrownBy(
            () ->
                io.evalfleet.common.contract.Json.read(
                    """
        {"schema_version": 1, "event_id": "e-1", "model": "bge", "version": "v1", "task": "embedding",
         "artifact": {"uri": "file:///m/model.onnx", "sha256": "%s"},
         "tokenizer": {"uri": "file:///m/tokenizer.json", "sha256": "%s"},
         "golden_subset": {"uri": "file:///g/s.parquet", "sha256": "%s"},
         "embedding": {"pooling": "median"}}
        """
                        .formatted("b".repeat(64), "d".repeat(64), "c".repeat(64))
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    StagedWeightEvent.class))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("embedding.pooling");
  }

  private static GoldenSubsetFile file(MessageType schema) {
    return new GoldenSubsetFile("file:///g/s.parquet", schema, List.of(10L));
  }
}
