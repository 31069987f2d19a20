package io.evalfleet.scoring;

import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.failure.Classified;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.failure.Failures;

/**
 * A shard that cannot be scored, with the {@link FailureKind} that decides whether it is tried
 * again.
 */
public final class ScoringException extends Exception implements Classified {
  private final FailureKind kind;

  public ScoringException(FailureKind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** The job's inputs are at fault: scoring again cannot help. */
  public static ScoringException input(String message) {
    return new ScoringException(FailureKind.BAD_INPUT, message, null);
  }

  public static ScoringException input(String message, Throwable cause) {
    return new ScoringException(FailureKind.BAD_INPUT, message, cause);
  }

  /**
   * A failure while scoring a job, of the kind {@link Failures#kindOfVerifiedInput} decides from
   * its cause (a job's files were all found by pre-flight); {@code context} says what was being
   * done.
   */
  public static ScoringException of(String context, Throwable cause) {
    FailureKind kind = Failures.kindOfVerifiedInput(cause);
    String detail = cause.getMessage() != null ? cause.getMessage() : cause.toString();
    String message =
        switch (kind) {
          case RESOURCE_EXHAUSTED -> context + ": out of memory: " + detail;
          case BUG -> context + ": " + cause; // the exception's class says what broke
          case UNAVAILABLE ->
              Failures.isMissingFile(cause)
                  ? context
                      + ": storage unavailable: "
                      + detail
                      + " (pre-flight found it: it went away since)"
                  : context + ": " + detail;
          default -> context + ": " + detail;
        };
    return new ScoringException(kind, message, cause);
  }

  /**
   * ONNX Runtime failed while running a model: out of memory (host or CUDA) is named as such and
   * tried again; anything else is the model's fault (its graph does not run on these inputs).
   */
  public static ScoringException fromModel(String context, Throwable cause) {
    if (Failures.isOutOfMemory(cause)) {
      return new ScoringException(
          FailureKind.RESOURCE_EXHAUSTED,
          context + ": out of memory: " + cause.getMessage(),
          cause);
    }
    return input(context + ": " + cause.getMessage(), cause);
  }

  @Override
  public FailureKind kind() {
    return kind;
  }

  ShardError toShardError() {
    return new ShardError(kind, getMessage());
  }
}
