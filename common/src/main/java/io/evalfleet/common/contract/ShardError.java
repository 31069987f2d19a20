package io.evalfleet.common.contract;

/**
 * Why a shard could not be scored.
 *
 * @param kind {@code input} when the job's inputs are at fault (missing file, digest mismatch, wrong
 *     columns: scoring again cannot help); {@code transient} when a retry may succeed
 * @param message what went wrong, naming the file, column or row
 */
public record ShardError(String kind, String message) {
  public static final String INPUT = "input";
  public static final String TRANSIENT = "transient";

  public ShardError {
    Checks.requiredText(kind, "kind");
    Checks.requiredText(message, "message");
  }
}
