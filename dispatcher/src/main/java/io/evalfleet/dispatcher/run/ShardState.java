package io.evalfleet.dispatcher.run;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import io.evalfleet.common.contract.ScoringEnvelope;
import io.evalfleet.common.contract.ShardResult;
import io.evalfleet.common.kafka.JsonSerde;
import java.time.Instant;
import org.apache.kafka.common.serialization.Serde;

/**
 * Where one shard of a run stands, kept in the {@code shards} store under its job id: its row
 * range, the attempt last sent and when, and whether it waits for a paused dependency. Its result,
 * once accepted, is kept apart (in {@code shard-results}), so that scans for overdue jobs stay
 * small.
 */
@JsonAutoDetect(
    fieldVisibility = Visibility.ANY,
    getterVisibility = Visibility.NONE,
    isGetterVisibility = Visibility.NONE,
    setterVisibility = Visibility.NONE)
public final class ShardState {
  public static final Serde<ShardState> SERDE = JsonSerde.of(ShardState.class);

  public enum Status {
    /** Planned, not published yet. */
    PLANNED,
    /** Published and unanswered. */
    IN_FLIGHT,
    /** Answered with a dependency unavailable: published again at {@code releaseAt}. */
    PAUSED,
    /** Scored; its result is in the {@code shard-results} store. */
    DONE
  }

  private int index;
  private long rowStart;
  private int rowCount;
  private Status status = Status.PLANNED;
  private int attempt;
  private Instant sentAt;
  private Instant releaseAt;
  private int unavailableRetries;

  /** Sent for the last time: a late answer is still taken, but it is not sent again. */
  private boolean lastAttempt;

  // Where a done shard was scored, for the run's provenance.
  private String provider;
  private String runtime;
  private String hardware;
  private String signature;
  private ScoringEnvelope envelope;

  ShardState() {}

  public ShardState(int index, long rowStart, int rowCount) {
    this.index = index;
    this.rowStart = rowStart;
    this.rowCount = rowCount;
  }

  public int index() {
    return index;
  }

  public long rowStart() {
    return rowStart;
  }

  public int rowCount() {
    return rowCount;
  }

  public Status status() {
    return status;
  }

  public int attempt() {
    return attempt;
  }

  public Instant sentAt() {
    return sentAt;
  }

  public Instant releaseAt() {
    return releaseAt;
  }

  public int unavailableRetries() {
    return unavailableRetries;
  }

  public boolean lastAttempt() {
    return lastAttempt;
  }

  /** Counts the shard as published (attempt {@code attempt}) at {@code now}. */
  public void sent(int attempt, Instant now) {
    this.status = Status.IN_FLIGHT;
    this.attempt = attempt;
    this.sentAt = now;
    this.releaseAt = null;
  }

  /** Holds the shard back until {@code at}: its dependency was unavailable. */
  public void pauseUntil(Instant at) {
    this.status = Status.PAUSED;
    this.releaseAt = at;
    this.unavailableRetries++;
  }

  public void stopResending() {
    this.lastAttempt = true;
  }

  /** The shard is scored, as {@code result} says, and where. */
  public void done(ShardResult result) {
    this.status = Status.DONE;
    this.sentAt = null;
    this.releaseAt = null;
    this.provider = result.executionProvider();
    if (result.environment() != null) {
      this.runtime = result.environment().onnxRuntime();
      this.hardware = result.environment().hardware();
      this.signature = result.environment().modelSignature();
      this.envelope = result.environment().envelope();
    }
  }

  public String provider() {
    return provider;
  }

  public String runtime() {
    return runtime;
  }

  public String hardware() {
    return hardware;
  }

  public String signature() {
    return signature;
  }

  /** The envelope the shard was scored under, or null (not scored yet, or not reported). */
  public ScoringEnvelope envelope() {
    return envelope;
  }
}
