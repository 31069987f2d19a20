package io.evalfleet.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.task.EmbeddingConventions;
import io.evalfleet.common.task.Task;
import io.evalfleet.common.wire.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON of a monitor spec ({@code evalfleet monitor --spec}), held by golden files. */
class MonitorSpecWireTest {
  static final String SHA_A = "a".repeat(64);
  @TempDir Path dir;

  @Test
  void monitorSpec() {
    Golden.assertMessage(
        "monitor-spec.full.json",
        MonitorSpec.builder()
            .model("gpt-small")
            .version("step-900")
            .artifact(new ArtifactRef("file:///models/m/model.onnx", SHA_A))
            .tokenizer(new ArtifactRef("/models/m/tokenizer.json", "c".repeat(64)))
            .embedding(
                new EmbeddingConventions(
                    EmbeddingConventions.Pooling.CLS,
                    false,
                    "query: ",
                    "passage: ",
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
            .build(),
        MonitorSpec.class);
    Golden.assertMessage(
        "monitor-spec.minimal.json",
        MonitorSpec.builder().model("minilm").build(),
        MonitorSpec.class);
  }

  @Test
  void aSpecAsPeopleWriteItReadsAsTheSameValue() throws Exception {
    Path file = dir.resolve("spec.json");
    Files.writeString(
        file,
        """
        {"model": "minilm", "version": "v7",
         "artifact": {"uri": "/models/m.onnx", "sha256": "%s"},
         "tokenizer": {"uri": "/models/tokenizer.json", "sha256": "%s"},
         "traffic": {"uri": "file:///traffic", "text_column": "text", "time_column": "ts"},
         "window": "PT1H", "sample": 200, "reference_start": "2026-11-01T00:00:00Z",
         "reference_end": "2026-11-08T00:00:00Z", "interval": "PT30M", "alpha": 0.01, "permutations": 999, "seed": 7}
        """
            .formatted(SHA_A, "c".repeat(64)));
    assertThat(MonitorSpec.read(file))
        .isEqualTo(
            MonitorSpec.builder()
                .model("minilm")
                .version("v7")
                .artifact(new ArtifactRef("/models/m.onnx", SHA_A))
                .tokenizer(new ArtifactRef("/models/tokenizer.json", "c".repeat(64)))
                .traffic(new MonitorSpec.Traffic("file:///traffic", "text", "ts"))
                .window(Duration.ofHours(1))
                .sample(200)
                .referenceStart(Instant.parse("2026-11-01T00:00:00Z"))
                .referenceEnd(Instant.parse("2026-11-08T00:00:00Z"))
                .interval(Duration.ofMinutes(30))
                .alpha(0.01)
                .permutations(999)
                .seed(7)
                .task(Task.EMBEDDING)
                .build());
  }
}
