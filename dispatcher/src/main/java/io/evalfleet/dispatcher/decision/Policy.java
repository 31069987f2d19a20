package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ChangeKind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The decision policy: how sure a verdict must be, how the bootstrap runs, and how each metric is
 * judged. Kept as code in {@code policy/evalfleet-policy.json}; read with {@link PolicyFile}.
 *
 * @param policyVersion names this policy in every report it decides
 * @param familyConfidence 1 − α for the family of gating metrics, in (0, 1)
 * @param bootstrapResamples resamples per comparison, at least {@value #MIN_RESAMPLES}
 * @param seed seed of the resampling, so that a report can be reproduced bit for bit
 * @param correction multiple-comparison correction across the gating metrics
 * @param bandK half-width of the production band in sample standard deviations, > 0
 * @param bandMinSnapshots fewest production snapshots that make a band, at least 2 (σ needs two)
 * @param bandWindow how many of the latest snapshots the band uses, at least {@code
 *     bandMinSnapshots}
 * @param metrics how each metric is judged, by metric name; at least one
 * @param sequential whether and how a run may stop early on a completed prefix of its rows; null:
 *     {@link SequentialSettings#DISABLED}
 * @param noiseFloor what a comparison across scoring envelopes does with a measured noise floor;
 *     null: {@link NoiseFloorPolicy#DEFAULTS}
 * @param changes model defaults of the change kind, and when the token shift is measured; null for
 *     {@link ChangePolicy#DEFAULT}
 * @throws InvalidPolicyException listing every bad value
 */
public record Policy(
    String policyVersion,
    double familyConfidence,
    int bootstrapResamples,
    long seed,
    Correction correction,
    double bandK,
    int bandMinSnapshots,
    int bandWindow,
    Map<String, MetricPolicy> metrics,
    SequentialSettings sequential,
    NoiseFloorPolicy noiseFloor,
    ChangePolicy changes) {

  /** Fewer resamples leave the tail quantiles of a 97.5% interval to a handful of draws. */
  public static final int MIN_RESAMPLES = 200;

  public Policy {
    List<String> problems = new ArrayList<>();
    if (policyVersion == null || policyVersion.isBlank()) {
      problems.add("policy_version must be a non-blank string, was " + quoted(policyVersion));
    }
    problems.addAll(
        settingProblems(familyConfidence, bootstrapResamples, bandK, bandMinSnapshots, bandWindow));
    if (correction == null) {
      problems.add("correction is missing");
    }
    if (metrics == null || metrics.isEmpty()) {
      problems.add("metrics must name at least one metric");
    }
    if (sequential == null) {
      sequential = SequentialSettings.DISABLED;
    }
    if (metrics != null) {
      for (String name : sequential.metrics().keySet()) {
        if (!metrics.containsKey(name)) {
          problems.add(
              "sequential switch for metric '" + name + "', which the policy does not name");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidPolicyException("policy " + policyVersion, problems);
    }
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    noiseFloor = noiseFloor == null ? NoiseFloorPolicy.DEFAULTS : noiseFloor;
    changes = changes == null ? ChangePolicy.DEFAULT : changes;
  }

  /**
   * Those of {@code names} the policy gates for a change of {@code kind}, in the policy's order.
   */
  public List<String> gating(Collection<String> names, ChangeKind kind) {
    return metrics.entrySet().stream()
        .filter(e -> names.contains(e.getKey()) && e.getValue().gates(kind))
        .map(Map.Entry::getKey)
        .toList();
  }

  /** A policy without early stopping, with the default noise-floor and change-kind sections. */
  public Policy(
      String policyVersion,
      double familyConfidence,
      int bootstrapResamples,
      long seed,
      Correction correction,
      double bandK,
      int bandMinSnapshots,
      int bandWindow,
      Map<String, MetricPolicy> metrics) {
    this(
        policyVersion,
        familyConfidence,
        bootstrapResamples,
        seed,
        correction,
        bandK,
        bandMinSnapshots,
        bandWindow,
        metrics,
        SequentialSettings.DISABLED);
  }

  /** A policy with the default noise-floor and change-kind sections. */
  public Policy(
      String policyVersion,
      double familyConfidence,
      int bootstrapResamples,
      long seed,
      Correction correction,
      double bandK,
      int bandMinSnapshots,
      int bandWindow,
      Map<String, MetricPolicy> metrics,
      SequentialSettings sequential) {
    this(
        policyVersion,
        familyConfidence,
        bootstrapResamples,
        seed,
        correction,
        bandK,
        bandMinSnapshots,
        bandWindow,
        metrics,
        sequential,
        null,
        null);
  }

  /** α the looks of a sequential decision spend: α·{@code alpha_share}. */
  public double lookAlpha() {
    return alpha() * sequential.alphaShare();
  }

  /**
   * The policy of the fixed-sample decision of a run that was looked at and not stopped: the same,
   * with the α the looks did not spend, 1 − α·(1 − alpha_share) family confidence; this policy
   * itself when the looks are off or spend all of α.
   */
  public Policy afterLooks() {
    if (!sequential.enabled() || sequential.alphaShare() == 1) {
      return this;
    }
    return copy(1 - alpha() * (1 - sequential.alphaShare()), sequential, noiseFloor, changes);
  }

  /** This policy with other early-stopping settings. */
  public Policy withSequential(SequentialSettings settings) {
    return copy(familyConfidence, settings, noiseFloor, changes);
  }

  /** This policy with another {@code noise_floor} section. */
  public Policy withNoiseFloor(NoiseFloorPolicy floor) {
    return copy(familyConfidence, sequential, floor, changes);
  }

  /** This policy with other settings of change kinds and the token shift. */
  public Policy withChanges(ChangePolicy changes) {
    return copy(familyConfidence, sequential, noiseFloor, changes);
  }

  private Policy copy(
      double confidence,
      SequentialSettings sequential,
      NoiseFloorPolicy noiseFloor,
      ChangePolicy changes) {
    return new Policy(
        policyVersion,
        confidence,
        bootstrapResamples,
        seed,
        correction,
        bandK,
        bandMinSnapshots,
        bandWindow,
        metrics,
        sequential,
        noiseFloor,
        changes);
  }

  /** α for the family of gating metrics. */
  public double alpha() {
    return 1 - familyConfidence;
  }

  /**
   * Every problem with the numeric settings, each naming its field and value; null values are
   * skipped (the caller reports them as missing).
   */
  static List<String> settingProblems(
      Double familyConfidence,
      Integer bootstrapResamples,
      Double bandK,
      Integer bandMinSnapshots,
      Integer bandWindow) {
    List<String> problems = new ArrayList<>();
    if (familyConfidence != null && !(familyConfidence > 0 && familyConfidence < 1)) {
      problems.add(format("family_confidence must be in (0, 1), was %s", familyConfidence));
    }
    if (bootstrapResamples != null && bootstrapResamples < MIN_RESAMPLES) {
      problems.add(
          format(
              "bootstrap_resamples must be at least %d, was %d",
              MIN_RESAMPLES, bootstrapResamples));
    }
    if (bandK != null && !(bandK > 0 && Double.isFinite(bandK))) {
      problems.add(format("band_k must be a finite number > 0, was %s", bandK));
    }
    if (bandMinSnapshots != null && bandMinSnapshots < 2) {
      problems.add(
          format(
              "band_min_snapshots must be at least 2 (a standard deviation needs two), was %d",
              bandMinSnapshots));
    }
    if (bandWindow != null && bandMinSnapshots != null && bandWindow < bandMinSnapshots) {
      problems.add(
          format(
              "band_window must be at least band_min_snapshots (%d), was %d",
              bandMinSnapshots, bandWindow));
    }
    return problems;
  }

  private static String quoted(String value) {
    return value == null ? "missing" : "'" + value + "'";
  }

  private static String format(String pattern, Object... args) {
    return String.format(Locale.ROOT, pattern, args);
  }
}
