package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.dispatcher.run.RunState;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flow control alone: at most 2 jobs in flight per run and 3 per task, runs in turn; what the tick
 * finds due.
 */
class FlowControlTest {
  @TempDir Path dir;
  StepBench bench;
  FlowControl flow;

  @BeforeEach
  void start() {
    bench = new StepBench(dir);
    flow = new FlowControl(bench.book);
  }

  @Test
  void jobsArePublishedRunsInTurnWithinThePerRunAndPerTaskLimits() {
    RunState a = bench.scoringRun("m", "v1", 3);
    RunState b = bench.scoringRun("m", "v2", 3);
    flow.started(a);
    flow.started(b);

    flow.publish();

    assertThat(bench.forwarded(DispatcherTopology.JOBS_SINK, ScoringJob.class))
        .extracting(ScoringJob::jobId)
        .containsExactly(
            ScoringJob.jobId(a.runId(), 0),
            ScoringJob.jobId(b.runId(), 0),
            ScoringJob.jobId(a.runId(), 1));
    assertThat(a.open()).isEqualTo(2);
    assertThat(b.open()).isEqualTo(1);
  }

  @Test
  void aReleasedSlotGoesToTheNextRunWithJobsLeft() {
    RunState a = bench.scoringRun("m", "v1", 3);
    RunState b = bench.scoringRun("m", "v2", 3);
    flow.started(a);
    flow.started(b);
    flow.publish();
    bench.context.resetForwards();

    flow.released(1);
    flow.publish();

    assertThat(bench.forwarded(DispatcherTopology.JOBS_SINK, ScoringJob.class))
        .extracting(ScoringJob::jobId)
        .containsExactly(ScoringJob.jobId(b.runId(), 1));
  }

  @Test
  void aJobUnansweredPastTheTimeoutIsSentAgainAsItsNextAttempt() {
    RunState run = bench.scoringRun("m", "v1", 1);
    flow.started(run);
    flow.publish();
    bench.context.resetForwards();
    bench.advance(Duration.ofSeconds(31));

    assertThat(flow.due(run, bench.book.now())).isEqualTo(FlowControl.Due.OPEN_JOBS);
    flow.resend(run, bench.book.now());

    assertThat(bench.forwarded(DispatcherTopology.JOBS_SINK, ScoringJob.class))
        .singleElement()
        .satisfies(job -> assertThat(job.attempt()).isEqualTo(2));
    assertThat(
            bench.registry.find("evalfleet.jobs.published").tag("kind", "resent").counter().count())
        .isEqualTo(1);
  }

  @Test
  void theTickFindsRunsPastTheirDeadlineAndRunsWithNothingToDo() {
    RunState run = bench.scoringRun("m", "v1", 1);

    assertThat(flow.due(run, bench.book.now())).isEqualTo(FlowControl.Due.NOTHING);
    assertThat(flow.due(run, run.deadline().plusMillis(1))).isEqualTo(FlowControl.Due.DEADLINE);
  }

  @Test
  void theTickFindsAPreflightDueAgain() {
    RunState run =
        new RunState(
            StepBench.event("m", "v1"), StepBench.START, StepBench.START.plusSeconds(600), null);
    run.preflightLater(StepBench.START.plusSeconds(2), "storage unreachable");

    assertThat(flow.due(run, StepBench.START.plusSeconds(1))).isEqualTo(FlowControl.Due.NOTHING);
    assertThat(flow.due(run, StepBench.START.plusSeconds(2))).isEqualTo(FlowControl.Due.PREFLIGHT);
  }
}
