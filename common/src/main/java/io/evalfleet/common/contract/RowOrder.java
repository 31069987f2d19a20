package io.evalfleet.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.evalfleet.common.storage.Storage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded order of a golden subset's rows, in which a sequential run scores them: its rows are cut
 * into {@code rows_total / unit_rows} blocks of {@code unit_rows} consecutive rows, the blocks are
 * shuffled by {@code seed} (Fisher–Yates over {@link SplittableRandom}, so any JVM gives the same
 * order), and the {@code rows_total mod unit_rows} rows left over, if any, come last, in file
 * order. Every prefix of the order that ends before them is a simple random sample of whole blocks,
 * which is what a confidence sequence over block sums needs. A job that carries an order holds the
 * rows at positions {@code row_start .. row_start + row_count - 1} of it.
 *
 * <p>A block is also what a worker reads: the rows of a job are decoded from the Parquet row groups
 * that hold them, whole. Blocks that cut across row groups would make a job of a few scattered
 * blocks read most of the file, so an order of a subset with several row groups takes its blocks
 * from them ({@link #of(long, String, List)}): fewer, larger units, hence coarser looks, for reads
 * the size of a job.
 *
 * @param seed the permutation's seed: the policy's seed mixed with the subset's sha256 ({@link
 *     #seedOf}), so that a candidate and its baseline share the order
 * @param rowsTotal the subset's rows
 * @param unitRows the rows of one block, the sampling unit
 */
public record RowOrder(long seed, long rowsTotal, int unitRows) {
  /** The most blocks an order shuffles: larger subsets are shuffled by blocks of several rows. */
  public static final int MAX_UNITS = 4096;

  @JsonCreator
  public RowOrder {
    if (rowsTotal <= 0) {
      throw new ContractViolation("order.rows_total", "must be positive, got " + rowsTotal);
    }
    Checks.positive(unitRows, "order.unit_rows");
    if (unitRows > rowsTotal) {
      throw new ContractViolation(
          "order.unit_rows",
          "blocks of " + unitRows + " rows do not fit a subset of " + rowsTotal + " rows");
    }
  }

  /**
   * The order of a subset of {@code rows} rows under {@code policySeed}: single rows for subsets of
   * up to {@link #MAX_UNITS} rows, else blocks of {@code ceil(rows / MAX_UNITS)} rows.
   */
  public static RowOrder of(long policySeed, String subsetSha256, long rows) {
    int unit = (int) Math.max(1, (rows + MAX_UNITS - 1) / MAX_UNITS);
    return new RowOrder(seedOf(policySeed, subsetSha256), rows, unit);
  }

  /**
   * The order of a subset whose row groups hold {@code rowGroupSizes} rows, in file order, with
   * blocks that respect them. One row group: as {@link #of(long, String, long)}. Row groups of
   * equal rows (the last may have fewer): blocks of whole row groups, as few per block as keep the
   * blocks at most {@link #MAX_UNITS} — a job of 1/50 of the order then reads 1/50 of the row
   * groups, and the last, shorter row group is the rows left over. Row groups of unequal rows (a
   * writer that cuts them by bytes): blocks of at least the largest row group's rows, so that a
   * block touches at most two row groups of about its size instead of one row group per few rows.
   *
   * @throws ContractViolation when the subset has no rows or a row group has none
   */
  public static RowOrder of(long policySeed, String subsetSha256, List<Long> rowGroupSizes) {
    long rows = 0;
    long largest = 0;
    for (long groupRows : rowGroupSizes) {
      if (groupRows <= 0) {
        throw new ContractViolation(
            "order.row_groups", "a row group of " + groupRows + " rows in " + rowGroupSizes);
      }
      rows += groupRows;
      largest = Math.max(largest, groupRows);
    }
    if (rowGroupSizes.size() <= 1) {
      return of(policySeed, subsetSha256, rows);
    }
    long finest = (rows + MAX_UNITS - 1) / MAX_UNITS;
    long first = rowGroupSizes.get(0);
    boolean equal =
        rowGroupSizes.subList(0, rowGroupSizes.size() - 1).stream().allMatch(g -> g == first)
            && rowGroupSizes.get(rowGroupSizes.size() - 1) <= first;
    long unit = equal ? first * ((finest + first - 1) / first) : Math.max(finest, largest);
    return new RowOrder(
        seedOf(policySeed, subsetSha256), rows, Math.toIntExact(Math.min(unit, rows)));
  }

  /** The first 8 bytes of sha256({@code "<policySeed>:<subsetSha256>"}). */
  public static long seedOf(long policySeed, String subsetSha256) {
    byte[] digest =
        Storage.newDigest()
            .digest((policySeed + ":" + subsetSha256).getBytes(StandardCharsets.UTF_8));
    return ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
  }

  /** The shuffled blocks (whole blocks only; the rows left over follow them). */
  public long units() {
    return rowsTotal / unitRows;
  }

  /** Positions from here on belong to no block: the rows left over, in file order. */
  public long shuffledRows() {
    return units() * unitRows;
  }

  /**
   * The file rows at positions {@code from .. from + count - 1} of the order.
   *
   * @throws IllegalArgumentException when the positions run past the subset
   */
  public long[] rows(long from, int count) {
    if (from < 0 || count < 0 || from + count > rowsTotal) {
      throw new IllegalArgumentException(
          "positions " + from + "+" + count + " are outside an order of " + rowsTotal + " rows");
    }
    int[] blocks = permutation();
    long[] rows = new long[count];
    long shuffled = shuffledRows();
    for (int i = 0; i < count; i++) {
      long position = from + i;
      rows[i] =
          position >= shuffled
              ? position
              : (long) blocks[(int) (position / unitRows)] * unitRows + position % unitRows;
    }
    return rows;
  }

  /** The file row at {@code position}. */
  public long row(long position) {
    return rows(position, 1)[0];
  }

  private int[] permutation() {
    int n = Math.toIntExact(units());
    int[] blocks = new int[n];
    for (int i = 0; i < n; i++) {
      blocks[i] = i;
    }
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int swap = blocks[i];
      blocks[i] = blocks[j];
      blocks[j] = swap;
    }
    return blocks;
  }
}
