package io.evalfleet.worker.inspect;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.Storage;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.worker.model.ArtifactCache;
import io.evalfleet.worker.model.ModelSessions;
import io.evalfleet.worker.scoring.TestModelsAccess;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelInspectorTest {
  static final Path FIXTURES = Path.of("..", "fixtures", "causal-lm").toAbsolutePath().normalize();

  @TempDir static Path dir;
  static ModelSessions sessions;
  static ModelInspector inspector;

  @BeforeAll
  static void setUp() {
    sessions = new ModelSessions(new ArtifactCache(Storage.withDefaults(), dir, Long.MAX_VALUE), 1);
    inspector = new ModelInspector(sessions);
  }

  @AfterAll
  static void tearDown() {
    sessions.close();
  }

  static ArtifactRef fixture(String name) throws Exception {
    String uri = FIXTURES.resolve(name).toUri().toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }

  @Test
  void anOptimumStyleExportIsFedAnEmptyPastAndProbed() throws Exception {
    ModelInspector.Report report = inspector.inspect(fixture("bytegpt-base-kv.onnx"), fixture("tokenizer.json"), null, null);
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.task()).isEqualTo(Task.CAUSAL_LM);
    assertThat(report.taskGuessed()).isTrue();
    assertThat(report.feeding()).contains("past_key_values.1.value: an empty past [batch, 4, 0, 16] of FLOAT")
        .anyMatch(line -> line.startsWith("probe: 43 tokens scored, perplexity"));
  }

  @Test
  void halfPrecisionLogitsAreSaidToBeCast() throws Exception {
    ModelInspector.Report report = inspector.inspect(fixture("bytegpt-base-fp16.onnx"), null, null, null);
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.feeding()).anyMatch(line -> line.contains("FLOAT16") && line.contains("cast to float32"));
  }

  @Test
  void aModelTheFleetCannotScoreIsRefusedSayingWhy() throws Exception {
    assertThat(inspector.inspect(fixture("nan-logits.onnx"), fixture("tokenizer.json"), null, null).problem())
        .contains("non-finite log-likelihood");
    ModelInspector.Report minilmAsLm = inspector.inspect(TestModelsAccess.fp32(), null, Task.CAUSAL_LM, null);
    assertThat(minilmAsLm.scorable()).isFalse();
    assertThat(minilmAsLm.problem()).contains("has no 'logits' output", "last_hidden_state");
  }

  @Test
  void anEmbeddingModelIsProbedUnderTheConventionsGiven() throws Exception {
    ModelInspector.Report report = inspector.inspect(TestModelsAccess.bge(), TestModelsAccess.bgeTokenizer(), null,
        new EmbeddingConventions(EmbeddingConventions.Pooling.CLS, null, null, null, null));
    assertThat(report.scorable()).as(report.problem()).isTrue();
    assertThat(report.task()).isEqualTo(Task.EMBEDDING);
    assertThat(report.feeding()).anyMatch(line -> line.contains("pooled by cls"))
        .anyMatch(line -> line.startsWith("probe: a 384-dimensional embedding"));
  }
}
