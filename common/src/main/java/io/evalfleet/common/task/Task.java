package io.evalfleet.common.task;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Optional;

/** What kind of model a staged artifact is; its {@link TaskSpec} says how it is scored. */
public enum Task {
  @JsonProperty("embedding")
  EMBEDDING(new EmbeddingTask()),
  @JsonProperty("causal-lm")
  CAUSAL_LM(new CausalLmTask()),
  @JsonProperty("retrieval")
  RETRIEVAL(new RetrievalTask());

  private final TaskSpec spec;

  Task(TaskSpec spec) {
    this.spec = spec;
  }

  public TaskSpec spec() {
    return spec;
  }

  public String wireName() {
    return spec.name();
  }

  /**
   * Whether the task embeds text with a sentence-embedding model's conventions (pooling, prefixes).
   */
  public boolean usesEmbeddingConventions() {
    return spec.optionalFields().contains(TaskSpec.EMBEDDING);
  }

  /** The definition of {@code metric} in whichever task produces it. */
  public static Optional<MetricSpec> metricSpec(String metric) {
    for (Task task : values()) {
      Optional<MetricSpec> spec = task.spec.metric(metric);
      if (spec.isPresent()) {
        return spec;
      }
    }
    return Optional.empty();
  }

  /**
   * Whether a per-row value compares a run with the baseline it was measured against (a token
   * shift's KL): such a value is judged on its own, never paired with the same value of the
   * baseline's own run, which was measured against another version.
   */
  public static boolean isComparisonValue(String value) {
    for (Task task : values()) {
      if (task.spec.comparisonValues().contains(value)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The direction of {@code metric} by its task's definition; two-sided for a metric no task
   * defines.
   */
  public static Direction direction(String metric) {
    return metricSpec(metric).map(MetricSpec::direction).orElse(Direction.TWO_SIDED);
  }
}
