package io.evalfleet.common.task;

import java.util.Objects;

/**
 * A role a task reads from a golden subset. {@code golden_subset.columns} maps the role to a column
 * name; a role left out is read from the column of its own name.
 *
 * @param name the role, e.g. {@code text_a}
 * @param type the column type the role needs
 * @param presence whether the subset must have the column
 * @param description what the role holds, for the docs
 */
public record ColumnRole(String name, ColumnType type, Presence presence, String description) {

  /** Whether a role's column must be in the subset. */
  public enum Presence {
    /** The subset must have the column. */
    REQUIRED,
    /** Read when the subset has it. */
    OPTIONAL,
    /**
     * One of the task's {@code ONE_OF} roles must be present; the first present one, in the task's
     * order, is read and the others are ignored.
     */
    ONE_OF
  }

  public ColumnRole {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a name is required");
    }
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(presence, "presence");
  }
}
