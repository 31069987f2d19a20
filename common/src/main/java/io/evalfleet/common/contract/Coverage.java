package io.evalfleet.common.contract;

/** How much of a run was scored. */
public record Coverage(int shardsDone, int shardsTotal, long rowsScored, long rowsTotal) {
  public double fraction() {
    return rowsTotal == 0 ? 0 : (double) rowsScored / rowsTotal;
  }
}
