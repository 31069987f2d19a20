package io.evalfleet.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.UnavailableException;
import java.io.FileNotFoundException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

class ScoringExceptionTest {
  @Test
  void aModelThatRunsOutOfMemoryIsNamedAsSuchAndRetriableWhileOtherModelFailuresAreItsFault() {
    ScoringException cudaOom =
        ScoringException.fromModel(
            "ONNX Runtime failed on the causal LM",
            new RuntimeException(
                "[ErrorCode:RuntimeException] CUDA failure 2: out of memory ; GPU=0"));
    assertThat(cudaOom.kind()).isEqualTo(FailureKind.RESOURCE_EXHAUSTED);
    assertThat(cudaOom.getMessage()).contains("out of memory", "CUDA failure 2");
    assertThat(cudaOom.kind().retriable()).isTrue();

    ScoringException badGraph =
        ScoringException.fromModel(
            "ONNX Runtime failed on the causal LM",
            new RuntimeException(
                "[ErrorCode:InvalidArgument] Got invalid dimensions for input: input_ids"));
    assertThat(badGraph.kind()).isEqualTo(FailureKind.BAD_INPUT);
  }

  @Test
  void aFailureTakesItsKindFromItsCause() {
    assertThat(
            ScoringException.of(
                    "reading golden subset x",
                    new UnavailableException("storage", "refused", new ConnectException("refused")))
                .kind())
        .isEqualTo(FailureKind.UNAVAILABLE);
    ScoringException vanished =
        ScoringException.of(
            "reading golden subset x", new FileNotFoundException("no such file: x"));
    assertThat(vanished.kind())
        .as("pre-flight found every file a job names: one missing now went away since")
        .isEqualTo(FailureKind.UNAVAILABLE);
    assertThat(vanished.getMessage()).contains("storage unavailable", "no such file: x");
    assertThat(
            ScoringException.of(
                    "reading model x",
                    new io.evalfleet.common.storage.DigestMismatchException("x", "a", "b"))
                .kind())
        .as("a file that changed since pre-flight is not trusted")
        .isEqualTo(FailureKind.BAD_INPUT);
    ScoringException bug =
        ScoringException.of("scoring run-1/00000 failed", new NullPointerException("model"));
    assertThat(bug.kind()).isEqualTo(FailureKind.BUG);
    assertThat(bug.getMessage()).contains("NullPointerException").contains("model");
    assertThat(bug.toShardError().kind()).isEqualTo(FailureKind.BUG);
  }
}
