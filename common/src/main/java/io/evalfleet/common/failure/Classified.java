package io.evalfleet.common.failure;

/** An exception that knows its {@link FailureKind}; {@link Failures#kindOf} takes its word. */
public interface Classified {
  FailureKind kind();
}
