package io.evalfleet.common.contract;

import io.evalfleet.common.failure.Classified;
import io.evalfleet.common.failure.FailureKind;

/**
 * A message or setting that breaks its contract. {@link #field()} names the offending field as a
 * dotted JSON path (for example {@code artifact.sha256}) so that the producer can fix it.
 */
public final class ContractViolation extends IllegalArgumentException implements Classified {
  private final String field;
  private final String problem;

  public ContractViolation(String field, String problem) {
    super(field == null || field.isEmpty() ? problem : "field '" + field + "': " + problem);
    this.field = field == null ? "" : field;
    this.problem = problem;
  }

  @Override
  public FailureKind kind() {
    return FailureKind.BAD_INPUT;
  }

  /** The dotted path of the offending field, or empty when the whole message is at fault. */
  public String field() {
    return field;
  }

  /** What is wrong, without the field name. */
  public String problem() {
    return problem;
  }

  /**
   * The same violation, located under {@code parent} (used when a nested record rejects a value).
   */
  ContractViolation under(String parent) {
    if (parent == null || parent.isEmpty()) {
      return this;
    }
    return new ContractViolation(field.isEmpty() ? parent : parent + "." + field, problem);
  }
}
