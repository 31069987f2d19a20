package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.DriftFlag;
import io.evalfleet.common.contract.Flag;
import io.evalfleet.dispatcher.run.FirstVersions;
import io.evalfleet.dispatcher.run.RunState;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settling and ending runs alone: what is flagged, and what is handed back to the processor. */
class ConclusionTest {
  @TempDir Path dir;
  StepBench bench;
  Conclusion conclusion;

  @BeforeEach
  void start() {
    bench = new StepBench(dir);
    conclusion = new Conclusion(bench.book);
  }

  /** Runs staged while the model had no baseline, in this order. */
  void firstVersions(String model, RunState... runs) {
    FirstVersions first = new FirstVersions();
    for (RunState run : runs) {
      first.staged(run.runId());
    }
    bench.book.saveFirstVersions(model, first);
  }

  @Test
  void aFailedRunIsFlaggedErrorForgottenAndItsOpenJobsReleased() {
    RunState run = bench.scoringRun("m", "v1", 3);
    bench.send(run);
    bench.send(run);

    Conclusion.Ended ended = conclusion.fail(run, "shard 1 could not be scored");

    assertThat(ended.releasedJobs()).isEqualTo(2);
    assertThat(ended.nextInLine()).isEmpty();
    assertThat(bench.forwarded(DispatcherTopology.FLAGS_SINK, DriftFlag.class))
        .singleElement()
        .satisfies(
            flag -> {
              assertThat(flag.flag()).isEqualTo(Flag.ERROR);
              assertThat(flag.reasons()).containsExactly("shard 1 could not be scored");
              assertThat(flag.coverage().shardsTotal()).isEqualTo(3);
            });
    assertThat(bench.book.run(run.runId())).isNull();
    assertThat(bench.book.isDecided(run.runId())).isTrue();
  }

  @Test
  void aModelsFirstVersionIsReadyToDecideWithoutABaseline() {
    RunState first = bench.scoringRun("m", "v1", 1);
    firstVersions("m", first);

    assertThat(conclusion.conclude(first))
        .isInstanceOfSatisfying(
            Conclusion.ToDecide.class, ready -> assertThat(ready.run()).isSameAs(first));
    assertThat(first.stage()).isEqualTo(RunState.Stage.DECIDING);
    assertThat(first.comparedWith()).isEmpty();
  }

  @Test
  void aLaterVersionScoredFirstWaitsForTheFirstAndIsSettledWhenTheFirstEnds() {
    RunState first = bench.scoringRun("m", "v1", 1);
    RunState second = bench.scoringRun("m", "v2", 1);
    firstVersions("m", first, second);

    assertThat(conclusion.conclude(second)).isInstanceOf(Conclusion.AwaitingBaseline.class);
    assertThat(second.stage()).isEqualTo(RunState.Stage.AWAITING_BASELINE);

    Conclusion.Ended ended = conclusion.expire(first);

    assertThat(ended.nextInLine()).containsSame(second);
    assertThat(bench.forwarded(DispatcherTopology.FLAGS_SINK, DriftFlag.class))
        .singleElement()
        .satisfies(flag -> assertThat(flag.flag()).isEqualTo(Flag.INCOMPLETE));
    assertThat(conclusion.conclude(second)).isInstanceOf(Conclusion.ToDecide.class);
  }
}
