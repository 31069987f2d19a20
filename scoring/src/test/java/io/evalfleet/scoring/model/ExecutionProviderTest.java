package io.evalfleet.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.storage.Storage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CPU build's behaviour: auto runs on CPU, which is not a fallback (no warning, no fallback
 * counted, so the CUDA-fallback alert stays silent on a CPU-only fleet); cuda is refused at start.
 */
class ExecutionProviderTest {
  @TempDir Path dir;

  static ArtifactRef uniformModel() throws Exception {
    String uri =
        Path.of("..", "fixtures", "causal-lm", "uniform-v256.onnx")
            .toAbsolutePath()
            .normalize()
            .toUri()
            .toString();
    return new ArtifactRef(uri, Storage.withDefaults().sha256(uri));
  }

  @Test
  void autoOnACpuBuildRunsOnCpuWithoutCountingAFallback() throws Exception {
    assumeFalse(
        OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
        "a GPU build is on the classpath");
    try (ModelSessions sessions =
        new ModelSessions(
            new ArtifactCache(Storage.withDefaults(), dir, Long.MAX_VALUE),
            1,
            ExecutionProvider.AUTO)) {
      LoadedModel model = sessions.lease(uniformModel()).model();
      assertThat(model.executionProvider()).isEqualTo("cpu");
      assertThat(model.providerFallback()).isNull();
    }
  }

  @Test
  void cpuIsNotAFallback() throws Exception {
    try (ModelSessions sessions =
        new ModelSessions(
            new ArtifactCache(Storage.withDefaults(), dir, Long.MAX_VALUE),
            1,
            ExecutionProvider.CPU)) {
      LoadedModel model = sessions.lease(uniformModel()).model();
      assertThat(model.executionProvider()).isEqualTo("cpu");
      assertThat(model.providerFallback()).isNull();
    }
  }

  @Test
  void cudaWithoutTheGpuBuildIsRefusedAtStartNamingTheFix() {
    assumeFalse(
        OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA),
        "a GPU build is on the classpath");
    assertThatThrownBy(
            () ->
                new ModelSessions(
                    new ArtifactCache(Storage.withDefaults(), dir, Long.MAX_VALUE),
                    1,
                    ExecutionProvider.CUDA))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no CUDA provider")
        .hasMessageContaining("-Pgpu");
  }

  @Test
  void parsesTheSetting() {
    assertThat(ExecutionProvider.parse(" Auto ")).isEqualTo(ExecutionProvider.AUTO);
    assertThatThrownBy(() -> ExecutionProvider.parse("tpu"))
        .hasMessageContaining("cpu, cuda or auto, got 'tpu'");
  }
}
