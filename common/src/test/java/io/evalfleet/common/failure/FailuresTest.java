package io.evalfleet.common.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.storage.DigestMismatchException;
import io.evalfleet.common.subset.SubsetSchemaException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.util.stream.Stream;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FailuresTest {
  static Stream<Arguments> failures() {
    CircuitBreaker open = CircuitBreaker.ofDefaults("storage");
    open.transitionToOpenState();
    return Stream.of(
        Arguments.of(new FileNotFoundException("no such file: file:///x"), FailureKind.BAD_INPUT),
        Arguments.of(new DigestMismatchException("file:///x", "a", "b"), FailureKind.BAD_INPUT),
        Arguments.of(new SubsetSchemaException("no column 'gold'"), FailureKind.BAD_INPUT),
        Arguments.of(new ContractViolation("max_seq_len", "is required"), FailureKind.BAD_INPUT),
        Arguments.of(new ConnectException("Connection refused"), FailureKind.UNAVAILABLE),
        Arguments.of(new IOException("namenode down"), FailureKind.UNAVAILABLE),
        Arguments.of(
            new UnavailableException("storage", "breaker open", null), FailureKind.UNAVAILABLE),
        Arguments.of(
            CallNotPermittedException.createCallNotPermittedException(open),
            FailureKind.UNAVAILABLE),
        Arguments.of(new TimeoutException("metadata not available"), FailureKind.UNAVAILABLE),
        Arguments.of(
            new UncheckedIOException(new ConnectException("refused")), FailureKind.UNAVAILABLE),
        Arguments.of(new OutOfMemoryError("Java heap space"), FailureKind.RESOURCE_EXHAUSTED),
        Arguments.of(
            new RuntimeException(
                "Error code - ORT_RUNTIME_EXCEPTION - message: CUDA failure 2: out of memory"),
            FailureKind.RESOURCE_EXHAUSTED),
        Arguments.of(
            new RuntimeException(
                "Failed to allocate memory for requested buffer of size 1073741824"),
            FailureKind.RESOURCE_EXHAUSTED),
        Arguments.of(new NullPointerException("model"), FailureKind.BUG),
        Arguments.of(new IllegalStateException("scored 3 of 4 tokens"), FailureKind.BUG),
        Arguments.of(
            new IllegalStateException("wrapped", new FileNotFoundException("x")),
            FailureKind.BAD_INPUT));
  }

  @ParameterizedTest(name = "{0} is {1}")
  @MethodSource("failures")
  void eachFailureHasOneKind(Throwable failure, FailureKind kind) {
    assertThat(Failures.kindOf(failure)).isEqualTo(kind);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void aJobsVerifiedInputThatIsMissingNowIsAnUnavailableStore(Throwable failure, FailureKind kind) {
    FailureKind expected =
        failure instanceof FileNotFoundException
                || failure.getCause() instanceof FileNotFoundException
            ? FailureKind.UNAVAILABLE
            : kind;
    assertThat(Failures.kindOfVerifiedInput(failure)).isEqualTo(expected);
  }
}
