package io.evalfleet.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
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
}
