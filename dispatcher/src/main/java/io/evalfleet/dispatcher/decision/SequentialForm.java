package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.task.MetricNames;
import io.evalfleet.common.task.RetrievalTask;
import java.util.Arrays;
import java.util.Map;

/**
 * A metric's test at a look, linearised into a plain mean over sampling units. For the quantity q
 * the fixed-sample decision tests (the relative change of a metric compared with its baseline, or
 * the value of a metric judged against a limit), each unit i gives a pair (a_i, b_i) with E[b] &gt;
 * 0 such that
 *
 * <pre>
 *   q &gt; θ  ⇔  E[a] − η(θ)·E[b] &gt; 0,   η increasing in θ
 * </pre>
 *
 * so "q is beyond θ" is a one-sided test of the mean of y_i = a_i − η(θ)·b_i against 0. The forms
 * match {@link MetricVector#metrics}:
 *
 * <ul>
 *   <li>perplexity = exp(ΣNLL/Σtokens), pooled over tokens, same tokens in both runs: relative
 *       change q = exp((ΣNLL_c − ΣNLL_b)/Σtokens) − 1, so a = NLL_c − NLL_b, b = tokens, η = ln(1 +
 *       θ);
 *   <li>bits per byte = ΣNLL/(Σbytes·ln 2), same bytes in both runs: q = ΣNLL_c/ΣNLL_b − 1, so a =
 *       NLL_c − NLL_b, b = NLL_b, η = θ;
 *   <li>a mean over rows (mean_cosine, ndcg@10, recall@k, mrr@10 from rr@10; retrieval means over
 *       queries only): q = Σc/Σb − 1 = (c̄ − b̄)/|b̄|, so a = c − b, b = s·b with s the sign of Σb,
 *       η = θ;
 *   <li>a value against a limit, a ratio of sums on the candidate alone (kl_mean = Σkl/Σtokens,
 *       top1_agreement, dp_true_mean; overlap@10 and text_cosine as means over queries): a = the
 *       numerator, b = the denominator (1 per row for a mean), η = θ; index_loss = 1 −
 *       Σindex/Σndcg: a = ndcg − index, b = ndcg.
 * </ul>
 *
 * A unit is one row, or a block of consecutive rows (the values summed over the block); rows a
 * metric does not score (NaN: a retrieval run's docs) are left out, and a unit with none is
 * dropped.
 *
 * @param a per-unit numerator
 * @param b per-unit denominator, positive on average
 * @param logScale whether η = ln(1 + θ) (perplexity) rather than θ
 */
record SequentialForm(double[] a, double[] b, boolean logScale) {

  /** The form, or why a look cannot judge the metric on these rows. */
  record Built(SequentialForm form, String unavailable) {
    static Built of(SequentialForm form) {
      return new Built(form, null);
    }

    static Built not(String why) {
      return new Built(null, why);
    }
  }

  int units() {
    return a.length;
  }

  /** η for θ; NaN where θ has none (a perplexity ratio 1 + θ ≤ 0). */
  double eta(double theta) {
    return logScale ? (theta > -1 ? Math.log1p(theta) : Double.NaN) : theta;
  }

  double theta(double eta) {
    return logScale ? Math.expm1(eta) : eta;
  }

  /** Anytime p-value of "q ≤ θ": small when q is clearly above θ. */
  double pAbove(double theta, double rho2) {
    double eta = eta(theta);
    if (Double.isNaN(eta)) {
      return theta <= -1 ? 0 : 1;
    }
    double[] moments = moments(eta);
    return ConfidenceSequence.pValueAbove(moments[0], moments[1], units(), rho2);
  }

  /** Anytime p-value of "q ≥ θ": small when q is clearly below θ. */
  double pBelow(double theta, double rho2) {
    double eta = eta(theta);
    if (Double.isNaN(eta)) {
      return 1;
    }
    double[] moments = moments(eta);
    return ConfidenceSequence.pValueAbove(-moments[0], moments[1], units(), rho2);
  }

