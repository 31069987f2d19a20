package io.evalfleet.dispatcher.plan;

/** A contiguous row range of a golden subset: rows {@code start .. start + count - 1}. */
public record Shard(int index, long start, int count) {
  public Shard {
    if (index < 0 || start < 0 || count <= 0) {
      throw new IllegalArgumentException(
          "bad shard: index " + index + ", start " + start + ", count " + count);
    }
  }

  public long end() {
    return start + count;
  }
}
