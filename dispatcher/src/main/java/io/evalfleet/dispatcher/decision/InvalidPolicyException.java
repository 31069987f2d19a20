package io.evalfleet.dispatcher.decision;

import java.util.List;

/**
 * A decision policy that cannot be used; {@link #problems()} lists every problem found, not just
 * the first.
 */
public final class InvalidPolicyException extends IllegalArgumentException {
  private final List<String> problems;

  public InvalidPolicyException(String source, List<String> problems) {
    super(source + " is invalid: " + String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
