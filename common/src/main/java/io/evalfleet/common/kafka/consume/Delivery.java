package io.evalfleet.common.kafka.consume;

/**
 * One record handed to a {@link RecordHandler}, and how the handler reports on it to the {@link
 * CommitSafeLoop}. Exactly one of {@link #done()} and {@link #again()} ends it; later calls are
 * ignored. May be called from any thread.
 */
public interface Delivery {
  /**
   * Counts this delivery in the partition's committed offset metadata, durably, before the record
   * is worked on, and returns how often the record was delivered, this time included. A delivery
   * that stops the process is therefore on record for the next owner. Blocks until the poll thread
   * has committed the count (at most 30 s; 1 is returned when it could not be counted). Returns 1
   * when the loop does not count deliveries; must not be called on the poll thread of a counting
   * loop.
   */
  int start();

  /**
   * The work on the record ended without stopping the process (whatever its outcome): its count is
   * forgotten, durably, so that it is not held against the record when the process dies later.
   */
  void ended();

  /** The record is finished: its offset may be committed once every earlier one is. */
  void done();

  /**
   * The record is not finished (its result was not acknowledged, its work was cut short): its
   * offset stays uncommitted and the loop seeks back, so it and what follows are consumed again.
   */
  void again();
}
