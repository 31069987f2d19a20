package io.evalfleet.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChangeKindTest {

  static StagedWeightEvent withChangeKind(String json) {
    String event =
        StagedWeightEventTest.VALID.replace(
            "\"max_seq_len\": 128,", "\"max_seq_len\": 128, \"change_kind\": " + json + ",");
    return StagedWeightEventTest.read(event);
  }

  @ParameterizedTest
  @ValueSource(strings = {"retrain", "quantization", "export", "runtime"})
  void eachWireNameReadsAsItsKindAndOnlyRetrainMayChangeBehaviour(String name) {
    ChangeKind kind = withChangeKind("\"" + name + "\"").changeKind();
    assertThat(kind.wireName()).isEqualTo(name);
    assertThat(kind.preservesBehaviour()).isEqualTo(!name.equals("retrain"));
    assertThat(ChangeKind.of(name)).isSameAs(kind);
  }

  @ParameterizedTest
  @ValueSource(strings = {"quantisation", "Retrain ", "RETRAIN", "fine-tune", ""})
  void aMisspelledKindIsRefusedNamingTheFieldTheValueAndTheAcceptedNames(String name) {
    assertThatThrownBy(() -> withChangeKind("\"" + name + "\""))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("change_kind")
        .hasMessageContaining("[retrain, quantization, export, runtime]")
        .hasMessageContaining(name.strip().isEmpty() ? "got" : name.strip());
    assertThatThrownBy(() -> ChangeKind.of(name))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("change_kind")
        .hasMessageContaining("[retrain, quantization, export, runtime]")
        .hasMessageContaining("'" + name + "'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"1", "true", "[\"retrain\"]"})
  void aKindThatIsNotAStringIsRefused(String json) {
    assertThatThrownBy(() -> withChangeKind(json))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("change_kind");
  }

  @ParameterizedTest
  @ValueSource(strings = {"null"})
  void anAbsentKindIsNull(String json) {
    assertThat(withChangeKind(json).changeKind()).isNull();
    assertThat(StagedWeightEventTest.read(StagedWeightEventTest.VALID).changeKind()).isNull();
  }
}
