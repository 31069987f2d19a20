package io.evalfleet.notifier.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.notifier.review.Review;
import io.evalfleet.notifier.review.ReviewMarkdown;

/** What GitHub and GitLab targets share: the comment body within the service's limit, and finding the marked one. */
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

  /** The id of the element of {@code page} (a JSON array of comments) whose body carries the model's marker, or null. */
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
