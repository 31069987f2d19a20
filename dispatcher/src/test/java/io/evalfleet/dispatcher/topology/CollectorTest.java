package io.evalfleet.dispatcher.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.failure.FailureKind;
import io.evalfleet.common.kafka.DeadLetters;
import io.evalfleet.common.kafka.Topics;
import io.evalfleet.dispatcher.run.RunState;
import io.evalfleet.dispatcher.run.ShardState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Result collection alone: what it keeps in the run book, and what it hands back to the processor.
 */
class CollectorTest {
  @TempDir Path dir;
  StepBench bench;
  Collector collector;
  long offset;

  @BeforeEach
  void start() {
    bench = new StepBench(dir);
    collector = new Collector(bench.book);
  }

  Collector.Collected collect(String key, byte[] value) {
    bench.context.setRecordMetadata(Topics.RESULTS, 0, offset++);
    return collector.onResult(
        new Record<>(key, value, bench.context.currentSystemTimeMs()),
        bench.context.recordMetadata().orElseThrow());
  }

  Collector.Collected collect(ShardResult result) {
    return collect("m", Json.write(result));
  }

  static ShardResult scored(RunState run, ShardState shard, long rowStart, int rowCount) {
    return ShardResult.builder()
        .jobId(ScoringJob.jobId(run.runId(), shard.index()))
        .runId(run.runId())
        .shardIndex(shard.index())
        .rowStart(rowStart)
        .rowCount(rowCount)
        .values(Map.of("cosine", new double[rowCount], "gold", new double[rowCount]))
        .workerId("w1")
        .executionProvider("cpu")
        .durationMs(5)
        .attempt(shard.attempt())
        .build();
  }

  static ShardResult failed(RunState run, ShardState shard, FailureKind kind) {
    return ShardResult.builder()
        .jobId(ScoringJob.jobId(run.runId(), shard.index()))
        .runId(run.runId())
        .shardIndex(shard.index())
        .rowStart(shard.rowStart())
        .rowCount(shard.rowCount())
        .workerId("w1")
        .durationMs(5)
        .attempt(shard.attempt())
        .error(new ShardError(kind, "model store unreachable"))
        .build();
  }

  @Test
  void theFirstAnswerToAJobInFlightIsKeptTypedAndItsRunCountsIt() {
    RunState run = bench.scoringRun("m", "v1", 2);
    ShardState shard = bench.send(run);

    Collector.Collected collected = collect(scored(run, shard, 0, 10));

    assertThat(collected)
        .isInstanceOfSatisfying(
            Collector.Accepted.class, accepted -> assertThat(accepted.run()).isSameAs(run));
    assertThat(run.open()).isZero();
    assertThat(run.coverage().shardsDone()).isEqualTo(1);
    assertThat(run.complete()).isFalse();
    assertThat(bench.book.shard(ScoringJob.jobId(run.runId(), 0)).status())
        .isEqualTo(ShardState.Status.DONE);
    List<ShardResult> kept = new ArrayList<>();
    bench.book.forEachResult(run.runId(), kept::add);
    assertThat(kept)
        .singleElement()
        .satisfies(
            result -> {
              assertThat(result.jobId()).isEqualTo(ScoringJob.jobId(run.runId(), 0));
              assertThat(result.values().get("cosine")).hasSize(10);
            });
    assertThat(bench.count("evalfleet.results.accepted")).isEqualTo(1);
  }

  @Test
  void aSecondAnswerToTheSameJobIsCountedAsADuplicateAndIgnored() {
    RunState run = bench.scoringRun("m", "v1", 2);
    ShardState shard = bench.send(run);
    collect(scored(run, shard, 0, 10));

    assertThat(collect(scored(run, shard, 0, 10))).isInstanceOf(Collector.Ignored.class);
    assertThat(bench.count("evalfleet.results.duplicate")).isEqualTo(1);
    assertThat(run.coverage().shardsDone()).isEqualTo(1);
  }

  @Test
  void anUnreadableResultIsDeadLetteredWithWhereItCameFrom() {
    byte[] garbage = "not a result".getBytes(StandardCharsets.UTF_8);

    assertThat(collect("m", garbage)).isInstanceOf(Collector.Ignored.class);

    assertThat(bench.forwarded(DispatcherTopology.DEAD_LETTERS_SINK))
        .singleElement()
        .satisfies(
            letter -> {
              assertThat(letter.value()).isEqualTo(garbage);
              assertThat(
                      new String(
                          letter.headers().lastHeader(DeadLetters.ORIGINAL_TOPIC).value(),
                          StandardCharsets.UTF_8))
                  .isEqualTo(Topics.RESULTS);
            });
  }

  @Test
  void anAnswerForOtherRowsFailsTheRunNamingBoth() {
    RunState run = bench.scoringRun("m", "v1", 2);
    ShardState shard = bench.send(run);

    Collector.Collected collected = collect(scored(run, shard, 5, 10));

    assertThat(collected)
        .isInstanceOfSatisfying(
            Collector.Failed.class,
            failed -> {
              assertThat(failed.answered()).isTrue();
              assertThat(failed.reason())
                  .isEqualTo("shard 0 was answered for rows 5+10, but it holds rows 0+10");
            });
    assertThat(run.open()).isZero();
  }

  @Test
  void anUnavailableDependencyPausesTheShardAndKeepsItsSlot() {
    RunState run = bench.scoringRun("m", "v1", 2);
    ShardState shard = bench.send(run);

    assertThat(collect(failed(run, shard, FailureKind.UNAVAILABLE)))
        .isInstanceOf(Collector.Retrying.class);

    ShardState paused = bench.book.shard(ScoringJob.jobId(run.runId(), 0));
    assertThat(paused.status()).isEqualTo(ShardState.Status.PAUSED);
    assertThat(paused.releaseAt()).isEqualTo(StepBench.START.plusSeconds(1));
    assertThat(run.open()).isEqualTo(1);
    assertThat(run.whyWaiting()).contains("model store unreachable");
  }

  @Test
  void aShardThatCannotBeScoredFailsTheRunWithItsRowsAndWhy() {
    RunState run = bench.scoringRun("m", "v1", 2);
    ShardState shard = bench.send(run);

    Collector.Collected collected = collect(failed(run, shard, FailureKind.BUG));

    assertThat(collected)
        .isInstanceOfSatisfying(
            Collector.Failed.class,
            failed -> {
              assertThat(failed.answered()).isFalse();
              assertThat(failed.reason())
                  .startsWith("shard 0 (rows 0-9) could not be scored")
                  .endsWith("model store unreachable");
            });
  }
}