  /** {mean, sample standard deviation} of a − η·b. */
  private double[] moments(double eta) {
    int n = units();
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += a[i] - eta * b[i];
    }
    double mean = sum / n;
    double squares = 0;
    for (int i = 0; i < n; i++) {
      double d = a[i] - eta * b[i] - mean;
      squares += d * d;
    }
    return new double[] {mean, n > 1 ? Math.sqrt(squares / (n - 1)) : Double.NaN};
  }

  /**
   * The confidence sequence for q at this look: the θ for which neither "q &gt; θ" nor "q &lt; θ"
   * is shown with bounds ȳ ∓ k·σ̂(y); null while it is unbounded (the denominator's own mean is not
   * yet bounded away from 0). Solved in η as a quadratic, as Fieller's interval for a ratio.
   */
  double[] interval(double k) {
    int n = units();
    if (n < 2) {
      return null;
    }
    double meanA = 0;
    double meanB = 0;
    for (int i = 0; i < n; i++) {
      meanA += a[i];
      meanB += b[i];
    }
    meanA /= n;
    meanB /= n;
    double vaa = 0;
    double vab = 0;
    double vbb = 0;
    for (int i = 0; i < n; i++) {
      double da = a[i] - meanA;
      double db = b[i] - meanB;
      vaa += da * da;
      vab += da * db;
      vbb += db * db;
    }
    vaa /= n - 1;
    vab /= n - 1;
    vbb /= n - 1;
    double k2 = k * k;
    // (ā − η b̄)² ≤ k²·(vaa − 2η vab + η² vbb)  ⇔  A η² − 2 B η + C ≤ 0
    double quadratic = meanB * meanB - k2 * vbb;
    if (!(quadratic > 0) || !(meanB > 0)) {
      return null;
    }
    double linear = meanA * meanB - k2 * vab;
    double constant = meanA * meanA - k2 * vaa;
    double discriminant = Math.max(0, linear * linear - quadratic * constant);
    double root = Math.sqrt(discriminant);
    double low = (linear - root) / quadratic;
    double high = (linear + root) / quadratic;
    return new double[] {theta(low), theta(high)};
  }

  /**
   * Linearises a metric compared with its baseline (a relative margin).
   *
   * @param baseline the baseline's own columns on the prefix's rows
   * @param candidate the candidate's columns on the same rows
   * @param rowsPerUnit consecutive rows forming one unit
   * @param rows how many rows of the columns to use (whole units)
   */
  static Built margin(
      String metric,
      Map<String, double[]> baseline,
      Map<String, double[]> candidate,
      int rowsPerUnit,
      int rows) {
    switch (metric) {
      case MetricNames.PERPLEXITY -> {
        return sameDenominator(
            baseline,
            candidate,
            MetricNames.TOKENS,
            rowsPerUnit,
            rows,
            true,
            "the runs' token counts differ (another tokenizer)");
      }
      case MetricNames.BITS_PER_BYTE -> {
        return sameDenominator(
            baseline,
            candidate,
            MetricNames.BYTES,
            rowsPerUnit,
            rows,
            false,
            "the runs' byte counts differ (not the same texts)");
      }
      default -> {
        String column = meanColumn(metric);
        if (column == null) {
          return Built.not("no sequential form for a margin on " + metric);
        }
        double[] c = candidate.get(column);
        double[] b = baseline.get(column);
        if (c == null || b == null) {
          return Built.not("column " + column + " is missing");
        }
        return ratio(c, b, rowsPerUnit, rows);
      }
    }
  }

  /**
   * Linearises a metric judged on the candidate's own value against a limit.
   *
   * @param candidate the candidate's columns on the prefix's rows
   */
  static Built limit(String metric, Map<String, double[]> candidate, int rowsPerUnit, int rows) {
    String numerator;
    String denominator;
    switch (metric) {
      case MetricNames.KL_MEAN -> {
        numerator = MetricNames.KL_SUM;
        denominator = MetricNames.TOKENS;
      }
      case MetricNames.TOP1_AGREEMENT -> {
        numerator = MetricNames.TOP1_AGREE;
        denominator = MetricNames.TOKENS;
      }
      case MetricNames.DP_TRUE_MEAN -> {
        numerator = MetricNames.DP_TRUE_SUM;
        denominator = MetricNames.TOKENS;
      }
      case MetricNames.INDEX_LOSS -> {
        double[] ndcg = candidate.get(MetricNames.NDCG_AT_10);
        double[] index = candidate.get(MetricNames.INDEX_NDCG_AT_10);
        if (ndcg == null || index == null) {
          return Built.not("columns ndcg@10 and index_ndcg@10 are needed");
        }
        return units(rowsPerUnit, rows, i -> ndcg[i] - index[i], i -> ndcg[i], ndcg, index);
      }
      default -> {
        String column = meanColumn(metric);
        if (column == null) {
          return Built.not("no sequential form for a limit on " + metric);
        }
        double[] x = candidate.get(column);
        if (x == null) {
          return Built.not("column " + column + " is missing");
        }
        return units(rowsPerUnit, rows, i -> x[i], i -> 1, x);
      }
    }
    double[] num = candidate.get(numerator);
    double[] den = candidate.get(denominator);
    if (num == null || den == null) {
      return Built.not("columns " + numerator + " and " + denominator + " are needed");
    }
    return units(rowsPerUnit, rows, i -> num[i], i -> den[i], num, den);
  }

  /** The column a mean-over-rows metric averages, or null. */
  private static String meanColumn(String metric) {
    return switch (metric) {
      case MetricNames.MEAN_COSINE -> MetricNames.COSINE;
      case MetricNames.MRR_AT_10 -> MetricNames.RR_AT_10;
      case MetricNames.NDCG_AT_10, MetricNames.OVERLAP_AT_10 -> metric;
      case MetricNames.TEXT_COSINE -> MetricNames.COSINE_TO_BASELINE;
      default ->
          RetrievalTask.RECALL_CUTOFFS.stream()
                  .anyMatch(k -> RetrievalTask.recall(k).equals(metric))
              ? metric
              : null;
    };
  }

  /** q = Σc/Σb − 1 (relative change of a mean or of a ratio with a shared denominator). */
  private static Built ratio(double[] c, double[] b, int rowsPerUnit, int rows) {
    double total = 0;
    for (int i = 0; i < rows; i++) {
      if (!Double.isNaN(c[i]) && !Double.isNaN(b[i])) {
        total += b[i];
      }
    }
    if (total == 0) {
      return Built.not("the baseline's value is 0, so its relative change is undefined");
    }
    double sign = Math.signum(total);
    return units(rowsPerUnit, rows, i -> c[i] - b[i], i -> sign * b[i], c, b);
  }

  private static Built sameDenominator(
      Map<String, double[]> baseline,
      Map<String, double[]> candidate,
      String denominator,
      int rowsPerUnit,
      int rows,
      boolean perplexity,
      String differ) {
    double[] nllC = candidate.get(MetricNames.NLL_SUM);
    double[] nllB = baseline.get(MetricNames.NLL_SUM);
    double[] denC = candidate.get(denominator);
    double[] denB = baseline.get(denominator);
    if (nllC == null || nllB == null || denC == null || denB == null) {
      return Built.not("columns " + MetricNames.NLL_SUM + " and " + denominator + " are needed");
    }
    for (int i = 0; i < rows; i++) {
      if (Double.compare(denC[i], denB[i]) != 0) {
        return Built.not(differ);
      }
    }
    if (perplexity) {
      SequentialForm linear =
          units(rowsPerUnit, rows, i -> nllC[i] - nllB[i], i -> denC[i], nllC, nllB, denC).form();
      return Built.of(new SequentialForm(linear.a(), linear.b(), true));
    }
    return ratio(nllC, nllB, rowsPerUnit, rows);
  }

  private interface RowValue {
    double of(int row);
  }

  /**
   * Sums a and b over each unit's rows, skipping rows where any of {@code inputs} is NaN; a unit
   * with no such row is dropped.
   */
  private static Built units(
      int rowsPerUnit, int rows, RowValue a, RowValue b, double[]... inputs) {
    int count = rows / rowsPerUnit;
    double[] sumA = new double[count];
    double[] sumB = new double[count];
    int kept = 0;
    for (int unit = 0; unit < count; unit++) {
      double ua = 0;
      double ub = 0;
      boolean any = false;
      for (int row = unit * rowsPerUnit; row < (unit + 1) * rowsPerUnit; row++) {
        if (scored(row, inputs)) {
          ua += a.of(row);
          ub += b.of(row);
          any = true;
        }
      }
      if (any) {
        sumA[kept] = ua;
        sumB[kept] = ub;
        kept++;
      }
    }
    return Built.of(
        new SequentialForm(Arrays.copyOf(sumA, kept), Arrays.copyOf(sumB, kept), false));
  }

  private static boolean scored(int row, double[]... inputs) {
    for (double[] column : inputs) {
      if (Double.isNaN(column[row])) {
        return false;
      }
    }
    return true;
  }
}
