package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.StagedWeightEvent;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The kind of change a candidate is judged as, and why, for the flag's reasons. In order: the kind
 * its staged event names; the policy's default for its model; a quantization, when the event's
 * {@code quantization_bits} differ from those the baseline was evaluated with; otherwise a retrain,
 * the kind that keeps every metric's margin but does not hold the model to its baseline's outputs.
 *
 * @param kind the kind of change
 * @param why where it came from, as a sentence for the flag's reasons
 */
public record JudgedChange(ChangeKind kind, String why) {

  public JudgedChange {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(why, "why");
  }

  /**
   * What the baseline's precision is known to be.
   *
   * @param version the baseline's version
   * @param quantizationBits its {@code quantization_bits}, null when its records hold none
   * @param unknownWhy why they are not known, when they are not (e.g. its lockfile cannot be read);
   *     null when {@code quantizationBits} is all there is to say
   */
  public record BaselinePrecision(String version, Integer quantizationBits, String unknownWhy) {}

  /**
   * The kind of change {@code event} is to its baseline under {@code policy}.
   *
   * @param baseline the baseline's precision; read only when the event and the policy name no kind
   *     and the event gives its {@code quantization_bits}
   */
  public static JudgedChange of(
      StagedWeightEvent event, Policy policy, Supplier<BaselinePrecision> baseline) {
    if (event.changeKind() != null) {
      return new JudgedChange(
          event.changeKind(),
          "change kind " + event.changeKind().wireName() + ", as the staged event says");
    }
    var byPolicy = policy.changes().defaultKind(event.model());
    if (byPolicy.isPresent()) {
      return new JudgedChange(
          byPolicy.get(),
          "change kind "
              + byPolicy.get().wireName()
              + ": the default of policy "
              + policy.policyVersion()
              + " for model "
              + event.model()
              + " (the staged event names none)");
    }
    String neither =
        "the staged event names none and policy "
            + policy.policyVersion()
            + " gives model "
            + event.model()
            + " none";
    if (event.quantizationBits() == null) {
      return assumedRetrain(neither + ", and the event gives no quantization_bits");
    }
    BaselinePrecision precision = baseline.get();
    // A baseline recorded without bits is floating point (an export states no bits), so a candidate
    // of fewer than 16 bits is a quantization of it.
    if (precision.quantizationBits() == null
        && precision.unknownWhy() == null
        && event.quantizationBits() < 16) {
      return new JudgedChange(
          ChangeKind.QUANTIZATION,
          "change kind quantization, inferred: "
              + neither
              + ", and its quantization_bits "
              + event.quantizationBits()
              + " are below 16 while baseline version "
              + precision.version()
              + " was evaluated without quantization_bits (floating point)"
              + " (name the kind with change_kind to say otherwise)");
    }
    if (precision.quantizationBits() == null) {
      return assumedRetrain(
          neither
              + ", and baseline version "
              + precision.version()
              + (precision.unknownWhy() != null
                  ? "'s quantization_bits are not known (" + precision.unknownWhy() + ")"
                  : " was evaluated without quantization_bits")
              + " to compare with the event's "
              + event.quantizationBits());
    }
    if (!precision.quantizationBits().equals(event.quantizationBits())) {
      return new JudgedChange(
          ChangeKind.QUANTIZATION,
          "change kind quantization, inferred: "
              + neither
              + ", and its quantization_bits "
              + event.quantizationBits()
              + " differ from baseline version "
              + precision.version()
              + "'s "
              + precision.quantizationBits()
              + " (name the kind with change_kind to say otherwise)");
    }
    return assumedRetrain(
        neither
            + ", and its quantization_bits "
            + event.quantizationBits()
            + " are baseline version "
            + precision.version()
            + "'s");
  }

  private static JudgedChange assumedRetrain(String because) {
    return new JudgedChange(
        ChangeKind.RETRAIN,
        "change kind retrain, assumed: "
            + because
            + " (name the kind with change_kind: retrain, quantization, export or runtime)");
  }
}
