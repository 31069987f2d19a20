package io.evalfleet.notifier.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewMarkdown;
import java.net.http.HttpRequest;
import java.util.function.IntFunction;

/**
 * What GitHub and GitLab targets share: the comment body within the service's limit, and finding
 * the marked one.
 */
final class StickyComments {
  /** GitHub refuses comments over 65,536 characters; GitLab notes allow more. */
  static final int MAX_CHARS = 65_000;

  private StickyComments() {}

  /** The comment, cut before its folded sections when it is too long for the service. */
  static String body(Review review) {
    String markdown = review.markdown();
    if (markdown.length() <= MAX_CHARS) {
      return markdown;
    }
    int cut = markdown.lastIndexOf("<details>", MAX_CHARS - 500);
    String kept = markdown.substring(0, cut > 0 ? cut : MAX_CHARS - 500);
    return kept + "\n\n… the rest is in the [full report](" + review.reportLink() + ").\n";
  }

  /** How many comments a page holds when the target asks for the most it may. */
  static final int PAGE = 100;

  /**
   * The id of the comment carrying the model's marker, read page by page ({@code page(n)} is the
   * request for page {@code n}, {@link #PAGE} comments each) until it is found or a page is not
   * full; null when there is none.
   */
  static String find(Http http, String target, IntFunction<HttpRequest> page, String model)
      throws DeliveryException, InterruptedException {
    for (int n = 1; ; n++) {
      JsonNode comments = http.sendJson(target, page.apply(n));
      String id = markedId(comments, model);
      if (id != null || comments.size() < PAGE) {
        return id;
      }
    }
  }

  /**
   * The id of the element of {@code page} (a JSON array of comments) whose body carries the model's
   * marker, or null.
   */
  static String markedId(JsonNode page, String model) {
    String marker = ReviewMarkdown.marker(model);
    for (JsonNode comment : page) {
      if (comment.path("body").asText("").contains(marker)) {
        return comment.path("id").asText();
      }
    }
    return null;
  }
}
