package io.evalfleet.common.failure;

import java.io.IOException;

/**
 * A dependency that cannot be reached now: retries ran out or its circuit breaker is open. The
 * message names the dependency; trying again later may succeed.
 */
public class UnavailableException extends IOException implements Classified {
  private final String dependency;

  public UnavailableException(String dependency, String message, Throwable cause) {
    super(dependency + " unavailable: " + message, cause);
    this.dependency = dependency;
  }

  /** The dependency, e.g. {@code storage}. */
  public String dependency() {
    return dependency;
  }

  @Override
  public final FailureKind kind() {
    return FailureKind.UNAVAILABLE;
  }
}
