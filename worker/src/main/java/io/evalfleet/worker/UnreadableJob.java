package io.evalfleet.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.evalfleet.common.contract.ContractViolation;
import io.evalfleet.common.contract.Json;
import io.evalfleet.common.contract.ShardError;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.failure.FailureKind;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * A job that breaks its contract can still name its run: then the run is told (through a failed
 * shard result) instead of waiting for its deadline.
 */
final class UnreadableJob {
  private UnreadableJob() {}

  /** A failed result for a job's run, with the model it is keyed by. */
  record Failure(String model, ShardResult result) {}

  static Optional<Failure> failure(byte[] value, ContractViolation cause) {
    try {
      JsonNode tree = Json.mapper().readTree(value);
      if (tree == null
          || !tree.path("job_id").isTextual()
          || !tree.path("run_id").isTextual()
          || !tree.path("model").isTextual()
          || !tree.path("shard_index").canConvertToInt()) {
        return Optional.empty();
      }
      ShardResult result =
          ShardResult.builder()
              .jobId(tree.get("job_id").asText())
              .runId(tree.get("run_id").asText())
              .shardIndex(tree.get("shard_index").asInt())
              .rowStart(tree.path("row_start").asLong(0))
              .rowCount(tree.path("row_count").asInt(0))
              .values(Map.of())
              .attempt(tree.path("attempt").asInt(1))
              .error(
                  new ShardError(
                      FailureKind.BAD_INPUT, "scoring job is unreadable: " + cause.getMessage()))
              .build();
      return Optional.of(new Failure(tree.get("model").asText(), result));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
