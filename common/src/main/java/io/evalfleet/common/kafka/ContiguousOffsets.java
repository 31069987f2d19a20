package io.evalfleet.common.kafka;

import java.util.TreeSet;

/**
 * The offsets of one partition that were handed out and which of them are done, so that only the
 * highest contiguous completed offset is committed: a record finished early never lets the commit
 * skip past one still in progress. Not thread-safe: used by a consumer's poll thread.
 */
public final class ContiguousOffsets {
  private final TreeSet<Long> pending = new TreeSet<>();
  private final TreeSet<Long> done = new TreeSet<>();
  private long committable = -1;

  public void started(long offset) {
    pending.add(offset);
  }

  public void completed(long offset) {
    if (pending.contains(offset)) {
      done.add(offset);
    }
  }

  /**
   * The offset to commit (one past the last record of the contiguous done prefix), or -1 if nothing
   * new can be committed since the last call.
   */
  public long advance() {
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

  /** The earliest offset handed out and not done, or -1 when there is none. */
  public long firstUnfinished() {
    for (long offset : pending) {
      if (!done.contains(offset)) {
        return offset;
      }
    }
    return -1;
  }

  public int inFlight() {
    return pending.size() - done.size();
  }
}
