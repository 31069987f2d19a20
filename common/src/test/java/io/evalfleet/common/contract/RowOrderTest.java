package io.evalfleet.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class RowOrderTest {
  static final String SUBSET = "a".repeat(64);

  @Test
  void everyRowComesExactlyOnceAndTheOrderIsNotTheFileOrder() {
    RowOrder order = RowOrder.of(42, SUBSET, 1000);
    long[] rows = order.rows(0, 1000);

    assertThat(order.unitRows()).isEqualTo(1);
    assertThat(Arrays.stream(rows).sorted().toArray())
        .isEqualTo(LongStream.range(0, 1000).toArray());
    assertThat(rows).isNotEqualTo(LongStream.range(0, 1000).toArray());
  }

  @Test
  void theSameSeedAndSubsetGiveTheSameOrderAndAnotherSubsetAnother() {
    RowOrder a = RowOrder.of(42, SUBSET, 500);
    RowOrder b = RowOrder.of(42, SUBSET, 500);
    RowOrder other = RowOrder.of(42, "b".repeat(64), 500);

    assertThat(a).isEqualTo(b);
    assertThat(a.rows(0, 500)).isEqualTo(b.rows(0, 500));
    assertThat(other.rows(0, 500)).isNotEqualTo(a.rows(0, 500));
  }

  @Test
  void positionsReadAnywhereAgreeWithTheWholeOrder() {
    RowOrder order = RowOrder.of(7, SUBSET, 300);
    long[] whole = order.rows(0, 300);

    assertThat(order.rows(120, 40)).isEqualTo(Arrays.copyOfRange(whole, 120, 160));
    assertThat(order.row(299)).isEqualTo(whole[299]);
  }

  @Test
  void largeSubsetsAreShuffledInWholeBlocksWithTheRowsLeftOverLast() {
    // 10,003 rows: blocks of 3 (ceil(10003 / 4096)), 3334 whole blocks, 1 row left over.
    RowOrder order = RowOrder.of(1, SUBSET, 10_003);
    long[] rows = order.rows(0, 10_003);

    assertThat(order.unitRows()).isEqualTo(3);
    assertThat(order.units()).isEqualTo(3334);
    for (int block = 0; block < 3334; block++) {
      long first = rows[3 * block];
      assertThat(first % 3).isZero();
      assertThat(rows[3 * block + 1]).isEqualTo(first + 1);
      assertThat(rows[3 * block + 2]).isEqualTo(first + 2);
    }
    assertThat(rows[10_002]).isEqualTo(10_002);
    assertThat(Arrays.stream(rows).sorted().toArray())
        .isEqualTo(LongStream.range(0, 10_003).toArray());
  }

  @Test
  void positionsPastTheSubsetAreRefused() {
    RowOrder order = RowOrder.of(1, SUBSET, 10);
    assertThatThrownBy(() -> order.rows(5, 6))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("outside an order of 10 rows");
  }

  @Test
  void equalRowGroupsAreTheBlocksAndTheShorterLastOneComesLast() {
    // 50 row groups of 100 rows and one of 37: a block per row group, the last one left over.
    List<Long> groups = new ArrayList<>(Collections.nCopies(50, 100L));
    groups.add(37L);
    RowOrder order = RowOrder.of(3, SUBSET, groups);
    long[] rows = order.rows(0, 5037);

    assertThat(order.unitRows()).isEqualTo(100);
    assertThat(order.units()).isEqualTo(50);
    for (int block = 0; block < 50; block++) {
      long first = rows[100 * block];
      assertThat(first % 100).isZero();
      assertThat(Arrays.copyOfRange(rows, 100 * block, 100 * block + 100))
          .isEqualTo(LongStream.range(first, first + 100).toArray());
    }
    assertThat(Arrays.copyOfRange(rows, 5000, 5037))
        .isEqualTo(LongStream.range(5000, 5037).toArray());
    assertThat(Arrays.stream(rows).sorted().toArray())
        .isEqualTo(LongStream.range(0, 5037).toArray());
  }

  @Test
  void aFiftiethOfTheOrderTouchesAFiftiethOfTheRowGroups() {
    // 200 row groups of 500 rows: the first 1/50 of the order lies in 4 of them. Blocks of the
    // rows alone (25 rows, 100,000 / 4096 rounded up) scatter it over dozens of row groups.
    RowOrder order = RowOrder.of(11, SUBSET, Collections.nCopies(200, 500L));

    assertThat(rowGroupsTouched(order, 0, 2000, 500)).isEqualTo(4);
    assertThat(rowGroupsTouched(RowOrder.of(11, SUBSET, 100_000), 0, 2000, 500)).isGreaterThan(50);
  }

  @Test
  void manySmallEqualRowGroupsAreJoinedIntoWholeBlocksOfAtMostMaxUnits() {
    // 10,000 row groups of 2 rows: blocks of the rows alone would hold 5 rows (20,000 / 4096
    // rounded up), cutting row groups; blocks of 3 row groups do not.
    RowOrder order = RowOrder.of(5, SUBSET, Collections.nCopies(10_000, 2L));

    assertThat(order.unitRows()).isEqualTo(6);
    assertThat(order.units()).isLessThanOrEqualTo(RowOrder.MAX_UNITS);
    long[] rows = order.rows(0, Math.toIntExact(order.shuffledRows()));
    for (int block = 0; block < order.units(); block++) {
      assertThat(rows[6 * block] % 6).isZero();
    }
  }

  @Test
  void unequalRowGroupsGiveBlocksOfTheLargestThatTouchAtMostThreeOfThem() {
    // Row groups cut by bytes: 90 to 110 rows each.
    List<Long> groups = new ArrayList<>();
    java.util.Random random = new java.util.Random(1);
    for (int i = 0; i < 300; i++) {
      groups.add(90L + random.nextInt(21));
    }
    long largest = groups.stream().mapToLong(Long::longValue).max().orElseThrow();
    RowOrder order = RowOrder.of(9, SUBSET, groups);

    assertThat(order.unitRows()).isEqualTo(largest);
    long[] ends = new long[groups.size()];
    long end = 0;
    for (int i = 0; i < ends.length; i++) {
      end += groups.get(i);
      ends[i] = end;
    }
    long touched = 0;
    for (long block = 0; block < order.units(); block++) {
      long[] rows = order.rows(block * order.unitRows(), order.unitRows());
      long groupsOfBlock = Arrays.stream(rows).map(row -> groupOf(ends, row)).distinct().count();
      assertThat(groupsOfBlock).isLessThanOrEqualTo(3);
      touched += groupsOfBlock;
    }
    // A block of the largest row group's rows spans a smaller one only now and then.
    assertThat((double) touched / order.units()).isLessThanOrEqualTo(2.2);
  }

  @Test
  void aSingleRowGroupKeepsTheOrderOfTheRowsAlone() {
    assertThat(RowOrder.of(1, SUBSET, List.of(10_003L))).isEqualTo(RowOrder.of(1, SUBSET, 10_003));
  }

  @Test
  void anEmptyRowGroupIsRefused() {
    assertThatThrownBy(() -> RowOrder.of(1, SUBSET, List.of(10L, 0L, 10L)))
        .isInstanceOf(ContractViolation.class)
        .hasMessageContaining("a row group of 0 rows");
  }

  private static long rowGroupsTouched(RowOrder order, long from, int count, long groupRows) {
    return Arrays.stream(order.rows(from, count)).map(row -> row / groupRows).distinct().count();
  }

  private static long groupOf(long[] ends, long row) {
    int at = Arrays.binarySearch(ends, row + 1);
    return at >= 0 ? at : -at - 1;
  }
}
