package io.evalfleet.common.task;

import io.evalfleet.common.subset.GoldenSubsetFile;
import io.evalfleet.common.subset.SubsetSchemaException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Everything evalfleet knows about one kind of evaluation, in one place: the event fields it needs,
 * the golden-subset columns it reads with their types, the per-row values a worker returns, the
 * metrics a run produces with their directions, its defaults and its validation. The event and job
 * contracts, the dispatcher's pre-flight, the worker's router and the run's metric vector all read
 * it, so a rule is written once.
 *
 * <p>Adding a task: a subclass here, a constant in {@link Task}, a scorer in the worker (registered
 * by task in its router), and the metric formulas in the dispatcher's {@code MetricVector}, with
 * their tests. Immutable.
 */
public abstract class TaskSpec {
  /** Event field names that tasks may require. */
  public static final String MAX_SEQ_LEN = "max_seq_len";

  public static final String STRIDE = "stride";
  public static final String TOKENIZER = "tokenizer";
  public static final String EMBEDDING = "embedding";

  private final String name;
  private final String description;
  private final List<String> requiredFields;
  private final List<String> optionalFields;
  private final List<ColumnRole> columns;
  private final List<String> rowValues;
  private final List<MetricSpec> metrics;

  protected TaskSpec(
      String name,
      String description,
      List<String> requiredFields,
      List<String> optionalFields,
      List<ColumnRole> columns,
      List<String> rowValues,
      List<MetricSpec> metrics) {
    this.name = name;
    this.description = description;
    this.requiredFields = List.copyOf(requiredFields);
    this.optionalFields = List.copyOf(optionalFields);
    this.columns = List.copyOf(columns);
    this.rowValues = List.copyOf(rowValues);
    this.metrics = List.copyOf(metrics);
  }

  /** The task's name on the wire, e.g. {@code causal-lm}. */
  public final String name() {
    return name;
  }

  public final String description() {
    return description;
  }

  /** The event fields every event of this task must carry (e.g. {@code max_seq_len}). */
  public final List<String> requiredFields() {
    return requiredFields;
  }

  /**
   * Task-specific event fields the task accepts but does not need (e.g. {@code embedding}); others
   * are refused.
   */
  public final List<String> optionalFields() {
    return optionalFields;
  }

  /** The golden-subset roles the task reads, in order of preference for {@code ONE_OF} roles. */
  public final List<ColumnRole> columns() {
    return columns;
  }

  /**
   * The per-row values a worker always returns for a job of this task (a job's {@code metrics}).
   */
  public final List<String> rowValues() {
    return rowValues;
  }

  /** The metrics a run of this task can produce, with which way is worse. */
  public final List<MetricSpec> metrics() {
    return metrics;
  }

  /**
   * The per-row values that compare a run with its baseline (measured on both models at once), as
   * opposed to values of the run alone; none by default.
   */
  public List<String> comparisonValues() {
    return List.of();
  }

  /** The per-row number reviewers compare between versions (see {@link RowScore}). */
  public abstract RowScore rowScore();

  public final Optional<MetricSpec> metric(String metric) {
    return metrics.stream().filter(m -> m.name().equals(metric)).findFirst();
  }

  /** A field of an event or job that breaks a rule of this task. */
  public record Problem(String field, String message) {}

  /** The event-level parameters of a run, as an event or a job carries them. */
  public record Parameters(
      Integer maxSeqLen, Integer stride, boolean hasTokenizer, boolean hasEmbeddingConventions) {
    boolean has(String field) {
      return switch (field) {
        case MAX_SEQ_LEN -> maxSeqLen != null;
        case STRIDE -> stride != null;
        case TOKENIZER -> hasTokenizer;
        case EMBEDDING -> hasEmbeddingConventions;
        default -> throw new IllegalStateException("unknown event field " + field);
      };
    }
  }

  /**
   * The event-level parameters of a run of this task, checked without reading any file. Empty when
   * they are fine. Both the staged event and the scoring job are checked with this.
   */
  public final List<Problem> checkParameters(Parameters parameters) {
    List<Problem> problems = new ArrayList<>();
    for (String field : requiredFields) {
      if (!parameters.has(field)) {
        problems.add(new Problem(field, "is required for task " + name + requirementReason(field)));
      }
    }
    // Task-specific options given to a task that has no use for them would be silently ignored.
    if (parameters.has(EMBEDDING)
        && !requiredFields.contains(EMBEDDING)
        && !optionalFields.contains(EMBEDDING)) {
      problems.add(
          new Problem(
              EMBEDDING,
              "applies to the tasks that embed text (embedding, retrieval), not to task " + name));
    }
    if (problems.isEmpty()) {
      problems.addAll(checkValues(parameters.maxSeqLen(), parameters.stride()));
    }
    return problems;
  }

  /** Why the task needs {@code field}, as a clause that follows "is required for task x". */
  protected String requirementReason(String field) {
    return "";
  }

  /** Rules on the values of the parameters, once the required ones are present. */
  protected List<Problem> checkValues(Integer maxSeqLen, Integer stride) {
    return List.of();
  }

  /**
   * The sliding-window stride a run uses: the event's, or the task's default. Null for tasks that
   * do not window their rows.
   */
  public Integer stride(Integer maxSeqLen, Integer stride) {
    return null;
  }

  /**
   * Finds and type-checks the task's columns in a golden subset.
   *
   * @param columnOf maps a role to its column name (the subset reference's mapping)
   * @param hasTokenizer whether the event names the model's tokenizer
   * @throws SubsetSchemaException naming the file, the role and the column, when a required column
   *     is missing or a present one has the wrong type, or when the columns found need something
   *     the event lacks
   */
  public final SubsetLayout layout(
      GoldenSubsetFile file, UnaryOperator<String> columnOf, boolean hasTokenizer)
      throws SubsetSchemaException {
    Map<String, String> present = new LinkedHashMap<>();
    List<ColumnRole> alternatives = new ArrayList<>();
    boolean alternativeFound = false;
    for (ColumnRole role : columns) {
      String column = columnOf.apply(role.name());
      switch (role.presence()) {
        case REQUIRED -> {
          role.type().check(file, role.name(), column);
          present.put(role.name(), column);
        }
        case OPTIONAL -> {
          if (file.hasColumn(column)) {
            role.type().check(file, role.name(), column);
            present.put(role.name(), column);
          }
        }
        case ONE_OF -> {
          alternatives.add(role);
          if (!alternativeFound && file.hasColumn(column)) {
            role.type().check(file, role.name(), column);
            present.put(role.name(), column);
            alternativeFound = true;
          }
        }
      }
    }
    if (!alternatives.isEmpty() && !alternativeFound) {
      throw new SubsetSchemaException(
          "golden subset "
              + file.uri()
              + " has none of the columns task "
              + name
              + " reads its rows from: "
              + String.join(
                  " or ",
                  alternatives.stream()
                      .map(r -> "'" + columnOf.apply(r.name()) + "' (" + r.name() + ")")
                      .toList()));
    }
    SubsetLayout layout = new SubsetLayout(file.uri(), present);
    checkLayout(layout, hasTokenizer);
    return layout;
  }

  /** Rules that depend on which columns the subset has; the default has none. */
  protected void checkLayout(SubsetLayout layout, boolean hasTokenizer)
      throws SubsetSchemaException {}

  @Override
  public final String toString() {
    return name;
  }
}
