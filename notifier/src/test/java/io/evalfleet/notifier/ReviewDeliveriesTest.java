package io.evalfleet.notifier;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.common.metrics.FleetMeter;
import io.evalfleet.notifier.delivery.DeliveryPolicy;
import io.evalfleet.notifier.delivery.GitHubTarget;
import io.evalfleet.notifier.delivery.ReviewTarget;
import io.evalfleet.notifier.delivery.WebhookTarget;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewMarkdown;
import io.evalfleet.notifier.testing.FakeReviewServer;
import io.evalfleet.notifier.testing.Flags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReviewDeliveriesTest {
  private record DeadLettered(DriftFlag flag, String target, String why) {}

  private static final ReviewRef PR =
      new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 7, null);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<DeadLettered> deadLetters = new CopyOnWriteArrayList<>();
  private FakeReviewServer server;
  private ExecutorService pool;

  @BeforeEach
  void start() throws Exception {
    server = new FakeReviewServer("t0ken");
    pool = Executors.newFixedThreadPool(4);
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
    server.close();
  }

  private ReviewDeliveries deliveries(List<ReviewTarget> targets, int attempts) {
    return new ReviewDeliveries(
        flag ->
            new Review(
                flag,
                ReviewMarkdown.marker(flag.model()) + "\n" + flag.version(),
                "file:/r",
                "file:/r"),
        targets,
        new DeliveryPolicy(attempts, Duration.ofMillis(50), Duration.ofSeconds(5)),
        pool,
        registry,
        (flag, target, cause) ->
            deadLetters.add(new DeadLettered(flag, target.name(), cause.getMessage())));
  }

  private double delivered(String target, String outcome) {
    var counter =
        registry
            .find(FleetMeter.REVIEW_DELIVERIES.meterName())
            .tags("target", target, "outcome", outcome)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void serverErrorsAreRetriedAndARetryAfterIsHonoured() throws Exception {
    server.failNext(2, 502, (String) null);
    server.failNext(1, 429, "1");
    ReviewDeliveries deliveries =
        deliveries(List.of(new GitHubTarget(server.github(), "t0ken")), 6);
    deliveries.handle(Flags.flag("m", "v1", Flag.GREEN, PR)).get(30, TimeUnit.SECONDS);
    assertThat(server.comments("github acme/models#7")).hasSize(1);
    assertThat(deadLetters).isEmpty();
    assertThat(delivered("github", "delivered")).isEqualTo(1);
    var requests = server.received("/github");
    // 3 failed attempts (each a first GET), then GET + POST
    assertThat(requests).hasSize(5);
    long waitedAfter429 = requests.get(3).atNanos() - requests.get(2).atNanos();
    assertThat(waitedAfter429)
        .as("the wait after the 429 that asked for 1 s")
        .isGreaterThanOrEqualTo(950_000_000L);
  }

  @Test
  void aTargetThatStaysDownEndsInADeadLetterWithTheReasonAndDoesNotHoldTheOthers()
      throws Exception {
    server.failAlways("/hook", 503);
    ReviewDeliveries deliveries =
        deliveries(
            List.of(
                new WebhookTarget(server.webhook(), "s"),
                new GitHubTarget(server.github(), "t0ken")),
            4);
    var first = deliveries.handle(Flags.flag("m", "v1", Flag.GREEN, PR));
    var second = deliveries.handle(Flags.flag("m", "v2", Flag.RED, PR));
    first.get(30, TimeUnit.SECONDS);
    second.get(30, TimeUnit.SECONDS);
    assertThat(server.received("/hook")).hasSize(8);
    assertThat(deadLetters)
        .hasSize(2)
        .allSatisfy(
            d -> {
              assertThat(d.target()).isEqualTo("webhook");
              assertThat(d.why()).contains("503", "gave up after 4 attempts");
            });
    assertThat(delivered("webhook", "dead_lettered")).isEqualTo(2);
    assertThat(delivered("github", "delivered")).isEqualTo(2);
    assertThat(server.comments("github acme/models#7"))
        .singleElement()
        .satisfies(c -> assertThat(c.body()).endsWith("v2"));
  }

  @Test
  void aReviewThatCannotBeWrittenIsDeadLetteredNotDropped() throws Exception {
    ReviewDeliveries deliveries =
        new ReviewDeliveries(
            flag -> {
              throw new IllegalStateException("archive on fire");
            },
            List.of(new GitHubTarget(server.github(), "t0ken")),
            new DeliveryPolicy(3, Duration.ofMillis(10), Duration.ofSeconds(1)),
            pool,
            registry,
            (flag, target, cause) ->
                deadLetters.add(new DeadLettered(flag, target.name(), cause.getMessage())));
    deliveries
        .handle(Flags.flag("m", "v1", Flag.GREEN, PR))
        .handle((r, e) -> null)
        .get(30, TimeUnit.SECONDS);
    assertThat(deadLetters)
        .singleElement()
        .satisfies(d -> assertThat(d.why()).contains("could not be written", "archive on fire"));
    assertThat(deliveries.inFlight()).isZero();
  }

  @Test
  void aPermanentAnswerIsNotRetried() throws Exception {
    ReviewDeliveries deliveries =
        deliveries(List.of(new GitHubTarget(server.github(), "not-the-token")), 6);
    deliveries.handle(Flags.flag("m", "v1", Flag.GREEN, PR)).get(30, TimeUnit.SECONDS);
    assertThat(server.received("/github")).hasSize(1);
    assertThat(deadLetters)
        .singleElement()
        .satisfies(d -> assertThat(d.why()).contains("401", "not retried"));
  }

  @Test
  void deliveriesOfOneModelToOneTargetKeepTheOrderOfTheFlags() throws Exception {
    server.failNext(3, 502, (String) null);
    ReviewDeliveries deliveries =
        deliveries(List.of(new GitHubTarget(server.github(), "t0ken")), 6);
    var futures = new java.util.ArrayList<java.util.concurrent.CompletableFuture<Review>>();
    for (int v = 1; v <= 5; v++) {
      futures.add(deliveries.handle(Flags.flag("m", "v" + v, Flag.GREEN, PR)));
    }
    for (var f : futures) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertThat(server.comments("github acme/models#7"))
        .singleElement()
        .satisfies(c -> assertThat(c.body()).endsWith("v5"));
    assertThat(deliveries.inFlight()).isZero();
  }
}
