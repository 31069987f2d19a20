package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.task.Direction;

/**
 * The decision on one metric, with the evidence behind it.
 *
 * @param metric the metric's name
 * @param status GREEN, WARN or RED
 * @param gating whether the status counts towards the flag
 * @param direction which change counts as worse
 * @param margin the non-inferiority margin, as a relative change in the bad direction
 * @param baselineValue the baseline's value on all rows
 * @param candidateValue the candidate's value on all rows
 * @param estimate the relative change on all rows, (candidate − baseline)/|baseline|
 * @param interval the percentile bootstrap interval of the relative change
 * @param degraded the test of "worse than the margin" (H0: badness ≤ margin)
 * @param nonInferior the test of "no worse than the margin" (H0: badness ≥ margin)
 * @param sample how many rows (and tokens or bytes) the metric rests on
 * @param band the production band, or null when there were too few snapshots
 * @param sentence the decision in one sentence for a promotion reviewer
 * @param bandSentence what the band says about the candidate, or that there is none
 */
public record MetricDecision(
    String metric,
    Flag status,
    boolean gating,
    Direction direction,
    double margin,
    double baselineValue,
    double candidateValue,
    double estimate,
    Interval interval,
    SignificanceTest degraded,
    SignificanceTest nonInferior,
    SampleSize sample,
    VarianceBand band,
    String sentence,
    String bandSentence) {

  /** Whether the candidate's value lies outside the production band (false without a band). */
  public boolean outsideBand() {
    return band != null && !band.contains(candidateValue);
  }
}
