package io.evalfleet.notifier.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewMarkdown;
import io.evalfleet.notifier.testing.FakeReviewServer;
import io.evalfleet.notifier.testing.Flags;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StickyCommentTargetsTest {
  private FakeReviewServer server;

  @BeforeEach
  void start() throws Exception {
    server = new FakeReviewServer("t0ken");
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static Review review(String model, String version, ReviewRef where) {
    var flag = Flags.flag(model, version, Flag.GREEN, where);
    return new Review(
        flag, ReviewMarkdown.marker(model) + "\nreview of " + version, "file:/r", "file:/r");
  }

  @Test
  void gitHubKeepsOneCommentPerModelOnAPullRequestAndUpdatesItInPlace() throws Exception {
    ReviewRef pr = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 7, null);
    GitHubTarget github = new GitHubTarget(server.github(), "t0ken");
    github.deliver(review("m", "v1", pr));
    github.deliver(review("m", "v1", pr));
    github.deliver(review("m", "v2", pr));
    github.deliver(review("other", "v1", pr));
    assertThat(server.comments("github acme/models#7")).hasSize(2);
    assertThat(server.commentsContaining("github acme/models#7", ReviewMarkdown.marker("m")))
        .singleElement()
        .satisfies(c -> assertThat(c.body()).endsWith("review of v2"));
  }

  @Test
  void gitHubFindsItsCommentBeyondTheFirstPage() throws Exception {
    ReviewRef pr = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 8, null);
    GitHubTarget github = new GitHubTarget(server.github(), "t0ken");
    for (int i = 0; i < 150; i++) {
      server.seed("github acme/models#8", "a human comment " + i);
    }
    github.deliver(review("m", "v1", pr));
    for (int i = 0; i < 60; i++) {
      server.seed("github acme/models#8", "a later comment " + i);
    }
    github.deliver(review("m", "v2", pr));
    assertThat(server.commentsContaining("github acme/models#8", ReviewMarkdown.marker("m")))
        .singleElement()
        .satisfies(c -> assertThat(c.body()).endsWith("review of v2"));
    assertThat(server.comments("github acme/models#8")).hasSize(211);
  }

  @Test
  void gitHubCommentsOnACommitWhenThereIsNoPullRequest() throws Exception {
    ReviewRef commit = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", null, "abc1234");
    GitHubTarget github = new GitHubTarget(server.github(), "t0ken");
    github.deliver(review("m", "v1", commit));
    github.deliver(review("m", "v2", commit));
    assertThat(server.comments("github acme/models@abc1234"))
        .singleElement()
        .satisfies(c -> assertThat(c.body()).endsWith("review of v2"));
  }

  @Test
  void aRejectedTokenIsAPermanentFailureNamingTheAnswer() {
    ReviewRef pr = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 7, null);
    GitHubTarget github = new GitHubTarget(server.github(), "wrong");
    assertThatThrownBy(() -> github.deliver(review("m", "v1", pr)))
        .isInstanceOfSatisfying(
            DeliveryException.class,
            e -> {
              assertThat(e.retryable()).isFalse();
              assertThat(e.getMessage()).contains("github", "401", "Bad credentials");
            });
  }

  @Test
  void serverErrorsAndRateLimitsAreRetryableWithTheWaitAskedFor() {
    ReviewRef pr = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 7, null);
    GitHubTarget github = new GitHubTarget(server.github(), "t0ken");
    server.failNext(1, 429, "7");
    assertThatThrownBy(() -> github.deliver(review("m", "v1", pr)))
        .isInstanceOfSatisfying(
            DeliveryException.class,
            e -> {
              assertThat(e.retryable()).isTrue();
              assertThat(e.retryAfter()).hasSeconds(7);
            });
    server.failNext(1, 502, (String) null);
    assertThatThrownBy(() -> github.deliver(review("m", "v1", pr)))
        .isInstanceOfSatisfying(DeliveryException.class, e -> assertThat(e.retryable()).isTrue());
  }

  @Test
  void gitHubsSpentRateLimitIsRetryableAfterItsResetAndAPlainForbiddenIsNot() {
    ReviewRef pr = new ReviewRef(ReviewRef.Provider.GITHUB, "acme/models", 7, null);
    GitHubTarget github = new GitHubTarget(server.github(), "t0ken");
    long reset = java.time.Instant.now().getEpochSecond() + 30;
    server.failNext(
        1, 403, Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset", Long.toString(reset)));
    assertThatThrownBy(() -> github.deliver(review("m", "v1", pr)))
        .isInstanceOfSatisfying(
            DeliveryException.class,
            e -> {
              assertThat(e.retryable()).isTrue();
              assertThat(e.retryAfter())
                  .isBetween(java.time.Duration.ofSeconds(25), java.time.Duration.ofSeconds(31));
            });
    server.failNext(1, 403, Map.of("x-ratelimit-remaining", "4999"));
    assertThatThrownBy(() -> github.deliver(review("m", "v1", pr)))
        .isInstanceOfSatisfying(DeliveryException.class, e -> assertThat(e.retryable()).isFalse());
  }

  @Test
  void gitLabKeepsOneNotePerModelOnAMergeRequest() throws Exception {
    ReviewRef mr = new ReviewRef(ReviewRef.Provider.GITLAB, "group/sub/project", 3, null);
    GitLabTarget gitlab = new GitLabTarget(server.gitlab(), "t0ken");
    assertThat(gitlab.accepts(review("m", "v1", mr))).isTrue();
    assertThat(new GitHubTarget(server.github(), "t0ken").accepts(review("m", "v1", mr))).isFalse();
    gitlab.deliver(review("m", "v1", mr));
    gitlab.deliver(review("m", "v2", mr));
    assertThat(server.comments("gitlab group/sub/project#3"))
        .singleElement()
        .satisfies(c -> assertThat(c.body()).endsWith("review of v2"));
    assertThat(server.received("/gitlab/projects/group%2Fsub%2Fproject/")).isNotEmpty();
  }

  @Test
  void gitLabRefusesACommitReviewSayingWhy() {
    ReviewRef commit = new ReviewRef(ReviewRef.Provider.GITLAB, "group/project", null, "abc1234");
    assertThatThrownBy(
            () -> new GitLabTarget(server.gitlab(), "t0ken").deliver(review("m", "v1", commit)))
        .isInstanceOfSatisfying(
            DeliveryException.class,
            e -> {
              assertThat(e.retryable()).isFalse();
              assertThat(e.getMessage()).contains("merge request");
            });
  }
}
