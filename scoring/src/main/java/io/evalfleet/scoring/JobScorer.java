package io.evalfleet.scoring;

import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;

/** Scores one job; always answers, with per-row values or a typed error. Must be thread-safe. */
public interface JobScorer {
  ShardResult score(ScoringJob job);
}
