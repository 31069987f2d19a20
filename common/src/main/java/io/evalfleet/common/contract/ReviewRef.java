package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where the review of a staged version lives: a pull request (GitHub) or merge request (GitLab), or
 * a commit. The notifier keeps one comment per model there, updated in place.
 *
 * @param provider {@code github} or {@code gitlab}
 * @param repository {@code owner/name} (GitLab: the project's full path, groups included)
 * @param pullRequest the pull or merge request number; absent for a comment on a commit
 * @param commit the commit to comment on when there is no pull request
 * @throws ContractViolation naming the field, for a bad value or when neither {@code pull_request}
 *     nor {@code commit} is given
 */
public record ReviewRef(Provider provider, String repository, Integer pullRequest, String commit) {
  private static final Pattern REPOSITORY = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+");
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{7,64}");

  /** The code-review services the notifier speaks to. */
  public enum Provider {
    @JsonProperty("github")
    GITHUB,
    @JsonProperty("gitlab")
    GITLAB
  }

  public ReviewRef {
    Checks.required(provider, "review.provider");
    Checks.requiredText(repository, "review.repository");
    if (!REPOSITORY.matcher(repository).matches()) {
      throw new ContractViolation(
          "review.repository", "must be owner/name, got \"" + repository + "\"");
    }
    if (pullRequest == null && commit == null) {
      throw new ContractViolation("review", "needs pull_request or commit");
    }
    Checks.optionalPositive(pullRequest, "review.pull_request");
    if (commit != null && !COMMIT.matcher(commit).matches()) {
      throw new ContractViolation(
          "review.commit", "must be a hex commit sha, got \"" + commit + "\"");
    }
  }

  /**
   * Where the comment goes, in words: {@code github owner/name#12} or {@code gitlab
   * group/p@abc123}.
   */
  public String describe() {
    return provider.name().toLowerCase(Locale.ROOT)
        + " "
        + repository
        + (pullRequest != null ? "#" + pullRequest : "@" + commit);
  }
}
