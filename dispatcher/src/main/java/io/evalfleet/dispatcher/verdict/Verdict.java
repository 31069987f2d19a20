package io.evalfleet.dispatcher.verdict;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.MetricNames;
import io.evalfleet.common.contract.MetricValue;
import io.evalfleet.dispatcher.baseline.BaselineRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compares a run's metric vector with its baseline by relative change per metric: a change in the
 * metric's bad direction of at least {@code warnAt} warns, of at least {@code redAt} is red. The
 * flag is the worst metric's status.
 */
public final class Verdict {
  private final double warnAt;
  private final double redAt;

  public Verdict(double warnAt, double redAt) {
    this.warnAt = warnAt;
    this.redAt = redAt;
  }

  public record Outcome(Flag flag, Map<String, MetricValue> metrics, List<String> reasons) {}

  /** The verdict without a baseline: WARN, since nothing could be compared. */
  public Outcome withoutBaseline(MetricVector vector, String why) {
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    vector.metrics().forEach((name, value) -> metrics.put(name, new MetricValue(value, vector.rows(),
        MetricVector.direction(name).wireName(), null, null, null, warnAt, redAt, null)));
    return new Outcome(Flag.WARN, metrics, List.of(why));
  }

  public Outcome compare(MetricVector vector, BaselineRecord baseline) {
    Map<String, MetricValue> metrics = new LinkedHashMap<>();
    List<String> reasons = new ArrayList<>();
    Flag flag = Flag.GREEN;
    for (var entry : vector.metrics().entrySet()) {
      String name = entry.getKey();
      double value = entry.getValue();
      Direction direction = MetricVector.direction(name);
      Double base = baseline.metrics().get(name);
      if (base == null) {
        metrics.put(name, new MetricValue(value, vector.rows(), direction.wireName(), null, null, null, warnAt, redAt, null));
        reasons.add(name + " has no baseline value in version " + baseline.version() + "; not compared");
        flag = worst(flag, Flag.WARN);
        continue;
      }
      double delta = value - base;
      double relative = base == 0 ? (delta == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, delta)) : delta / Math.abs(base);
      double badness = direction.badness(relative);
      Flag status = badness >= redAt ? Flag.RED : badness >= warnAt ? Flag.WARN : Flag.GREEN;
      flag = worst(flag, status);
      metrics.put(name, new MetricValue(value, vector.rows(), direction.wireName(), base, delta, relative, warnAt, redAt, status));
      reasons.add(String.format(Locale.ROOT, "%s %s: %.4f vs baseline %.4f (%+.2f%%; %s from %.1f%%, RED from %.1f%%%s)",
          name, status, value, base, 100 * relative, "WARN", 100 * warnAt, 100 * redAt,
          direction == Direction.TWO_SIDED ? ", either direction" : " worse"));
    }
    pairedShift(vector, baseline).ifPresent(reasons::add);
    return new Outcome(flag, metrics, reasons);
  }

  /** Evidence, not a rule: how far the per-pair cosines moved, row by row, against the baseline. */
  private static java.util.Optional<String> pairedShift(MetricVector vector, BaselineRecord baseline) {
    double[] now = vector.rowValues().get(MetricNames.COSINE);
    double[] then = baseline.rowValues() == null ? null : baseline.rowValues().get(MetricNames.COSINE);
    if (now == null || then == null || now.length != then.length || now.length == 0) {
      return java.util.Optional.empty();
    }
    double sum = 0;
    double max = 0;
    int worstRow = 0;
    for (int i = 0; i < now.length; i++) {
      double shift = Math.abs(now[i] - then[i]);
      sum += shift;
      if (shift > max) {
        max = shift;
        worstRow = i;
      }
    }
    return java.util.Optional.of(String.format(Locale.ROOT,
        "per-pair cosine moved by %.4f on average vs baseline (largest %.4f, row %d)", sum / now.length, max, worstRow));
  }

  static Flag worst(Flag a, Flag b) {
    return a.ordinal() >= b.ordinal() ? a : b;
  }
}
