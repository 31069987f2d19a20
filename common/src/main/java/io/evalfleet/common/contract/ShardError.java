package io.evalfleet.common.contract;

import io.evalfleet.common.failure.FailureKind;

/**
 * Why a shard could not be scored.
 *
 * @param kind what kind of failure it was, which decides whether the job is tried again
 * @param message what went wrong, naming the file, column, row or dependency
 */
public record ShardError(FailureKind kind, String message) {
  public ShardError {
    Checks.required(kind, "kind");
    Checks.requiredText(message, "message");
  }
}
