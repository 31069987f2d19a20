package io.evalfleet.dispatcher.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a golden subset into bounded shards of at most {@code maxRows} rows along row-group
 * boundaries, so that a worker decodes only the row groups it needs: consecutive small row groups
 * are packed into one shard (a job has fixed costs, and texts batch by length only within a job),
 * and a row group larger than {@code maxRows} is split into the fewest shards, of sizes that differ
 * by at most one.
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
}
