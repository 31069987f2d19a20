package io.evalfleet.dispatcher.baseline;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.wire.Golden;
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
    Golden.assertMessage(
        "baseline-record.full.json",
        BaselineRecord.builder()
            .model("minilm")
            .version("abc123")
            .runId("run-1")
            .artifactSha256(SHA_A)
            .subsetSha256("b".repeat(64))
            .tokenizerSha256("c".repeat(64))
            .baseModelSha256("d".repeat(64))
            .modelSignature("input_ids:int64[?,?] -> last_hidden_state:float[?,?,?]")
            .metrics(Map.of("spearman", 0.8301))
            .scores("file:///archive/scores/minilm/abc123")
            .commit("deadbeef")
            .recordedAt(T1)
            .embedding(
                new EmbeddingConventions(
                    EmbeddingConventions.Pooling.CLS,
                    false,
                    "query: ",
                    "passage: ",
                    "sentence_embedding"))
            .artifact(
                new ArtifactRef(
                    "file:///models/m/model.onnx",
                    SHA_A,
                    List.of(new ArtifactRef("file:///models/m/model.onnx.data", "b".repeat(64)))))
            .build(),
        BaselineRecord.class);
    Golden.assertMessage(
        "baseline-record.minimal.json",
        BaselineRecord.builder().model("minilm").version("abc123").build(),
        BaselineRecord.class);
  }
}
