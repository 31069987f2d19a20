package io.evalfleet.dispatcher.decision;

import io.evalfleet.common.contract.ChangeKind;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What the policy says about kinds of change beyond each metric's {@code gate}: the change kind of
 * a model whose events name none, and when a causal LM's token shift is measured.
 *
 * <p>In the policy file: {@code "token_shift": "when_gating"} (the default) or {@code "always"},
 * and {@code "models": {"<name>": {"change_kind": "quantization", "token_shift": "always"}}}, each
 * field of a model optional.
 *
 * @param tokenShift when the token shift is measured, unless a model says otherwise
 * @param models per model name: its default change kind and token-shift setting
 */
public record ChangePolicy(TokenShift tokenShift, Map<String, ModelChange> models) {

  /** No model defaults; the token shift measured when it gates. */
  public static final ChangePolicy DEFAULT = new ChangePolicy(TokenShift.WHEN_GATING, Map.of());

  /** When a causal LM's jobs run the baseline beside the candidate to measure the token shift. */
  public enum TokenShift {
    /**
     * Only when a token-shift metric gates for the run's change kind: otherwise it would decide
     * nothing, and each job runs one forward pass instead of two.
     */
    WHEN_GATING,
    /**
     * Always (against a baseline with the same tokenizer), to report it even where it is not gated.
     */
    ALWAYS;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One model's settings.
   *
   * @param changeKind the kind of change its events are when they name none; null: inferred
   * @param tokenShift when its token shift is measured; null: the policy's {@code token_shift}
   */
  public record ModelChange(ChangeKind changeKind, TokenShift tokenShift) {}

  public ChangePolicy {
    tokenShift = tokenShift == null ? TokenShift.WHEN_GATING : tokenShift;
    models = models == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(models));
  }

  /** The change kind the policy gives {@code model}'s events that name none, if it gives one. */
  public Optional<ChangeKind> defaultKind(String model) {
    return Optional.ofNullable(models.get(model)).map(ModelChange::changeKind);
  }

  /** When {@code model}'s token shift is measured. */
  public TokenShift tokenShift(String model) {
    ModelChange own = models.get(model);
    return own != null && own.tokenShift() != null ? own.tokenShift() : tokenShift;
  }
}
