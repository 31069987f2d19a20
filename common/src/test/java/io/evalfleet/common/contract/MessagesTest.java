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
  static final SubsetRef SUBSET = new SubsetRef("file:///g/s.parquet", "c".repeat(64), "v1", Map.of());

  @Test
  void jobIdsAreDeterministicAndOrdered() {
    assertThat(ScoringJob.jobId("run-1", 7)).isEqualTo("run-1/00007");
    assertThat(ScoringJob.jobId("run-1", 7)).isEqualTo(ScoringJob.jobId("run-1", 7));
    assertThat(ScoringJob.jobId("run-1", 9)).isLessThan(ScoringJob.jobId("run-1", 10));
  }

  @Test
  void scoringJobRoundTrips() {
    ScoringJob job = new ScoringJob(1, "run-1/00000", "run-1", "ev", "m", "v", Task.EMBEDDING, MODEL, MODEL, SUBSET,
        256, null, 0, 3, 0, 64, List.of("cosine"), 1, Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(Json.read(Json.write(job), ScoringJob.class)).isEqualTo(job);
  }

  @Test
  void shardResultRoundTripsItsPerRowValues() {
    ShardResult result = new ShardResult(1, "run-1/00001", "run-1", 1, 64, 3,
        Map.of("cosine", new double[] {0.1, 0.2, 0.75530001}), "w1", "cpu", "padded-batches", null, 12, 1, null);
    ShardResult back = Json.read(Json.write(result), ShardResult.class);
    assertThat(back).isEqualTo(result);
    assertThat(back.values().get("cosine")).containsExactly(0.1, 0.2, 0.75530001);
  }

  @Test
  void shardResultMustHoldOneValuePerRow() {
    assertThatThrownBy(() -> new ShardResult(1, "run-1/00001", "run-1", 1, 64, 3,
        Map.of("cosine", new double[] {0.1}), "w1", "cpu", null, null, 12, 1, null))
        .isInstanceOfSatisfying(ContractViolation.class, v -> assertThat(v.field()).isEqualTo("values.cosine"));
  }

  @Test
  void driftFlagOmitsAbsentFieldsOnTheWire() {
    DriftFlag flag = new DriftFlag(1, "run-1", "ev", "m", "v", null, Flag.ERROR, null, List.of("artifact: no such file"),
        null, null, null, Instant.parse("2026-01-01T00:00:00Z"), null);
    String json = Json.writeString(flag);
    assertThat(json).contains("\"flag\":\"ERROR\"", "\"reasons\":[\"artifact: no such file\"]")
        .doesNotContain("baseline_version", "coverage");
    assertThat(Json.read(json.getBytes(), DriftFlag.class)).isEqualTo(flag);
  }

  @Test
  void missingNumberInAJobIsReportedAsRequired() {
    String json = "{\"schema_version\": 1, \"job_id\": \"r/1\", \"run_id\": \"r\", \"shard_index\": 1}";
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Json.read(json.getBytes(), ScoringJob.class))
        .isInstanceOfSatisfying(ContractViolation.class, v -> assertThat(v.problem()).isEqualTo("is required"));
  }
}
