package io.evalfleet.notifier.delivery;

import io.evalfleet.notifier.review.Review;

/**
 * Somewhere a review is delivered to. Implementations are thread-safe, and a delivery is
 * idempotent: delivering the same review again leaves the target as one delivery would (one
 * comment, updated).
 */
public interface ReviewTarget {
  /**
   * A short, fixed name for logs, dead letters and the {@code target} tag of the notifier's meters.
   */
  String name();

  /**
   * Whether this target takes this review (a GitHub target only reviews that name a GitHub pull
   * request).
   */
  boolean accepts(Review review);

  /** Delivers the review once; the caller retries a retryable failure. */
  void deliver(Review review) throws DeliveryException, InterruptedException;
}
