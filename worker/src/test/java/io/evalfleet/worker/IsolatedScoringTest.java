package io.evalfleet.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.config.FleetConfig;
import io.evalfleet.common.contract.ArtifactRef;
import io.evalfleet.common.contract.ScoringJob;
import io.evalfleet.common.contract.SubsetRef;
import io.evalfleet.common.task.Task;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scoring a job alone in a real child JVM: what each way of ending tells, and what it does not. */
class IsolatedScoringTest {
  @TempDir Path cache;

  static ScoringJob job(int shard, String model) {
    ArtifactRef ref = new ArtifactRef(model, "a".repeat(64));
    return ScoringJob.builder()
        .jobId(ScoringJob.jobId("run-1", shard))
        .runId("run-1")
        .eventId("ev")
        .model("m")
        .version("v")
        .task(Task.EMBEDDING)
        .artifact(ref)
        .tokenizer(ref)
        .goldenSubset(new SubsetRef("/nowhere/s.parquet", "b".repeat(64), null, Map.of()))
        .shardIndex(shard)
        .shardCount(5)
        .rowStart(40L * shard)
        .rowCount(40)
        .metrics(List.of("cosine"))
        .attempt(1)
        .deadline(Instant.now())
        .build();
  }

  IsolatedScoring fake(String heap, String... jvmOptions) {
    List<String> command =
        new ArrayList<>(
            List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(List.of(jvmOptions));
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), FakeScoring.class.getName()));
    return new IsolatedScoring(
        command, heap, FleetConfig.defaults(), "worker-t", cache, Duration.ZERO);
  }

  @Test
  void anAnswerIsTheJobsResult() {
    Isolation.Outcome outcome =
        fake("-Xmx64m", "-Xmx64m").score(job(FakeScoring.ANSWERS, "/m.onnx"));
    assertThat(outcome).isInstanceOf(Isolation.Answered.class);
    assertThat(((Isolation.Answered) outcome).result().jobId())
        .isEqualTo(ScoringJob.jobId("run-1", 0));
  }

  @Test
  void runningOutOfMemoryIsEvidenceNamingTheHeap() {
    Isolation.Outcome outcome =
        fake("-Xmx32m", "-Xmx32m", "-XX:+ExitOnOutOfMemoryError")
            .score(job(FakeScoring.RUNS_OUT_OF_MEMORY, "/m.onnx"));
    assertThat(outcome).isEqualTo(new Isolation.Died("ran out of memory (-Xmx32m), exit status 3"));
  }

  @Test
  void aKillIsEvidenceNamingTheSignal() {
    Isolation.Outcome outcome =
        fake("-Xmx64m", "-Xmx64m").score(job(FakeScoring.IS_KILLED, "/m.onnx"));
    assertThat(outcome).isEqualTo(new Isolation.Died("was killed by signal 9 (SIGKILL)"));
  }

  @Test
  void aFailingExitIsEvidenceNamingItsLastWords() {
    Isolation.Outcome outcome = fake("-Xmx64m", "-Xmx64m").score(job(FakeScoring.FAILS, "/m.onnx"));
    assertThat(outcome)
        .isEqualTo(
            new Isolation.Died("exited with status 2; its last words: the row reader broke"));
  }

  @Test
  void aWorkerThatClosesMeanwhileBlamesNothing() throws Exception {
    IsolatedScoring isolation = fake("-Xmx64m", "-Xmx64m");
    CompletableFuture<Isolation.Outcome> outcome =
        CompletableFuture.supplyAsync(() -> isolation.score(job(FakeScoring.HANGS, "/m.onnx")));
    Thread.sleep(1_000);
    isolation.close();
    assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(Isolation.Abandoned.class);
  }

  @Test
  void theChildBuildsTheWorkersScorersFromItsSettingsAndAnswersWithoutKafka() {
    // Nothing listens on this address: a child that opened a Kafka client would hang or fail, not
    // answer.
    FleetConfig config =
        FleetConfig.defaults()
            .with(Map.of("kafka.bootstrap.servers", "127.0.0.1:1", "worker.intra-op-threads", "1"));
    IsolatedScoring isolation =
        new IsolatedScoring(
            IsolatedScoring.javaCommand(ScoreOneJob.class),
            "-Xmx?",
            config,
            "worker-t",
            cache,
            Duration.ZERO);
    Isolation.Outcome outcome = isolation.score(job(0, cache.resolve("missing.onnx").toString()));
    assertThat(outcome).isInstanceOf(Isolation.Answered.class);
    var result = ((Isolation.Answered) outcome).result();
    assertThat(result.workerId()).isEqualTo("worker-t");
    assertThat(result.failed()).isTrue();
    assertThat(result.error().message())
        .as("scored as the worker scores: the subset is read first")
        .contains("/nowhere/s.parquet");
  }
}
