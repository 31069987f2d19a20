package io.evalfleet.monitor;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The JSON of a monitor spec ({@code evalfleet monitor --spec}), held by golden files. */
class MonitorSpecWireTest {
  static final String SHA_A = "a".repeat(64);

  @Test
  void monitorSpec() {
    Golden.assertMessage("monitor-spec.full.json", new MonitorSpec("gpt-small", "step-900",
        new ArtifactRef("file:///models/m/model.onnx", SHA_A), new ArtifactRef("/models/m/tokenizer.json", "c".repeat(64)),
        new EmbeddingConventions(EmbeddingConventions.Pooling.CLS, false, "query: ", "passage: ", "sentence_embedding"),
        new MonitorSpec.Traffic("file:///traffic", "text", "ts"), Duration.ofHours(1), 200,
        Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-11-08T00:00:00Z"), Duration.ofMinutes(30),
        "0 * * * *", 0.01, 999, 7L, Duration.ofDays(7), Instant.parse("2026-10-01T00:00:00Z"), "sts-traffic",
        Task.CAUSAL_LM, 512, new ArtifactRef("/models/candidate/model.onnx", "d".repeat(64))), MonitorSpec.class);
    Golden.assertMessage("monitor-spec.minimal.json", new MonitorSpec("minilm", null, null, null, null, null, null, 0,
        null, null, null, null, 0, 0, 0, null, null, null, null, null, null), MonitorSpec.class);
  }
}
