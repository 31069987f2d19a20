package io.evalfleet.notifier.delivery;

import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.notifier.review.Review;
import java.net.URI;
import java.net.http.HttpRequest;
import java.util.Map;

/**
 * The review as one comment per model on a GitHub pull request (or commit), through the REST API:
 * the comment carrying the model's hidden marker is updated in place, and created only when there
 * is none. Works against GitHub Enterprise with its API URL. Thread-safe.
 */
public final class GitHubTarget implements ReviewTarget {
  private final URI api;
  private final String token;
  private final Http http = new Http();

  /**
   * @param api e.g. {@code https://api.github.com}
   */
  public GitHubTarget(URI api, String token) {
    this.api = URI.create(api.toString().endsWith("/") ? api.toString() : api + "/");
    this.token = token;
  }

  @Override
  public String name() {
    return "github";
  }

  @Override
  public boolean accepts(Review review) {
    return review.flag().review() != null
        && review.flag().review().provider() == ReviewRef.Provider.GITHUB;
  }

  @Override
  public void deliver(Review review) throws DeliveryException, InterruptedException {
    ReviewRef where = review.flag().review();
    String repo = "repos/" + where.repository() + "/";
    String list =
        where.pullRequest() != null
            ? repo + "issues/" + where.pullRequest() + "/comments"
            : repo + "commits/" + where.commit() + "/comments";
    String existing =
        StickyComments.find(
            http,
            name(),
            page ->
                request(list + "?per_page=" + StickyComments.PAGE + "&page=" + page).GET().build(),
            review.flag().model());
    Map<String, String> body = Map.of("body", StickyComments.body(review));
    if (existing != null) {
      http.send(
          name(),
          request(
                  repo
                      + (where.pullRequest() != null ? "issues/comments/" : "comments/")
                      + existing)
              .method("PATCH", Http.json(body))
              .build());
    } else {
      http.send(name(), request(list).POST(Http.json(body)).build());
    }
  }

  private HttpRequest.Builder request(String path) {
    return Http.request(api.resolve(path))
        .header("Authorization", "Bearer " + token)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .header("Content-Type", "application/json");
  }
}
