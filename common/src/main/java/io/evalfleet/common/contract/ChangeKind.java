package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What kind of change a candidate is to its baseline, which decides what it must keep. A retrain is
 * meant to change the model's next-token distribution; a quantization, a new export and a runtime
 * upgrade must preserve it, so only for them does the token shift (KL, top-1 agreement) gate under
 * the default policy.
 *
 * <p>On the wire each kind is its lower-case name; nothing else is accepted (no other spelling, no
 * other case, no surrounding blanks): {@link #parse} says which names are.
 */
public enum ChangeKind {
  /** New weights from training (a fine-tune, further pre-training, a new architecture). */
  @JsonProperty("retrain")
  RETRAIN(false),
  /** The same weights at a lower precision (int8, int4, fp16). */
  @JsonProperty("quantization")
  QUANTIZATION(true),
  /** The same weights exported again (another exporter, opset, graph optimisation, KV cache). */
  @JsonProperty("export")
  EXPORT(true),
  /**
   * The same model file on another runtime (an ONNX Runtime upgrade, another execution provider).
   */
  @JsonProperty("runtime")
  RUNTIME(true);

  private final boolean preservesBehaviour;

  ChangeKind(boolean preservesBehaviour) {
    this.preservesBehaviour = preservesBehaviour;
  }

  /** Whether the change must leave the model's outputs as they were (all kinds but retrain). */
  public boolean preservesBehaviour() {
    return preservesBehaviour;
  }

  /** The kind's name on the wire, in the policy and on the command line. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The kind named exactly {@code wireName}, if any. */
  public static Optional<ChangeKind> parse(String wireName) {
    for (ChangeKind kind : values()) {
      if (kind.wireName().equals(wireName)) {
        return Optional.of(kind);
      }
    }
    return Optional.empty();
  }

  /** The kind named {@code wireName}. */
  public static ChangeKind of(String wireName) {
    return parse(wireName)
        .orElseThrow(
            () ->
                new ContractViolation(
                    "change_kind", "must be one of " + wireNames() + ", got '" + wireName + "'"));
  }

  /**
   * Every kind's wire name, in declaration order: {@code retrain, quantization, export, runtime}.
   */
  public static List<String> wireNames() {
    List<String> names = new ArrayList<>();
    for (ChangeKind kind : values()) {
      names.add(kind.wireName());
    }
    return names;
  }
}
