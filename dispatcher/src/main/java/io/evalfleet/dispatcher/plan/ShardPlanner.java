package io.evalfleet.dispatcher.plan;

import io.evalfleet.common.contract.RowOrder;
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
   * Shards over the positions of a seeded row order (a sequential run), cut at block boundaries so
   * that each holds whole sampling units: at most {@code maxRows} rows and, when {@code rowTokens}
   * is given (by file row), at most {@code maxTokens} tokens. A block larger than that (a block of
   * whole row groups) is split into consecutive shards, as a large row group is in file order, by
   * rows into the fewest pieces of sizes that differ by at most one, or by rows and tokens (a look
   * leaves out a block it has only part of). Shard {@code i} holds the positions after shard {@code
   * i - 1}'s, so dispatching them in index order scores the order's prefix first.
   */
  public List<Shard> plan(RowOrder order, long[] rowTokens) {
    int rows = Math.toIntExact(order.rowsTotal());
    if (rowTokens != null && rowTokens.length != rows) {
      throw new IllegalArgumentException(
          "costs for " + rowTokens.length + " rows, but the subset has " + rows);
    }
    long[] fileRows = rowTokens == null ? null : order.rows(0, rows);
    long shuffled = order.shuffledRows();
    List<Shard> shards = new ArrayList<>();
    long start = 0;
    int count = 0;
    long tokens = 0;
    for (long position = 0; position < rows; ) {
      int step = position < shuffled ? order.unitRows() : 1;
      long cost = 0;
      if (fileRows != null) {
        for (int i = 0; i < step; i++) {
          cost += rowTokens[(int) fileRows[(int) position + i]];
        }
      }
      if (count > 0 && (count + step > maxRows || tokens + cost > maxTokens)) {
        shards.add(new Shard(shards.size(), start, count));
        count = 0;
      }
      if (step > maxRows || cost > maxTokens) {
        split(shards, position, step, fileRows, rowTokens);
        position += step;
        continue;
      }
      if (count == 0) {
        start = position;
        tokens = 0;
      }
      count += step;
      tokens += cost;
      position += step;
    }
    if (count > 0) {
      shards.add(new Shard(shards.size(), start, count));
    }
    return shards;
  }

  /**
   * Adds the shards of one block of {@code step} positions from {@code from} that fits no shard.
   */
  private void split(List<Shard> shards, long from, int step, long[] fileRows, long[] rowTokens) {
    if (rowTokens == null) {
      int pieces = (step + maxRows - 1) / maxRows;
      long offset = from;
      for (int p = 0; p < pieces; p++) {
        int rows = step / pieces + (p < step % pieces ? 1 : 0);
        shards.add(new Shard(shards.size(), offset, rows));
        offset += rows;
      }
      return;
    }
    long start = from;
    int count = 0;
    long tokens = 0;
    for (long position = from; position < from + step; position++) {
      long cost = rowTokens[(int) fileRows[(int) position]];
      if (count > 0 && (count == maxRows || tokens + cost > maxTokens)) {
        shards.add(new Shard(shards.size(), start, count));
        count = 0;
      }
      if (count == 0) {
        start = position;
        tokens = 0;
      }
      count++;
      tokens += cost;
    }
    shards.add(new Shard(shards.size(), start, count));
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
