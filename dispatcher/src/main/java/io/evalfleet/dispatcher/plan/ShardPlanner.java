package io.evalfleet.dispatcher.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a golden subset into bounded shards of contiguous rows. Every shard has at most {@code
 * maxRows} rows; when the rows' costs are known (a causal LM's tokens), also at most {@code
 * maxTokens} tokens (or one row, when a single row costs more), so that a subset of long rows
 * spreads over the fleet instead of landing on one worker.
 *
 * <p>Shards follow row-group boundaries where they can, so that a worker decodes only the row
 * groups it needs: consecutive small row groups are packed into one shard (a job has fixed costs,
 * and texts batch by length only within a job), and a row group larger than a shard is split; by
 * rows alone into the fewest shards, of sizes that differ by at most one.
 */
public final class ShardPlanner {
  private final int maxRows;
  private final long maxTokens;

  public ShardPlanner(int maxRows) {
    this(maxRows, Long.MAX_VALUE);
  }

  public ShardPlanner(int maxRows, long maxTokens) {
    if (maxRows <= 0 || maxTokens <= 0) {
      throw new IllegalArgumentException(
          "shard bounds must be positive, got " + maxRows + " rows, " + maxTokens + " tokens");
    }
    this.maxRows = maxRows;
    this.maxTokens = maxTokens;
  }

  /** Shards bounded by rows only. */
  public List<Shard> plan(List<Long> rowGroupSizes) {
    List<Shard> shards = new ArrayList<>();
    long groupStart = 0;
    long packStart = 0;
    long packRows = 0;
    for (long groupRows : rowGroupSizes) {
      if (packRows > 0 && packRows + groupRows > maxRows) {
        shards.add(new Shard(shards.size(), packStart, (int) packRows));
        packRows = 0;
      }
      if (groupRows <= maxRows) {
        if (packRows == 0) {
          packStart = groupStart;
        }
        packRows += groupRows;
        groupStart += groupRows;
        continue;
      }
      long pieces = (groupRows + maxRows - 1) / maxRows;
      long offset = 0;
      for (long p = 0; p < pieces; p++) {
        int rows = (int) (groupRows / pieces + (p < groupRows % pieces ? 1 : 0));
        shards.add(new Shard(shards.size(), groupStart + offset, rows));
        offset += rows;
      }
      groupStart += groupRows;
    }
    if (packRows > 0) {
      shards.add(new Shard(shards.size(), packStart, (int) packRows));
    }
    return shards;
  }

  /**
   * Shards bounded by rows and by tokens: {@code rowTokens[i]} is the work of row {@code i} in
   * tokens fed to the model (see {@link #windowedTokens}).
   */
  public List<Shard> plan(List<Long> rowGroupSizes, long[] rowTokens) {
    long rows = rowGroupSizes.stream().mapToLong(Long::longValue).sum();
    if (rowTokens.length != rows) {
      throw new IllegalArgumentException(
          "costs for " + rowTokens.length + " rows, but the subset has " + rows);
    }
    List<Shard> shards = new ArrayList<>();
    long start = 0;
    int count = 0;
    long tokens = 0;
    long row = 0;
    for (long groupRows : rowGroupSizes) {
      // A row group that does not fit in what is left of the shard starts a new one.
      if (count > 0 && count + groupRows > maxRows) {
        shards.add(new Shard(shards.size(), start, count));
        count = 0;
      }
      for (long end = row + groupRows; row < end; row++) {
        long cost = rowTokens[(int) row];
        if (count > 0 && (count == maxRows || tokens + cost > maxTokens)) {
          shards.add(new Shard(shards.size(), start, count));
          count = 0;
        }
        if (count == 0) {
          start = row;
          tokens = 0;
        }
        count++;
        tokens += cost;
      }
    }
    if (count > 0) {
      shards.add(new Shard(shards.size(), start, count));
    }
    return shards;
  }

  /**
   * The tokens a causal LM is fed for a row of {@code length} tokens: the row itself when it fits
   * the context, else one full window plus one more per {@code stride} tokens that follow.
   */
  public static long windowedTokens(long length, int maxSeqLen, int stride) {
    if (length <= maxSeqLen) {
      return Math.max(1, length);
    }
    long extraWindows = (length - maxSeqLen + stride - 1) / stride;
    return (long) maxSeqLen * (1 + extraWindows);
  }
}
