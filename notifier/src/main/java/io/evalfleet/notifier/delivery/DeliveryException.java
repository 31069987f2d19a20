package io.evalfleet.notifier.delivery;

import java.time.Duration;

/**
 * A delivery that did not go through. Retryable when trying again may help (a 5xx answer, 429, a
 * refused or timed-out connection); {@code retryAfter} is the wait the server asked for, if any.
 */
public final class DeliveryException extends Exception {
  private final boolean retryable;
  private final Duration retryAfter;

  public DeliveryException(
      String message, boolean retryable, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
    this.retryAfter = retryAfter;
  }

  public static DeliveryException permanent(String message) {
    return new DeliveryException(message, false, null, null);
  }

  public boolean retryable() {
    return retryable;
  }

  /** The wait the server asked for ({@code Retry-After}); null when it asked for none. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
