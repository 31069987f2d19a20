package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.task.Direction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileTest {
  /** Surefire runs in the module directory; the repository's policy lives one level up. */
  private static final Path REPOSITORY_POLICY = Path.of("..", "policy", "evalfleet-policy.json");

  private static final Path CLASSPATH_COPY =
      Path.of("src", "main", "resources", PolicyFile.DEFAULT_RESOURCE);

  @TempDir Path dir;

  @Test
  void classpathDefaultIsAnExactCopyOfTheRepositoryPolicy() throws IOException {
    assertThat(Files.readString(CLASSPATH_COPY)).isEqualTo(Files.readString(REPOSITORY_POLICY));
    assertThat(PolicyFile.defaults()).isEqualTo(PolicyFile.load(REPOSITORY_POLICY));
  }

  @Test
  void defaultPolicyReadsEveryField() {
    Policy policy = PolicyFile.defaults();
    assertThat(policy.familyConfidence()).isEqualTo(0.95);
    assertThat(policy.bootstrapResamples()).isEqualTo(2000);
    assertThat(policy.seed()).isEqualTo(7);
    assertThat(policy.correction()).isEqualTo(Correction.HOLM);
    assertThat(policy.bandK()).isEqualTo(3.0);
    assertThat(policy.bandMinSnapshots()).isEqualTo(3);
    assertThat(policy.bandWindow()).isEqualTo(10);
    assertThat(policy.metrics())
        .containsKeys("spearman", "mean_cosine", "perplexity", "bits_per_byte");
    assertThat(policy.metrics().get("perplexity"))
        .isEqualTo(new MetricPolicy(Direction.LOWER_IS_BETTER, 0.02, true));
    assertThat(policy.metrics().get("mean_cosine").gate()).isFalse();
  }

  @Test
  void badPolicyFileNamesEveryProblemAndTheFile() throws IOException {
    Path file = dir.resolve("bad-policy.json");
    Files.writeString(
        file,
        """
        {
          "policy_version": "bad",
          "family_confidence": 1.5,
          "bootstrap_resamples": 2000,
          "seed": 7,
          "correction": "holm",
          "band_k": 3.0,
          "band_min_snapshots": 3,
          "band_window": 10,
          "tolerance": 0.1,
          "metrics": {
            "spearman": { "direction": "sideways", "margin": 0.02, "gate": true },
            "perplexity": { "direction": "lower_is_better", "margin": -0.01, "gate": true, "weight": 2 }
          }
        }
        """);
    assertThatThrownBy(() -> PolicyFile.load(file))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e ->
                assertThat(e.problems())
                    .containsExactlyInAnyOrder(
                        "unknown field 'tolerance'",
                        "unknown field 'metrics.perplexity.weight'",
                        "family_confidence must be in (0, 1), was 1.5",
                        "unknown metrics.spearman.direction 'sideways' (one of higher_is_better, lower_is_better, two_sided)",
                        "metrics.perplexity.margin must be a finite number >= 0, was -0.01"))
        .hasMessageStartingWith("policy file " + file + " is invalid: ");
  }

  @Test
  void missingFieldsAndUnknownCorrectionAreListed() throws IOException {
    Path file = dir.resolve("thin-policy.json");
    Files.writeString(
        file,
        """
        { "policy_version": "thin", "correction": "sidak", "metrics": { "spearman": { "direction": "higher_is_better" } } }
        """);
    assertThatThrownBy(() -> PolicyFile.load(file))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e ->
                assertThat(e.problems())
                    .contains(
                        "family_confidence is missing",
                        "bootstrap_resamples is missing",
                        "seed is missing",
                        "unknown correction 'sidak' (one of holm, bonferroni, none)",
                        "metrics.spearman.margin is missing (or a limit, for a metric judged on its own value)",
                        "metrics.spearman.gate is missing"));
  }

  @Test
  void policyRecordRejectsBadValuesShowingEach() {
    Map<String, MetricPolicy> metrics =
        Map.of("spearman", new MetricPolicy(Direction.HIGHER_IS_BETTER, 0.02, true));
    assertThatThrownBy(() -> new Policy("v", 1.5, 100, 1, Correction.HOLM, 0, 1, 0, metrics))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessageContaining("family_confidence must be in (0, 1), was 1.5")
        .hasMessageContaining("bootstrap_resamples must be at least 200, was 100")
        .hasMessageContaining("band_k must be a finite number > 0, was 0.0")
        .hasMessageContaining("band_min_snapshots must be at least 2")
        .hasMessageContaining("band_window must be at least band_min_snapshots (1), was 0");
    assertThatThrownBy(() -> new MetricPolicy(Direction.TWO_SIDED, -0.5, true))
        .hasMessageContaining("margin must be a finite number >= 0, was -0.5");
  }

  @Test
  void aMetricHasAMarginOrALimitNotBoth() throws IOException {
    Path file = dir.resolve("limits.json");
    Files.writeString(
        file,
        """
        {
          "policy_version": "limits", "family_confidence": 0.95, "bootstrap_resamples": 2000, "seed": 7,
          "correction": "holm", "band_k": 3.0, "band_min_snapshots": 3, "band_window": 10,
          "metrics": {
            "kl_mean": { "limit": 0.05, "margin": 0.02, "gate": true },
            "mean_cosine": { "limit": 0.9, "gate": true },
            "top1_agreement": { "limit": "NaN", "gate": true }
          }
        }
        """);
    assertThatThrownBy(() -> PolicyFile.load(file))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e ->
                assertThat(e.problems())
                    .contains(
                        "metrics.kl_mean has both a margin and a limit: a metric is compared with its baseline (margin) or judged"
                            + " on its own value (limit), not both",
                        "metrics.mean_cosine.limit needs a direction (higher_is_better or lower_is_better), not two_sided",
                        "metrics.top1_agreement.limit must be a finite number, was NaN"));
  }

  @Test
  void theDefaultPolicyJudgesTheTokenShiftAgainstLimits() {
    Policy policy = PolicyFile.defaults();
    assertThat(policy.metrics().get("kl_mean"))
        .isEqualTo(
            MetricPolicy.limited(Direction.LOWER_IS_BETTER, 0.05, true)
                .gatingFor(
                    EnumSet.of(ChangeKind.QUANTIZATION, ChangeKind.EXPORT, ChangeKind.RUNTIME)));
    assertThat(policy.metrics().get("top1_agreement").beyondLimit(0.85))
        .isCloseTo(0.05, within(1e-12));
    assertThat(policy.metrics().get("perplexity").hasLimit()).isFalse();
  }

  @Test
  void theDefaultPolicyStopsEarlyOnMeansOfRowsOnly() {
    SequentialSettings sequential = PolicyFile.defaults().sequential();
    assertThat(sequential.enabled()).isTrue();
    assertThat(sequential.minRows()).isEqualTo(100);
    assertThat(sequential.tuningRows()).isEqualTo(1000);
    assertThat(sequential.alphaShare()).isEqualTo(0.5);
    // The looks spend half of α, the fixed decision of a run they did not stop the other half.
    assertThat(PolicyFile.defaults().lookAlpha()).isCloseTo(0.025, within(1e-12));
    assertThat(PolicyFile.defaults().afterLooks().alpha()).isCloseTo(0.025, within(1e-12));
    assertThat(PolicyFile.defaults().afterLooks().metrics())
        .isEqualTo(PolicyFile.defaults().metrics());
    assertThat(sequential.covers("perplexity")).isTrue();
    assertThat(sequential.covers("ndcg@10")).isTrue();
    assertThat(sequential.covers("kl_mean")).isTrue();
    assertThat(sequential.covers("spearman")).isFalse();
    assertThat(sequential.covers("kl_p99")).isFalse();
    assertThat(sequential.metrics()).containsEntry("spearman", false);
  }

  @Test
  void aPolicyWithoutSequentialSettingsNeverStopsEarly() throws IOException {
    Path file = dir.resolve("fixed.json");
    Files.writeString(
        file,
        """
        {
          "policy_version": "fixed", "family_confidence": 0.95, "bootstrap_resamples": 2000, "seed": 7,
          "correction": "holm", "band_k": 3.0, "band_min_snapshots": 3, "band_window": 10,
          "metrics": { "perplexity": { "margin": 0.02, "gate": true } }
        }
        """);
    assertThat(PolicyFile.load(file).sequential()).isEqualTo(SequentialSettings.DISABLED);
    assertThat(PolicyFile.load(file).sequential().covers("perplexity")).isFalse();
  }

  @Test
  void aSequentialOrNoiseFloorObjectThatLeavesSettingsOutTakesTheirDefaults() throws IOException {
    Path file = dir.resolve("partial.json");
    Files.writeString(
        file,
        """
        {
          "policy_version": "partial", "family_confidence": 0.95, "bootstrap_resamples": 2000,
          "seed": 7, "correction": "holm", "band_k": 3.0, "band_min_snapshots": 3, "band_window": 10,
          "sequential": { "enabled": false },
          "noise_floor": {},
          "metrics": { "perplexity": { "margin": 0.02, "gate": true } }
        }
        """);
    Policy policy = PolicyFile.load(file);
    assertThat(policy.sequential().enabled()).isFalse();
    assertThat(policy.sequential().minRows()).isEqualTo(SequentialSettings.DEFAULT_MIN_ROWS);
    assertThat(policy.sequential().tuningRows()).isEqualTo(SequentialSettings.DEFAULT_TUNING_ROWS);
    assertThat(policy.sequential().alphaShare()).isEqualTo(SequentialSettings.DEFAULT_ALPHA_SHARE);
    assertThat(policy.noiseFloor()).isEqualTo(NoiseFloorPolicy.DEFAULTS);
  }

  @Test
  void badSequentialSettingsAreListedWithTheRest() throws IOException {
    Path file = dir.resolve("bad-sequential.json");
    Files.writeString(
        file,
        """
        {
          "policy_version": "seq", "family_confidence": 0.95, "bootstrap_resamples": 2000, "seed": 7,
          "correction": "holm", "band_k": 3.0, "band_min_snapshots": 3, "band_window": 10,
          "sequential": { "enabled": true, "min_rows": 5, "alpha_share": 0, "looks": 3 },
          "metrics": {
            "spearman": { "margin": 0.02, "gate": true, "sequential": true },
            "kl_p99": { "limit": 0.5, "gate": true, "sequential": true },
            "perplexity": { "margin": 0.02, "gate": true, "sequential": false }
          }
        }
        """);
    assertThatThrownBy(() -> PolicyFile.load(file))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e ->
                assertThat(e.problems())
                    .contains(
                        "unknown field 'sequential.looks'",
                        "sequential.alpha_share must be in (0, 1], was 0.0",
                        "sequential.min_rows must be at least 20 (the confidence sequence is"
                            + " asymptotic), was 5",
                        "metrics.spearman.sequential is true, but spearman is a rank correlation"
                            + " over all rows, not a mean of per-row values, so no look can judge"
                            + " it; set it false or leave it out",
                        "metrics.kl_p99.sequential is true, but kl_p99 is a percentile over"
                            + " tokens, not a mean of per-row values, so no look can judge it; set"
                            + " it false or leave it out"));
  }

  @Test
  void sequentialSettingsRecordRefusesBadValues() {
    assertThatThrownBy(() -> new SequentialSettings(true, 10, 0, Map.of("spearman", true)))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class, e -> assertThat(e.problems()).hasSize(3))
        .hasMessageContaining("sequential.tuning_rows must be at least 1, was 0");
    Map<String, MetricPolicy> metrics =
        Map.of("perplexity", new MetricPolicy(Direction.LOWER_IS_BETTER, 0.02, true));
    assertThatThrownBy(
            () ->
                new Policy(
                    "v",
                    0.95,
                    2000,
                    1,
                    Correction.HOLM,
                    3,
                    3,
                    10,
                    metrics,
                    new SequentialSettings(true, 100, 1000, Map.of("ndcg@10", false))))
        .hasMessageContaining(
            "sequential switch for metric 'ndcg@10', which the policy does not name");
  }

  @Test
  void theDefaultPolicyGatesTheTokenShiftOnlyForChangesThatPreserveBehaviour() {
    Policy policy = PolicyFile.defaults();
    assertThat(policy.gating(Decider.TOKEN_SHIFT, ChangeKind.RETRAIN)).isEmpty();
    for (ChangeKind kind :
        List.of(ChangeKind.QUANTIZATION, ChangeKind.EXPORT, ChangeKind.RUNTIME)) {
      assertThat(policy.gating(Decider.TOKEN_SHIFT, kind))
          .as(kind.wireName())
          .isEqualTo(Decider.TOKEN_SHIFT);
    }
    for (ChangeKind kind : ChangeKind.values()) {
      assertThat(policy.gating(List.of("perplexity", "bits_per_byte"), kind))
          .as(kind.wireName())
          .containsExactly("perplexity", "bits_per_byte");
    }
    assertThat(policy.changes()).isEqualTo(ChangePolicy.DEFAULT);
    assertThat(policy.changes().tokenShift("any")).isEqualTo(ChangePolicy.TokenShift.WHEN_GATING);
  }

  @Test
  void modelDefaultsAndTheTokenShiftSettingAreRead() throws IOException {
    Path file = dir.resolve("models.json");
    Files.writeString(
        file,
        """
        {
          "policy_version": "m", "family_confidence": 0.95, "bootstrap_resamples": 2000, "seed": 7,
          "correction": "holm", "band_k": 3.0, "band_min_snapshots": 3, "band_window": 10,
          "token_shift": "always",
          "models": {
            "gpt-int4": { "change_kind": "quantization" },
            "gpt-lean": { "token_shift": "when_gating" }
          },
          "metrics": {
            "kl_mean": { "limit": 0.05, "gate": ["quantization", "runtime"] },
            "perplexity": { "margin": 0.02, "gate": true }
          }
        }
        """);
    Policy policy = PolicyFile.load(file);
    assertThat(policy.changes().defaultKind("gpt-int4")).contains(ChangeKind.QUANTIZATION);
    assertThat(policy.changes().defaultKind("gpt-lean")).isEmpty();
    assertThat(policy.changes().tokenShift("gpt-int4")).isEqualTo(ChangePolicy.TokenShift.ALWAYS);
    assertThat(policy.changes().tokenShift("gpt-lean"))
        .isEqualTo(ChangePolicy.TokenShift.WHEN_GATING);
    MetricPolicy kl = policy.metrics().get("kl_mean");
    assertThat(kl.gateFor()).containsExactly(ChangeKind.QUANTIZATION, ChangeKind.RUNTIME);
    assertThat(kl.gates(ChangeKind.QUANTIZATION)).isTrue();
    assertThat(kl.gates(ChangeKind.EXPORT)).isFalse();
    assertThat(kl.gates(ChangeKind.RETRAIN)).isFalse();
    assertThat(kl.gates(null)).as("a kind not known gates as for any").isTrue();
    assertThat(policy.metrics().get("perplexity").gates(ChangeKind.RETRAIN)).isTrue();
  }

  @Test
  void badChangeKindsAndGatesAreAllListedNamingTheAcceptedValues() throws IOException {
    Path file = dir.resolve("bad-kinds.json");
    Files.writeString(
        file,
        """
        {
          "policy_version": "k", "family_confidence": 0.95, "bootstrap_resamples": 2000, "seed": 7,
          "correction": "holm", "band_k": 3.0, "band_min_snapshots": 3, "band_window": 10,
          "token_shift": "sometimes",
          "models": {
            "a": { "change_kind": "quantisation" },
            "b": { "change_kind": "Retrain " },
            "c": { },
            "d": { "change_kind": "export", "token_shift": "never", "gate": true }
          },
          "metrics": {
            "kl_mean": { "limit": 0.05, "gate": "preserving" },
            "kl_p99": { "limit": 0.5, "gate": [] },
            "top1_agreement": { "limit": 0.9, "gate": ["quantization", "fine-tune", "quantization", 3] },
            "perplexity": { "margin": 0.02, "gate": 1 }
          }
        }
        """);
    String kinds = "(retrain, quantization, export, runtime)";
    assertThatThrownBy(() -> PolicyFile.load(file))
        .isInstanceOfSatisfying(
            InvalidPolicyException.class,
            e ->
                assertThat(e.problems())
                    .containsExactlyInAnyOrder(
                        "unknown token_shift 'sometimes' (one of when_gating, always)",
                        "unknown models.a.change_kind 'quantisation' (one of retrain, quantization, export, runtime)",
                        "unknown models.b.change_kind 'Retrain ' (one of retrain, quantization, export, runtime)",
                        "models.c sets neither change_kind nor token_shift",
                        "unknown models.d.token_shift 'never' (one of when_gating, always)",
                        "unknown field 'models.d.gate'",
                        "metrics.kl_mean.gate must be true, false or a list of change kinds "
                            + kinds
                            + ", was \"preserving\"",
                        "metrics.kl_p99.gate lists no change kind (false, not [], reports a metric only)",
                        "metrics.top1_agreement.gate must be true, false or a list of change kinds "
                            + kinds
                            + "; \"fine-tune\" is not one",
                        "metrics.top1_agreement.gate lists \"quantization\" twice",
                        "metrics.top1_agreement.gate must be true, false or a list of change kinds "
                            + kinds
                            + "; 3 is not one",
                        "metrics.perplexity.gate must be true, false or a list of change kinds "
                            + kinds
                            + ", was 1"));
  }

  @Test
  void aMetricThatDoesNotGateListsNoKinds() {
    assertThatThrownBy(
            () ->
                new MetricPolicy(
                    Direction.LOWER_IS_BETTER, 0, false, 0.05, EnumSet.of(ChangeKind.EXPORT)))
        .isInstanceOf(InvalidPolicyException.class)
        .hasMessageContaining("gate must list at least one change kind, or be true or false");
  }
}
