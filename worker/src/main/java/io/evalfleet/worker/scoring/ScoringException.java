package io.evalfleet.worker.scoring;

import io.evalfleet.common.contract.ShardError;

/**
 * A shard that cannot be scored. {@link #kind()} says whether scoring again could help
 * ({@link ShardError#TRANSIENT}) or the inputs are at fault ({@link ShardError#INPUT}).
 */
public final class ScoringException extends Exception {
  private final String kind;

  public ScoringException(String kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public static ScoringException input(String message) {
    return new ScoringException(ShardError.INPUT, message, null);
  }

  public static ScoringException input(String message, Throwable cause) {
    return new ScoringException(ShardError.INPUT, message, cause);
  }

  public String kind() {
    return kind;
  }

  public ShardError toShardError() {
    return new ShardError(kind, getMessage());
  }
}
