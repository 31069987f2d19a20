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
    Golden.assertMessage("monitor-spec.full.json", MonitorSpec.builder()
        .model("gpt-small")
        .version("step-900")
        .artifact(new ArtifactRef("file:///models/m/model.onnx", SHA_A))
        .tokenizer(new ArtifactRef("/models/m/tokenizer.json", "c".repeat(64)))
        .embedding(new EmbeddingConventions(EmbeddingConventions.Pooling.CLS, false, "query: ", "passage: ",
            "sentence_embedding"))
        .traffic(new MonitorSpec.Traffic("file:///traffic", "text", "ts"))
        .window(Duration.ofHours(1))
        .sample(200)
        .referenceStart(Instant.parse("2026-11-01T00:00:00Z"))
        .referenceEnd(Instant.parse("2026-11-08T00:00:00Z"))
        .interval(Duration.ofMinutes(30))
        .cron("0 * * * *")
        .alpha(0.01)
        .permutations(999)
        .seed(7L)
        .retrainCadence(Duration.ofDays(7))
        .retrainSince(Instant.parse("2026-10-01T00:00:00Z"))
        .subset("sts-traffic")
        .task(Task.CAUSAL_LM)
        .maxSeqLen(512)
        .shadow(new ArtifactRef("/models/candidate/model.onnx", "d".repeat(64)))
        .build(), MonitorSpec.class);
    Golden.assertMessage("monitor-spec.minimal.json", MonitorSpec.builder()
        .model("minilm")
        .sample(0)
        .alpha(0)
        .permutations(0)
        .seed(0)
        .build(), MonitorSpec.class);
  }
}
