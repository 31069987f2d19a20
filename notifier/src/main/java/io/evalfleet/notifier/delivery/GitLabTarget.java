package io.evalfleet.notifier.delivery;

import io.evalfleet.common.contract.ReviewRef;
import io.evalfleet.notifier.review.Review;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The review as one note per model on a GitLab merge request, through the REST API (v4): the note
 * carrying the model's hidden marker is edited in place, and created only when there is none.
 * GitLab cannot edit a comment on a commit, so reviews that name only a commit are refused (name
 * the merge request). Thread-safe.
 */
public final class GitLabTarget implements ReviewTarget {
  private final URI api;
  private final String token;
  private final Http http = new Http();

  /**
   * @param api e.g. {@code https://gitlab.com/api/v4}
   */
  public GitLabTarget(URI api, String token) {
    this.api = URI.create(api.toString().endsWith("/") ? api.toString() : api + "/");
    this.token = token;
  }

  @Override
  public String name() {
    return "gitlab";
  }

  @Override
  public boolean accepts(Review review) {
    return review.flag().review() != null
        && review.flag().review().provider() == ReviewRef.Provider.GITLAB;
  }

  @Override
  public void deliver(Review review) throws DeliveryException, InterruptedException {
    ReviewRef where = review.flag().review();
    if (where.pullRequest() == null) {
      throw DeliveryException.permanent(
          name()
              + ": review "
              + where.describe()
              + " names a commit; GitLab cannot"
              + " update a commit comment in place, so name the merge request");
    }
    String notes =
        "projects/"
            + URLEncoder.encode(where.repository(), StandardCharsets.UTF_8)
            + "/merge_requests/"
            + where.pullRequest()
            + "/notes";
    String existing =
        StickyComments.find(
            http,
            name(),
            page ->
                request(notes + "?per_page=" + StickyComments.PAGE + "&page=" + page + "&sort=asc")
                    .GET()
                    .build(),
            review.flag().model());
    Map<String, String> body = Map.of("body", StickyComments.body(review));
    if (existing != null) {
      http.send(name(), request(notes + "/" + existing).PUT(Http.json(body)).build());
    } else {
      http.send(name(), request(notes).POST(Http.json(body)).build());
    }
  }

  private HttpRequest.Builder request(String path) {
    return Http.request(URI.create(api + path))
        .header("PRIVATE-TOKEN", token)
        .header("Content-Type", "application/json");
  }
}
