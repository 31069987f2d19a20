package io.evalfleet.dispatcher.decision;

/**
 * The policy's {@code noise_floor} section: what a comparison does when its candidate and baseline
 * were scored under different envelopes and a noise floor is archived for the model.
 *
 * @param acrossEnvelopes {@link AcrossEnvelopes#WIDEN} or {@link AcrossEnvelopes#REFUSE}
 */
public record NoiseFloorPolicy(AcrossEnvelopes acrossEnvelopes) {

  /** When a policy file has no {@code noise_floor} section. */
  public static final NoiseFloorPolicy DEFAULTS = new NoiseFloorPolicy(AcrossEnvelopes.WIDEN);

  public NoiseFloorPolicy {
    if (acrossEnvelopes == null) {
      throw new InvalidPolicyException(
          "noise_floor", java.util.List.of("across_envelopes is missing (widen or refuse)"));
    }
  }

  /** What to do across envelopes, once a floor is known. */
  public enum AcrossEnvelopes {
    /**
     * Each metric's test is widened by its measured floor (relative spread): degradation must
     * exceed margin + floor to be RED, and stay below margin − floor to be GREEN. Noise up to the
     * floor can then flip neither way.
     */
    WIDEN,
    /** The comparison is not trusted: the flag is WARN, with the reason. */
    REFUSE
  }
}
