package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.Flag;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decision queue alone: a run's rows assembled from the run book, decided, and handed back. */
class DecisionQueueTest {
  @TempDir Path dir;
  StepBench bench;
  DecisionQueue queue;

  @BeforeEach
  void start() {
    bench = new StepBench(dir);
    queue = new DecisionQueue(bench.book);
  }

  /** A model's first version, its one shard of 10 rows scored (cosine 0.9) and its result kept. */
  RunState scoredFirstVersion(String version) {
    RunState run = bench.scoringRun("m", version, 1);
    ShardState shard = bench.send(run);
    double[] cosine = new double[10];
    double[] gold = new double[10];
    for (int i = 0; i < 10; i++) {
      cosine[i] = 0.9;
      gold[i] = i;
    }
    ShardResult result =
        ShardResult.builder()
            .jobId(ScoringJob.jobId(run.runId(), 0))
            .runId(run.runId())
            .shardIndex(0)
            .rowStart(0)
            .rowCount(10)
            .values(Map.of("cosine", cosine, "gold", gold))
            .workerId("w1")
            .executionProvider("cpu")
            .durationMs(5)
            .attempt(1)
            .build();
    shard.done(result);
    bench.book.saveShard(result.jobId(), shard);
    bench.book.recordShardResult(result);
    run.closed();
    run.count(shard);
    run.decideAgainst(null);
    bench.book.save(run);
    return run;
  }

  @Test
  void aSmallRunIsDecidedOnTheCallingThreadAndHandedBack() {
    RunState run = scoredFirstVersion("v1");
    queue.add(run);

    assertThat(queue.startNext()).isInstanceOf(DecisionQueue.Running.class);
    DecisionQueue.Decided decided = queue.nextDecided();

    assertThat(decided.run()).isSameAs(run);
    assertThat(decided.outcome().failure()).isNull();
    assertThat(decided.outcome().flag()).isEqualTo(Flag.WARN);
    assertThat(decided.outcome().rows()).isEqualTo(10);
    assertThat(decided.outcome().pinned().version())
        .as("a first version becomes the baseline")
        .isEqualTo("v1");
    assertThat(queue.nextDecided()).isNull();
    assertThat(bench.registry.find("evalfleet.dispatcher.decision").timer().count()).isEqualTo(1);
  }

  @Test
  void aDecisionForARunEndedMeanwhileIsDropped() {
    RunState run = scoredFirstVersion("v1");
    queue.add(run);
    queue.startNext();

    bench.book.forget(run.runId());

    assertThat(queue.nextDecided()).isNull();
    assertThat(queue.startNext()).isInstanceOf(DecisionQueue.NoneStarted.class);
  }

  @Test
  void runsLeftDecidingByAPreviousOwnerAreQueuedAgainOnReload() {
    RunState run = scoredFirstVersion("v1");

    queue.reload();

    assertThat(queue.startNext())
        .isInstanceOfSatisfying(
            DecisionQueue.Running.class,
            running -> assertThat(running.run().runId()).isEqualTo(run.runId()));
  }

  @Test
  void nothingStartsWhenNoRunIsReady() {
    assertThat(queue.startNext()).isInstanceOf(DecisionQueue.NoneStarted.class);
    assertThat(queue.nextDecided()).isNull();
  }
}
