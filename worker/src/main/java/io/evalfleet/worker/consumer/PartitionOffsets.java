package io.evalfleet.worker.consumer;

import java.util.TreeSet;

/**
 * The offsets of one partition that were handed out and which of them are done, so that only the
 * highest contiguous completed offset is committed: a job that finishes early never lets the
 * commit skip past a job still running. Used by the poll thread only.
 */
final class PartitionOffsets {
  private final TreeSet<Long> pending = new TreeSet<>();
  private final TreeSet<Long> done = new TreeSet<>();
  private long committable = -1;

  void started(long offset) {
    pending.add(offset);
  }

  void completed(long offset) {
    if (pending.contains(offset)) {
      done.add(offset);
    }
  }

  /**
   * The offset to commit (one past the last record of the contiguous done prefix), or -1 if
   * nothing new can be committed since the last call.
   */
  long advance() {
    long next = -1;
    while (!pending.isEmpty() && done.contains(pending.first())) {
      long offset = pending.pollFirst();
      done.remove(offset);
      next = offset + 1;
    }
    if (next > committable) {
      committable = next;
      return next;
    }
    return -1;
  }

  int inFlight() {
    return pending.size() - done.size();
  }
}
