package io.evalfleet.common.task;

import java.util.Map;
import java.util.Optional;

/**
 * The columns one golden subset gives a task, checked for type: which roles are present and the
 * column each is read from.
 *
 * @param columns the present roles' column names, by role
 */
public record SubsetLayout(String uri, Map<String, String> columns) {
  public SubsetLayout {
    columns = Map.copyOf(columns);
  }

  public boolean has(String role) {
    return columns.containsKey(role);
  }

  /** The column a present role is read from. */
  public String column(String role) {
    String column = columns.get(role);
    if (column == null) {
      throw new IllegalArgumentException(
          "role '" + role + "' is not present in golden subset " + uri);
    }
    return column;
  }

  public Optional<String> optionalColumn(String role) {
    return Optional.ofNullable(columns.get(role));
  }
}
