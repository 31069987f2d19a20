package io.evalfleet.common.failure;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Why something could not be done, sorted by what to do about it. {@link Failures#kindOf} decides
 * the kind of any exception, in one place; retry policy is set against the kinds.
 */
public enum FailureKind {
  /**
   * The inputs are at fault (missing file, digest mismatch, wrong columns, a model that cannot
   * run): never retried, ends in ERROR.
   */
  @JsonProperty("input")
  BAD_INPUT("bad input", false),
  /**
   * A dependency (storage, the broker) is down or its circuit breaker is open: retried until the
   * run's deadline, then INCOMPLETE.
   */
  @JsonProperty("unavailable")
  UNAVAILABLE("dependency unavailable", true),
  /**
   * Out of memory (host or GPU) or no capacity left: retried a few times, then ERROR naming the
   * resource.
   */
  @JsonProperty("resource_exhausted")
  RESOURCE_EXHAUSTED("resource exhausted", true),
  /** evalfleet itself is wrong: never retried, ends in ERROR naming it as a bug. */
  @JsonProperty("bug")
  BUG("internal error (a bug in evalfleet)", false),
  /**
   * The job stops whoever scores it: after {@code worker.max-deliveries} workers stopped without
   * answering it, it was scored alone in a process of its own, and that process died of it (out of
   * memory, a signal, a native crash) while its worker lived. Not delivered again; ends in ERROR
   * naming the shard and the evidence.
   */
  @JsonProperty("crashed")
  CRASHED("it stopped the workers that took it", false);

  private final String description;
  private final boolean retriable;

  FailureKind(String description, boolean retriable) {
    this.description = description;
    this.retriable = retriable;
  }

  /** How a reason names the kind, e.g. {@code dependency unavailable}. */
  public String description() {
    return description;
  }

  /** Whether trying again, later or elsewhere, may succeed. */
  public boolean retriable() {
    return retriable;
  }
}
