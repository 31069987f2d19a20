package io.evalfleet.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evalfleet.common.task.Task;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessagesTest {
  static final ArtifactRef MODEL = new ArtifactRef("file:///m/model.onnx", "b".repeat(64));
  static final SubsetRef SUBSET =
      new SubsetRef("file:///g/s.parquet", "c".repeat(64), "v1", Map.of());

  @Test
  void jobIdsAreDeterministicAndOrdered() {
    assertThat(ScoringJob.jobId("run-1", 7)).isEqualTo("run-1/00007");
    assertThat(ScoringJob.jobId("run-1", 7)).isEqualTo(ScoringJob.jobId("run-1", 7));
    assertThat(ScoringJob.jobId("run-1", 9)).isLessThan(ScoringJob.jobId("run-1", 10));
  }

  @Test
  void scoringJobRoundTrips() {
    ScoringJob job =
        ScoringJob.builder()
            .jobId("run-1/00000")
            .runId("run-1")
            .eventId("ev")
            .model("m")
            .version("v")
            .task(Task.EMBEDDING)
            .artifact(MODEL)
            .tokenizer(MODEL)
            .goldenSubset(SUBSET)
            .maxSeqLen(256)
            .shardIndex(0)
            .shardCount(3)
            .rowStart(0)
            .rowCount(64)
            .metrics(List.of("cosine"))
            .attempt(1)
            .deadline(Instant.parse("2026-01-01T00:00:00Z"))
            .build();
    assertThat(Json.read(Json.write(job), ScoringJob.class)).isEqualTo(job);
  }

  @Test
  void shardResultRoundTripsItsPerRowValues() {
    ShardResult result =
        ShardResult.builder()
            .jobId("run-1/00001")
            .runId("run-1")
            .shardIndex(1)
            .rowStart(64)
            .rowCount(3)
            .values(Map.of("cosine", new double[] {0.1, 0.2, 0.75530001}))
            .workerId("w1")
            .executionProvider("cpu")
            .batching("padded-batches")
            .durationMs(12)
            .attempt(1)
            .build();
    ShardResult back = Json.read(Json.write(result), ShardResult.class);
    assertThat(back).isEqualTo(result);
    assertThat(back.values().get("cosine")).containsExactly(0.1, 0.2, 0.75530001);
  }

  @Test
  void shardResultMustHoldOneValuePerRow() {
    assertThatThrownBy(
            () ->
                ShardResult.builder()
                    .jobId("run-1/00001")
                    .runId("run-1")
                    .shardIndex(1)
                    .rowStart(64)
                    .rowCount(3)
                    .values(Map.of("cosine", new double[] {0.1}))
                    .workerId("w1")
                    .executionProvider("cpu")
                    .durationMs(12)
                    .attempt(1)
                    .build())
        .isInstanceOfSatisfying(
            ContractViolation.class, v -> assertThat(v.field()).isEqualTo("values.cosine"));
  }

  @Test
  void driftFlagOmitsAbsentFieldsOnTheWire() {
    DriftFlag flag =
        DriftFlag.builder()
            .runId("run-1")
            .eventId("ev")
            .model("m")
            .version("v")
            .flag(Flag.ERROR)
            .reasons(List.of("artifact: no such file"))
            .decidedAt(Instant.parse("2026-01-01T00:00:00Z"))
            .build();
    String json = Json.writeString(flag);
    assertThat(json)
        .contains("\"flag\":\"ERROR\"", "\"reasons\":[\"artifact: no such file\"]")
        .doesNotContain("baseline_version", "coverage");
    assertThat(Json.read(json.getBytes(), DriftFlag.class)).isEqualTo(flag);
  }

  @Test
  void missingNumberInAJobIsReportedAsRequired() {
    String json =
        "{\"schema_version\": 1, \"job_id\": \"r/1\", \"run_id\": \"r\", \"shard_index\": 1}";
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Json.read(json.getBytes(), ScoringJob.class))
        .isInstanceOfSatisfying(
            ContractViolation.class, v -> assertThat(v.problem()).isEqualTo("is required"));
  }
}
