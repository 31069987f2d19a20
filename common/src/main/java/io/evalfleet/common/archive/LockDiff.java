package io.evalfleet.common.archive;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ScoringEnvelope;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * What changed between two evaluation lockfiles: first the inputs of the evaluation (what the
 * scores depend on, and how they were judged), then the metrics. Pure; {@link #render} writes it
 * for people.
 */
public final class LockDiff {
  /** One evaluation input that differs: {@code field: before → after}. */
  public record Change(String field, String before, String after) {}

  /** One metric of either lockfile, with both sides (null where a side lacks it). */
  public record MetricChange(
      String metric, EvaluationLock.LockedMetric before, EvaluationLock.LockedMetric after) {}

  private static final Map<String, Function<EvaluationLock, Object>> INPUTS = new LinkedHashMap<>();

  static {
    INPUTS.put("task", EvaluationLock::task);
    INPUTS.put("artifact.sha256", l -> l.artifact() == null ? null : l.artifact().sha256());
    INPUTS.put(
        "artifact.external_data",
        l ->
            l.artifact() == null
                ? null
                : l.artifact().externalData().stream()
                    .map(d -> d.fileName() + "=" + d.sha256())
                    .toList());
    INPUTS.put("tokenizer_sha256", EvaluationLock::tokenizerSha256);
    INPUTS.put("golden_subset_sha256", EvaluationLock::goldenSubsetSha256);
    INPUTS.put("evaluator_version", EvaluationLock::evaluatorVersion);
    INPUTS.put("onnx_runtime", EvaluationLock::onnxRuntime);
    INPUTS.put("execution_providers", EvaluationLock::executionProviders);
    INPUTS.put("hardware", EvaluationLock::hardware);
    INPUTS.put("requested_hardware_profile", EvaluationLock::requestedHardwareProfile);
    INPUTS.put("envelopes", l -> l.envelopes().stream().map(ScoringEnvelope::describe).toList());
    INPUTS.put("quantization_bits", EvaluationLock::quantizationBits);
    INPUTS.put("max_seq_len", EvaluationLock::maxSeqLen);
    INPUTS.put("stride", EvaluationLock::stride);
    INPUTS.put("embedding", l -> l.embedding() == null ? null : l.embedding().describe());
    INPUTS.put("base_model_sha256", EvaluationLock::baseModelSha256);
    INPUTS.put("model_signature", EvaluationLock::modelSignature);
    INPUTS.put("policy_version", EvaluationLock::policyVersion);
    INPUTS.put("baseline_version", EvaluationLock::baselineVersion);
  }

  private final EvaluationLock before;
  private final EvaluationLock after;

  public LockDiff(EvaluationLock before, EvaluationLock after) {
    this.before = before;
    this.after = after;
  }

  /** The evaluation inputs that differ, in a fixed order. */
  public List<Change> inputChanges() {
    List<Change> changes = new ArrayList<>();
    INPUTS.forEach(
        (field, read) -> {
          Object a = read.apply(before);
          Object b = read.apply(after);
          if (!Objects.equals(a, b)) {
            changes.add(new Change(field, text(a), text(b)));
          }
        });
    return changes;
  }

  /** Every metric of either side, by name. */
  public List<MetricChange> metrics() {
    List<MetricChange> metrics = new ArrayList<>();
    for (String name : new TreeSet<>(union(before.metrics().keySet(), after.metrics().keySet()))) {
      metrics.add(new MetricChange(name, before.metrics().get(name), after.metrics().get(name)));
    }
    return metrics;
  }

  /**
   * Whether the scores of the two evaluations were computed the same way (they compare row by row).
   */
  public boolean sameScoringInputs() {
    return inputChanges().stream()
        .allMatch(
            c ->
                c.field().equals("policy_version")
                    || c.field().equals("baseline_version")
                    || c.field().equals("artifact.sha256")
                    || c.field().equals("artifact.external_data")
                    || c.field().equals("quantization_bits")
                    || c.field().equals("requested_hardware_profile"));
  }

  public String render() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "%s %s (%s, %s)  →  %s %s (%s, %s)%n",
            before.model(),
            before.version(),
            before.flag(),
            before.decidedAt(),
            after.model(),
            after.version(),
            after.flag(),
            after.decidedAt()));
    List<Change> changes = inputChanges();
    out.append(
        changes.isEmpty() ? "evaluation inputs: identical\n" : "evaluation inputs that differ:\n");
    for (Change change : changes) {
      out.append("  ")
          .append(change.field())
          .append(": ")
          .append(change.before())
          .append(" → ")
          .append(change.after())
          .append('\n');
    }
    out.append("metrics:\n");
    for (MetricChange metric : metrics()) {
      out.append(
          String.format(
              Locale.ROOT,
              "  %-14s %s → %s%s%n",
              metric.metric(),
              value(metric.before()),
              value(metric.after()),
              relative(metric.before(), metric.after())));
      out.append(
          String.format(
              Locale.ROOT,
              "  %-14s   %s | %s%n",
              "",
              judged(metric.before()),
              judged(metric.after())));
    }
    List<String> differing =
        changes.stream().map(Change::field).filter(f -> !f.equals("baseline_version")).toList();
    out.append(
        differing.isEmpty()
            ? "same evaluation inputs: the scores are comparable row by row\n"
            : differing.size()
                + " input"
                + (differing.size() == 1 ? "" : "s")
                + " differ: "
                + String.join(", ", differing)
                + (sameScoringInputs()
                    ? " (the rows were scored the same way: compare them row by row)"
                    : "")
                + "\n");
    return out.toString();
  }

  private static String value(EvaluationLock.LockedMetric m) {
    return m == null ? "(absent)" : String.format(Locale.ROOT, "%.4f", m.value());
  }

  private static String relative(EvaluationLock.LockedMetric a, EvaluationLock.LockedMetric b) {
    if (a == null || b == null || a.value() == 0) {
      return "";
    }
    return String.format(
        Locale.ROOT, "  (%+.2f%%)", 100 * (b.value() - a.value()) / Math.abs(a.value()));
  }

  private static String judged(EvaluationLock.LockedMetric m) {
    if (m == null) {
      return "-";
    }
    Flag status = m.status();
    if (m.ciLow() == null) {
      return status == null ? "not compared" : status.name();
    }
    return String.format(
        Locale.ROOT,
        "%s, %+.2f%% vs its baseline [%+.2f%%, %+.2f%%] at %.1f%%",
        status == null ? "not gating" : status,
        100 * m.relativeChange(),
        100 * m.ciLow(),
        100 * m.ciHigh(),
        100 * m.ciConfidence());
  }

  private static String text(Object value) {
    return value == null ? "(none)" : value.toString();
  }

  private static <T> List<T> union(Collection<T> a, Collection<T> b) {
    List<T> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
