package io.evalfleet.notifier.delivery;

import io.github.resilience4j.core.IntervalBiFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;

/**
 * How often and how long a delivery is retried: up to {@code attempts} in all, on retryable
 * failures only, waiting {@code backoff} doubled each time, or what the target asked for in {@code
 * Retry-After}; never longer than {@code maxWait} between two attempts.
 */
public record DeliveryPolicy(int attempts, Duration backoff, Duration maxWait) {
  public DeliveryPolicy {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1, got " + attempts);
    }
  }

  /** A resilience4j retry of this policy, named after its target. */
  public Retry retry(String target) {
    IntervalBiFunction<Object> wait =
        (attempt, outcome) -> {
          long cap = maxWait.toMillis();
          if (outcome.isLeft()
              && outcome.getLeft() instanceof DeliveryException failure
              && failure.retryAfter() != null) {
            return Math.min(failure.retryAfter().toMillis(), cap);
          }
          long doubled = backoff.toMillis() << Math.min(20, Math.max(0, attempt - 1));
          return Math.min(doubled, cap);
        };
    return Retry.of(
        target,
        RetryConfig.custom()
            .maxAttempts(attempts)
            .intervalBiFunction(wait)
            .retryOnException(e -> e instanceof DeliveryException failure && failure.retryable())
            .build());
  }
}
