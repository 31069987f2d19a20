package io.evalfleet.common.kafka.consume;

import java.util.Map;
import java.util.TreeMap;

/**
 * How often each unfinished record of one partition was started, kept in the metadata of the
 * partition's committed offset ({@code d=<offset>:<count>,...}) so that it outlives the processes
 * that a record kills. Only offsets at or past the committed position are kept, and at most {@link
 * #MAX_ENTRIES}, so the metadata stays within the broker's limit. Used by the poll thread.
 */
final class DeliveryCounts {
  static final int MAX_ENTRIES = 64;
  private static final String PREFIX = "d=";

  private final TreeMap<Long, Integer> started = new TreeMap<>();

  /** Counts one more start of {@code offset}; returns the count, this one included. */
  int started(long offset) {
    return started.merge(offset, 1, Integer::sum);
  }

  /** Forgets {@code offset}: its handling ended, so it did not stop the process. */
  void finished(long offset) {
    started.remove(offset);
  }

  /** The metadata to commit with {@code position}: the counts of offsets not yet behind it. */
  String encode(long position) {
    started.headMap(position).clear();
    while (started.size() > MAX_ENTRIES) {
      started.pollLastEntry();
    }
    StringBuilder out = new StringBuilder(PREFIX);
    for (Map.Entry<Long, Integer> entry : started.entrySet()) {
      if (out.length() > PREFIX.length()) {
        out.append(',');
      }
      out.append(entry.getKey()).append(':').append(entry.getValue());
    }
    return out.toString();
  }

  /** The counts in committed metadata; none when it holds none (or is not ours). */
  static DeliveryCounts decode(String metadata) {
    DeliveryCounts deliveries = new DeliveryCounts();
    if (metadata == null || !metadata.startsWith(PREFIX)) {
      return deliveries;
    }
    for (String entry : metadata.substring(PREFIX.length()).split(",")) {
      int colon = entry.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      try {
        deliveries.started.put(
            Long.parseLong(entry.substring(0, colon)),
            Integer.parseInt(entry.substring(colon + 1)));
      } catch (NumberFormatException e) {
        // a foreign or damaged entry counts as no delivery
      }
    }
    return deliveries;
  }
}
