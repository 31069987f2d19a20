package io.evalfleet.dispatcher.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.evalfleet.common.contract.RowOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ShardPlannerTest {
  @Test
  void splitsEachRowGroupIntoNearlyEqualBoundedShards() {
    List<Shard> shards = new ShardPlanner(64).plan(List.of(150L, 64L, 1L));
    assertThat(shards)
        .containsExactly(
            new Shard(0, 0, 50),
            new Shard(1, 50, 50),
            new Shard(2, 100, 50),
            new Shard(3, 150, 64),
            new Shard(4, 214, 1));
  }

  @Test
  void packsConsecutiveSmallRowGroupsIntoOneShard() {
    List<Shard> shards = new ShardPlanner(64).plan(List.of(20L, 20L, 20L, 30L, 100L, 10L));
    assertThat(shards)
        .containsExactly(
            new Shard(0, 0, 60),
            new Shard(1, 60, 30),
            new Shard(2, 90, 50),
            new Shard(3, 140, 50),
            new Shard(4, 190, 10));
  }

  @Test
  void everyRowIsInExactlyOneShardAndShardsFollowRowGroupBoundaries() {
    Random random = new Random(42);
    for (int trial = 0; trial < 200; trial++) {
      int maxRows = 1 + random.nextInt(100);
      List<Long> groups =
          random.ints(1 + random.nextInt(6), 0, 400).mapToObj(i -> (long) i).toList();
      List<Shard> shards = new ShardPlanner(maxRows).plan(groups);
      long next = 0;
      for (int i = 0; i < shards.size(); i++) {
        Shard shard = shards.get(i);
        assertThat(shard.index()).isEqualTo(i);
        assertThat(shard.start()).isEqualTo(next);
        assertThat(shard.count()).isBetween(1, maxRows);
        next = shard.end();
      }
      assertThat(next).isEqualTo(groups.stream().mapToLong(Long::longValue).sum());
      long boundary = 0;
      for (long group : groups) {
        long groupStart = boundary;
        long groupEnd = boundary + group;
        // a shard lies inside one row group, or holds whole row groups
        shards.forEach(
            s ->
                assertThat(
                        s.start() < groupEnd && s.end() > groupStart
                            ? (s.start() >= groupStart && s.end() <= groupEnd)
                                || (s.start() <= groupStart && s.end() >= groupEnd)
                            : true)
                    .isTrue());
        boundary = groupEnd;
      }
    }
  }

  @Test
  void emptySubsetHasNoShards() {
    assertThat(new ShardPlanner(10).plan(List.of())).isEmpty();
    assertThat(new ShardPlanner(10).plan(List.of(0L))).isEmpty();
  }

  @Test
  void longRowsAreSpreadOverJobsOfAtMostTheTokenBudget() {
    // 200 rows in one row group: 10 long rows of 1000 tokens, then 190 short rows of 10.
    long[] tokens = new long[200];
    java.util.Arrays.fill(tokens, 0, 10, 1000);
    java.util.Arrays.fill(tokens, 10, 200, 10);
    List<Shard> shards = new ShardPlanner(256, 2500).plan(List.of(200L), tokens);
    assertThat(shards)
        .containsExactly(
            new Shard(0, 0, 2),
            new Shard(1, 2, 2),
            new Shard(2, 4, 2),
            new Shard(3, 6, 2),
            new Shard(4, 8, 52),
            new Shard(5, 60, 140));
    assertThat(new ShardPlanner(256).plan(List.of(200L))).as("by rows alone: one job").hasSize(1);
  }

  @Test
  void aRowOverTheBudgetIsAJobOfItsOwnAndEveryRowIsPlannedOnce() {
    Random random = new Random(3);
    long[] tokens = random.longs(1000, 1, 5000).toArray();
    List<Long> groups = List.of(300L, 300L, 400L);
    List<Shard> shards = new ShardPlanner(64, 4000).plan(groups, tokens);
    long next = 0;
    for (Shard shard : shards) {
      assertThat(shard.start()).isEqualTo(next);
      assertThat(shard.count()).isBetween(1, 64);
      long sum =
          java.util.stream.LongStream.range(shard.start(), shard.end())
              .map(i -> tokens[(int) i])
              .sum();
      assertThat(sum <= 4000 || shard.count() == 1)
          .as("shard %s holds %d tokens", shard, sum)
          .isTrue();
      next = shard.end();
    }
    assertThat(next).isEqualTo(1000);
  }

  @Test
  void windowedTokensCountEveryWindowFedToTheModel() {
    assertThat(ShardPlanner.windowedTokens(100, 128, 64)).isEqualTo(100);
    assertThat(ShardPlanner.windowedTokens(0, 128, 64)).isEqualTo(1);
    // 300 tokens, context 128, stride 64: windows start at 0, 64, 128, 192 (the last one reaches
    // 320).
    assertThat(ShardPlanner.windowedTokens(300, 128, 64)).isEqualTo(4 * 128);
  }

  @Test
  void shardsOfASeededOrderHoldWholeBlocksInPositionOrder() {
    // 10,003 rows in blocks of 3; the one row left over comes last.
    RowOrder order = io.evalfleet.common.contract.RowOrder.of(1, "d".repeat(64), 10_003);
    List<Shard> shards = new ShardPlanner(100).plan(order, null);

    long next = 0;
    for (Shard shard : shards) {
      assertThat(shard.start()).isEqualTo(next);
      next = shard.end();
    }
    assertThat(next).isEqualTo(10_003);
    assertThat(shards.subList(0, shards.size() - 1))
        .allSatisfy(shard -> assertThat(shard.count()).isEqualTo(99));
  }

  @Test
  void shardsOfASeededOrderKeepTheTokenBudgetOfTheRowsTheyHold() {
    RowOrder order = io.evalfleet.common.contract.RowOrder.of(1, "d".repeat(64), 100);
    long[] tokens = new long[100];
    java.util.Arrays.setAll(tokens, row -> row < 50 ? 10 : 40);
    List<Shard> shards = new ShardPlanner(1000, 100).plan(order, tokens);

    for (Shard shard : shards) {
      long[] rows = order.rows(shard.start(), shard.count());
      long cost = java.util.Arrays.stream(rows).map(row -> tokens[(int) row]).sum();
      assertThat(cost).isLessThanOrEqualTo(100);
    }
    assertThat(shards.stream().mapToInt(Shard::count).sum()).isEqualTo(100);
  }

  @Test
  void aBlockOfWholeRowGroupsLargerThanAShardIsSplitIntoShardsOfItsOwnRowGroup() {
    // 40 row groups of 1,000 rows, blocks of one row group, shards of at most 256 rows: each
    // block becomes 4 shards of 250 rows, each shard inside a single row group.
    RowOrder order =
        io.evalfleet.common.contract.RowOrder.of(
            1, "d".repeat(64), java.util.Collections.nCopies(40, 1000L));
    List<Shard> shards = new ShardPlanner(256).plan(order, null);

    assertThat(shards).hasSize(160);
    long next = 0;
    for (Shard shard : shards) {
      assertThat(shard.start()).isEqualTo(next);
      assertThat(shard.count()).isEqualTo(250);
      long[] rows = order.rows(shard.start(), shard.count());
      assertThat(java.util.Arrays.stream(rows).map(row -> row / 1000).distinct().count())
          .isEqualTo(1);
      next = shard.end();
    }
  }

  @Test
  void aBlockOverTheTokenBudgetIsSplitByTokens() {
    RowOrder order =
        io.evalfleet.common.contract.RowOrder.of(
            1, "d".repeat(64), java.util.Collections.nCopies(10, 100L));
    long[] tokens = new long[1000];
    java.util.Arrays.fill(tokens, 7);
    List<Shard> shards = new ShardPlanner(1000, 100).plan(order, tokens);

    // 14 rows of 7 tokens fit 100: each block of 100 rows is 7 shards of 14 and one of 2.
    assertThat(shards).hasSize(80);
    assertThat(shards).allSatisfy(shard -> assertThat(shard.count() * 7L).isLessThanOrEqualTo(100));
    assertThat(shards.stream().mapToInt(Shard::count).sum()).isEqualTo(1000);
  }
}
