package io.evalfleet.dispatcher.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.contract.StagedWeightEvent;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.task.Task;
import io.evalfleet.dispatcher.plan.Shard;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunTest {
  static final ArtifactRef REF = new ArtifactRef("/m.onnx", "a".repeat(64));
  static final StagedWeightEvent EVENT = new StagedWeightEvent(1, "ev-1", "m", "v", Task.EMBEDDING, REF, REF,
      new SubsetRef("/s.parquet", "b".repeat(64), null, null), null, null, null, null, null, null, null, null);

  static ShardResult ok(ScoringJob job) {
    return new ShardResult(1, job.jobId(), job.runId(), job.shardIndex(), job.rowStart(), job.rowCount(),
        Map.of("cosine", new double[job.rowCount()]), "w", "cpu", null, null, 1, job.attempt(), null);
  }

  @Test
  void runIdIsDerivedFromTheEventIdAlone() {
    assertThat(Run.runIdOf("ev-1")).isEqualTo(Run.runIdOf("ev-1")).isNotEqualTo(Run.runIdOf("ev-2")).startsWith("run-");
  }

  @Test
  void duplicateAndUnknownResultsAreIgnored() {
    Run run = new Run("run-x", EVENT, List.of(new Shard(0, 0, 5), new Shard(1, 5, 5)), Instant.EPOCH, Instant.EPOCH);
    ScoringJob first = run.publishNext(Instant.EPOCH);
    ScoringJob second = run.publishNext(Instant.EPOCH);
    assertThat(run.accept(ok(first))).isTrue();
    assertThat(run.accept(ok(first))).as("duplicate").isFalse();
    assertThat(run.complete()).isFalse();
    assertThat(run.accept(ok(second))).isTrue();
    assertThat(run.complete()).isTrue();
    assertThat(run.coverage().rowsScored()).isEqualTo(10);
  }

  @Test
  void retriedJobCarriesTheNextAttempt() {
    Run run = new Run("run-x", EVENT, List.of(new Shard(0, 0, 5)), Instant.EPOCH, Instant.EPOCH);
    ScoringJob job = run.publishNext(Instant.EPOCH);
    ShardResult failed = new ShardResult(1, job.jobId(), job.runId(), 0, 0, 5, Map.of(), "w", null, null, null, 1, 1,
        new ShardError(FailureKind.RESOURCE_EXHAUSTED, "out of memory"));
    assertThat(run.accept(failed)).isTrue();
    run.retry(run.jobFor(failed));
    ScoringJob again = run.publishNext(Instant.EPOCH);
    assertThat(again.jobId()).isEqualTo(job.jobId());
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(run.accept(ok(again))).isTrue();
    assertThat(run.complete()).isTrue();
  }

  @Test
  void unansweredJobIsOverdueOnlyAfterItsTimeoutAndItsResendCarriesTheNextAttempt() {
    Run run = new Run("run-x", EVENT, List.of(new Shard(0, 0, 5), new Shard(1, 5, 5)), Instant.EPOCH, Instant.EPOCH);
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    ScoringJob first = run.publishNext(t0);
    ScoringJob second = run.publishNext(t0.plusSeconds(60));
    assertThat(run.overdue(t0)).isEmpty();
    assertThat(run.overdue(t0.plusSeconds(30))).containsExactly(first);

    ScoringJob again = run.resend(first, t0.plusSeconds(90));
    assertThat(again.jobId()).isEqualTo(first.jobId());
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(run.inFlightCount()).as("a resent job is still one job in flight").isEqualTo(2);
    assertThat(run.overdue(t0.plusSeconds(61))).containsExactly(second);

    assertThat(run.accept(ok(first))).as("the first attempt's late answer counts").isTrue();
    assertThat(run.accept(ok(again))).as("and the second attempt's is a duplicate").isFalse();
    assertThat(run.overdue(t0.plusSeconds(1000))).containsExactly(second);
  }

  @Test
  void checkpointedResultIsAdoptedOnlyWhenItIsExactlyOneOfTheRunsUnpublishedShards() {
    Run run = new Run("run-x", EVENT, List.of(new Shard(0, 0, 5), new Shard(1, 5, 5)), Instant.EPOCH, Instant.EPOCH);
    ShardResult shard1 = new ShardResult(1, ScoringJob.jobId("run-x", 1), "run-x", 1, 5, 5,
        Map.of("cosine", new double[5]), "w", "cpu", null, null, 1, 1, null);
    ShardResult wrongRows = new ShardResult(1, ScoringJob.jobId("run-x", 0), "run-x", 0, 1, 5,
        Map.of("cosine", new double[5]), "w", "cpu", null, null, 1, 1, null);
    ShardResult otherRun = new ShardResult(1, ScoringJob.jobId("run-y", 0), "run-y", 0, 0, 5,
        Map.of("cosine", new double[5]), "w", "cpu", null, null, 1, 1, null);
    assertThat(run.adopt(wrongRows)).isFalse();
    assertThat(run.adopt(otherRun)).isFalse();
    assertThat(run.adopt(shard1)).isTrue();
    assertThat(run.adopt(shard1)).as("twice").isFalse();

    ScoringJob only = run.publishNext(Instant.EPOCH);
    assertThat(only.shardIndex()).as("the adopted shard is not published again").isZero();
    assertThat(run.hasUnpublished()).isFalse();
    assertThat(run.accept(shard1)).as("a late answer to the adopted shard is a duplicate").isFalse();
    assertThat(run.accept(ok(only))).isTrue();
    assertThat(run.complete()).isTrue();
    assertThat(run.coverage().rowsScored()).isEqualTo(10);
  }

  @Test
  void jobWaitingForAnUnavailableDependencyIsPublishedOnlyOnceItsPauseIsOver() {
    Run run = new Run("run-x", EVENT, List.of(new Shard(0, 0, 5)), Instant.EPOCH, Instant.EPOCH.plusSeconds(600));
    ScoringJob job = run.publishNext(Instant.EPOCH);
    ShardResult failed = new ShardResult(1, job.jobId(), job.runId(), 0, 0, 5, Map.of(), "w", null, null, null, 1, 1,
        new ShardError(FailureKind.UNAVAILABLE, "storage unavailable: connection refused"));
    assertThat(run.accept(failed)).isTrue();
    run.retryAt(run.sameJob(failed), Instant.EPOCH.plusSeconds(4), failed.error().message());

    run.releaseDue(Instant.EPOCH.plusSeconds(3));
    assertThat(run.hasUnpublished()).isFalse();
    assertThat(run.inFlightCount()).isZero();
    run.releaseDue(Instant.EPOCH.plusSeconds(4));
    assertThat(run.hasUnpublished()).isTrue();
    ScoringJob again = run.publishNext(Instant.EPOCH.plusSeconds(4));
    assertThat(again.jobId()).isEqualTo(job.jobId());
    assertThat(again.attempt()).as("a wait for a dependency is not an attempt").isEqualTo(job.attempt());
    assertThat(run.unavailableRetries(0)).isEqualTo(1);
    assertThat(run.whyWaiting()).contains("storage unavailable: connection refused");
  }

  @Test
  void aJobThatHadItsAttemptsIsNotSentAgainButItsLateAnswerCounts() {
    Run run = new Run("run-x", EVENT, List.of(new Shard(0, 0, 5)), Instant.EPOCH, Instant.EPOCH.plusSeconds(600));
    ScoringJob job = run.publishNext(Instant.EPOCH);
    assertThat(run.overdue(Instant.EPOCH.plusSeconds(1))).containsExactly(job);
    run.stopResending(job, "shard 0 got no result in 3 attempts");
    assertThat(run.overdue(Instant.EPOCH.plusSeconds(100))).isEmpty();
    assertThat(run.whyWaiting()).contains("shard 0 got no result in 3 attempts");
    assertThat(run.accept(ok(job))).as("a late answer").isTrue();
    assertThat(run.complete()).isTrue();
  }
}
