package io.evalfleet.notifier;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.notifier.delivery.DeliveryException;
import io.evalfleet.notifier.delivery.DeliveryPolicy;
import io.evalfleet.notifier.delivery.ReviewTarget;
import io.evalfleet.notifier.review.Review;
import io.github.resilience4j.retry.Retry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each flag's review and delivers it to every target that takes it, on a bounded pool.
 * Deliveries of one model to one target run one after another, in the order of the flags, so two
 * deliveries never race to create the same comment; a target that is down delays only its own
 * deliveries. A delivery that fails for good (a permanent answer, or the last attempt) is handed to
 * the dead-letter callback with its reason. Thread-safe.
 */
public final class ReviewDeliveries {
  private static final Logger log = LoggerFactory.getLogger(ReviewDeliveries.class);

  /** Where a review that could not be delivered goes, with why. */
  @FunctionalInterface
  public interface DeadLetter {
    void accept(DriftFlag flag, ReviewTarget target, Exception cause);
  }

  private final Function<DriftFlag, Review> reviews;
  private final List<ReviewTarget> targets;
  private final Map<String, Retry> retries = new HashMap<>();
  private final ExecutorService pool;

  /** Per target name, its meters, registered once. */
  private final Map<String, TargetMeters> meters = new HashMap<>();

  private final DeadLetter deadLetter;
  private final AtomicInteger inFlight = new AtomicInteger();

  /** The last delivery of each (target, model), which the next one waits for. */
  private final Map<String, CompletableFuture<Void>> lanes = new HashMap<>();

  /**
   * @param reviews writes a flag's review (normally {@link ReviewPublisher#publish}); must not
   *     throw
   * @param pool runs the deliveries; the caller owns and shuts it down
   */
  public ReviewDeliveries(
      Function<DriftFlag, Review> reviews,
      List<ReviewTarget> targets,
      DeliveryPolicy policy,
      ExecutorService pool,
      MeterRegistry registry,
      DeadLetter deadLetter) {
    this.reviews = reviews;
    this.targets = List.copyOf(targets);
    this.pool = pool;
    this.deadLetter = deadLetter;
    for (ReviewTarget target : targets) {
      TargetMeters counted = new TargetMeters(registry, target.name());
      meters.put(target.name(), counted);
      Retry retry = policy.retry(target.name());
      retry
          .getEventPublisher()
          .onRetry(
              event -> {
                counted.attemptsFailed().increment();
                log.warn(
                    "review delivery to {} failed (attempt {}), trying again in {} ms: {}",
                    target.name(),
                    event.getNumberOfRetryAttempts(),
                    event.getWaitInterval().toMillis(),
                    event.getLastThrowable() == null ? "" : event.getLastThrowable().getMessage());
              });
      retries.put(target.name(), retry);
    }
    FleetMeter.REVIEWS_IN_FLIGHT.gauge(registry, inFlight::get);
  }

  /** Reviews being written or delivered. */
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * Writes the flag's review and delivers it; the future completes (never exceptionally) when every
   * target has it or has dead-lettered it.
   */
  public CompletableFuture<Review> handle(DriftFlag flag) {
    inFlight.incrementAndGet();
    long started = System.nanoTime();
    CompletableFuture<Review> written =
        CompletableFuture.supplyAsync(() -> reviews.apply(flag), pool);
    List<CompletableFuture<Void>> deliveries = new ArrayList<>();
    synchronized (lanes) {
      for (ReviewTarget target : targets) {
        String lane = target.name() + "\u0000" + flag.model();
        CompletableFuture<Void> previous =
            lanes.getOrDefault(lane, CompletableFuture.completedFuture(null));
        CompletableFuture<Void> delivery =
            previous
                .thenCombine(written, (ignored, review) -> review)
                .thenAcceptAsync(review -> deliver(target, review, started), pool)
                .exceptionally(
                    e -> {
                      // The review itself could not be written: nothing to deliver, but it must not
                      // vanish.
                      Throwable cause =
                          e instanceof CompletionException && e.getCause() != null
                              ? e.getCause()
                              : e;
                      log.error(
                          "review of {} {} for {} could not be written: {}",
                          flag.model(),
                          flag.version(),
                          target.name(),
                          cause.toString(),
                          cause);
                      meters.get(target.name()).deadLettered().increment();
                      deadLetter.accept(
                          flag,
                          target,
                          new DeliveryException(
                              "review of "
                                  + flag.model()
                                  + " "
                                  + flag.version()
                                  + " could not be written, so it was not delivered to "
                                  + target.name()
                                  + ": "
                                  + cause,
                              false,
                              null,
                              cause instanceof Exception ex ? ex : null));
                      return null;
                    });
        lanes.put(lane, delivery);
        deliveries.add(delivery);
        delivery.whenComplete(
            (ignored, e) -> {
              synchronized (lanes) {
                lanes.remove(lane, delivery);
              }
            });
      }
    }
    return CompletableFuture.allOf(deliveries.toArray(CompletableFuture[]::new))
        .thenCombine(written, (ignored, review) -> review)
        .whenComplete((review, e) -> inFlight.decrementAndGet());
  }

  private void deliver(ReviewTarget target, Review review, long started) {
    if (!target.accepts(review)) {
      return;
    }
    DriftFlag flag = review.flag();
    try {
      Retry.decorateCheckedRunnable(retries.get(target.name()), () -> target.deliver(review)).run();
      meters.get(target.name()).delivered().increment();
      log.info(
          "review of {} {} ({}) delivered to {}",
          flag.model(),
          flag.version(),
          flag.flag(),
          target.name());
    } catch (Throwable e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      String why =
          e instanceof DeliveryException failure && failure.retryable()
              ? e.getMessage()
                  + " (gave up after "
                  + retries.get(target.name()).getRetryConfig().getMaxAttempts()
                  + " attempts)"
              : e.getMessage() + " (not retried: the failure is permanent)";
      Exception cause =
          new DeliveryException(
              "review of "
                  + flag.model()
                  + " "
                  + flag.version()
                  + " not delivered to "
                  + target.name()
                  + ": "
                  + why,
              false,
              null,
              e);
      log.error("{}; sent to the dead-letter topic", cause.getMessage());
      meters.get(target.name()).deadLettered().increment();
      deadLetter.accept(flag, target, cause);
    } finally {
      meters.get(target.name()).duration().record(Duration.ofNanos(System.nanoTime() - started));
    }
  }

  /** One target's delivery meters. */
  private record TargetMeters(
      Counter attemptsFailed, Counter delivered, Counter deadLettered, Timer duration) {
    TargetMeters(MeterRegistry registry, String target) {
      this(
          FleetMeter.REVIEW_ATTEMPTS_FAILED.counter(registry, target),
          FleetMeter.REVIEW_DELIVERIES.counter(registry, target, "delivered"),
          FleetMeter.REVIEW_DELIVERIES.counter(registry, target, "dead_lettered"),
          FleetMeter.REVIEW_DELIVERY_DURATION.timer(registry, target));
    }
  }
}
