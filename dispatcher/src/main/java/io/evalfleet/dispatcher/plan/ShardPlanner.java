package io.evalfleet.dispatcher.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a golden subset into bounded shards. Row groups are natural boundaries (a worker then
 * decodes only the row groups it needs): each row group is split into the fewest shards of at
 * most {@code maxRows} rows, of sizes that differ by at most one.
 */
public final class ShardPlanner {
  private final int maxRows;

  public ShardPlanner(int maxRows) {
    if (maxRows <= 0) {
      throw new IllegalArgumentException("maxRows must be positive, got " + maxRows);
    }
    this.maxRows = maxRows;
  }

  public List<Shard> plan(List<Long> rowGroupSizes) {
    List<Shard> shards = new ArrayList<>();
    long groupStart = 0;
    for (long groupRows : rowGroupSizes) {
      long pieces = (groupRows + maxRows - 1) / maxRows;
      long offset = 0;
      for (long p = 0; p < pieces; p++) {
        int rows = (int) (groupRows / pieces + (p < groupRows % pieces ? 1 : 0));
        shards.add(new Shard(shards.size(), groupStart + offset, rows));
        offset += rows;
      }
      groupStart += groupRows;
    }
    return shards;
  }
}
