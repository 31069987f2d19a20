package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ChangeKind;
import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.Json;
import io.evalfleet.dispatcher.run.RunState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Intake alone: what it flags and dead-letters itself, and what it hands back to the processor. */
class IntakeTest {
  static final String STAGED_BY_MODEL = "dispatcher-test-staged-by-model-repartition";

  @TempDir Path dir;
  StepBench bench;
  Intake intake;
  long offset;

  @BeforeEach
  void start() {
    bench = new StepBench(dir);
    intake = new Intake(bench.book);
  }

  Intake.Preflighted stage(String key, byte[] value) {
    bench.context.setRecordMetadata(STAGED_BY_MODEL, 0, offset++);
    return intake.onStaged(
        new Record<>(key, value, bench.context.currentSystemTimeMs()),
        bench.context.recordMetadata().orElseThrow());
  }

  @Test
  void anInvalidEventIsFlaggedErrorAndDeadLetteredByIntakeItself() {
    byte[] invalid = "{\"model\": \"m\"}".getBytes(StandardCharsets.UTF_8);

    assertThat(stage("m", invalid)).isInstanceOf(Intake.Ignored.class);

    assertThat(bench.forwarded(DispatcherTopology.FLAGS_SINK, DriftFlag.class))
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.ERROR);
              assertThat(flag.model()).isEqualTo("m");
              assertThat(flag.reasons())
                  .singleElement()
                  .asString()
                  .startsWith("staged event rejected: ");
            });
    assertThat(bench.forwarded(DispatcherTopology.DEAD_LETTERS_SINK))
        .singleElement()
        .satisfies(letter -> assertThat(letter.value()).isEqualTo(invalid));
  }

  @Test
  void aRejectedEventsFlagCarriesTheChangeKindItNamedWhenThatIsValid() {
    stage("m", "{\"model\": \"m\", \"change_kind\": \"export\"}".getBytes(StandardCharsets.UTF_8));
    stage("m", "{\"model\": \"m\", \"change_kind\": \"Export\"}".getBytes(StandardCharsets.UTF_8));

    assertThat(bench.forwarded(DispatcherTopology.FLAGS_SINK, DriftFlag.class))
        .extracting(DriftFlag::changeKind)
        .containsExactly(ChangeKind.EXPORT, null);
  }

  @Test
  void aRejectedEventsFlagCarriesTheVersionItNamedSoAWaitingPipelineFindsIt() {
    stage(
        "gpt",
        "{\"model\": \"gpt\", \"version\": \"ft-3\", \"change_kind\": \"quantisation\"}"
            .getBytes(StandardCharsets.UTF_8));

    assertThat(bench.forwarded(DispatcherTopology.FLAGS_SINK, DriftFlag.class))
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.ERROR);
              assertThat(flag.version()).isEqualTo("ft-3");
              assertThat(flag.reasons()).singleElement().asString().contains("quantisation");
            });
  }

  @Test
  void anEventAlreadyInProgressIsIgnored() {
    RunState run = bench.scoringRun("m", "v1", 1);

    assertThat(stage("m", Json.write(run.event()))).isInstanceOf(Intake.Ignored.class);
    assertThat(bench.context.forwarded()).isEmpty();
  }

  @Test
  void anEventWhoseFilesPreflightRefusesIsHandedBackRefusedAndDeadLettered() {
    Intake.Preflighted preflighted = stage("m", Json.write(StepBench.event("m", "v1")));

    assertThat(preflighted)
        .isInstanceOfSatisfying(
            Intake.Refused.class,
            refused -> {
              assertThat(refused.run().event().version()).isEqualTo("v1");
              assertThat(refused.reason()).isNotBlank();
            });
    assertThat(bench.forwarded(DispatcherTopology.DEAD_LETTERS_SINK)).hasSize(1);
    assertThat(bench.forwarded(DispatcherTopology.FLAGS_SINK))
        .as("the processor ends the run")
        .isEmpty();
  }
}
