package io.evalfleet.common.task;

import java.util.Objects;

/**
 * A metric a task's runs produce in their metric vector.
 *
 * @param name the metric's name in flags and policies (see {@link MetricNames})
 * @param direction which change is worse; a policy may not say otherwise
 * @param description how it is computed, for the docs
 */
public record MetricSpec(String name, Direction direction, String description) {
  public MetricSpec {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a name is required");
    }
    Objects.requireNonNull(direction, "direction");
  }
}
