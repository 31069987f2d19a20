package io.evalfleet.dispatcher.baseline;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.task.EmbeddingConventions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The format of {@code evalfleet.baselines} records, held by golden files. */
class BaselineRecordWireTest {
  static final String SHA_A = "a".repeat(64);
  static final Instant T1 = Instant.parse("2026-11-22T10:05:30.250Z");

  @Test
  void baselineRecord() {
    Golden.assertMessage("baseline-record.full.json", new BaselineRecord("minilm", "abc123", "run-1", SHA_A,
        "b".repeat(64), "c".repeat(64), "d".repeat(64), "input_ids:int64[?,?] -> last_hidden_state:float[?,?,?]",
        Map.of("spearman", 0.8301), "file:///archive/scores/minilm/abc123", "deadbeef", T1,
        new EmbeddingConventions(EmbeddingConventions.Pooling.CLS, false, "query: ", "passage: ", "sentence_embedding"),
        new ArtifactRef("file:///models/m/model.onnx", SHA_A,
            List.of(new ArtifactRef("file:///models/m/model.onnx.data", "b".repeat(64))))), BaselineRecord.class);
    Golden.assertMessage("baseline-record.minimal.json", new BaselineRecord("minilm", "abc123", null, null, null, null,
        null, null, null, null, null, null, null, null), BaselineRecord.class);
  }
}
