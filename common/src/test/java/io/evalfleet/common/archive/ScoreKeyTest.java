package io.evalfleet.common.archive;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.task.Task;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScoreKeyTest {
  static final ArtifactRef MODEL = new ArtifactRef("file:///m/lm.onnx", "b".repeat(64));
  static final SubsetRef SUBSET =
      new SubsetRef("file:///g/text.parquet", "c".repeat(64), null, Map.of());

  static StagedWeightEvent event(String id, Integer stride) {
    return StagedWeightEvent.builder()
        .eventId(id)
        .model("lm")
        .version("v1")
        .task(Task.CAUSAL_LM)
        .artifact(MODEL)
        .goldenSubset(SUBSET)
        .maxSeqLen(128)
        .stride(stride)
        .createdAt(Instant.EPOCH)
        .build();
  }

  @Test
  void theDefaultStrideAndTheSameStrideNamedAreOneEvaluation() {
    assertThat(ScoreKey.of(event("a", null)).digest())
        .isEqualTo(ScoreKey.of(event("b", 64)).digest());
    assertThat(ScoreKey.of(event("a", null)).digest())
        .isNotEqualTo(ScoreKey.of(event("c", 32)).digest());
  }
}
