package io.evalfleet.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LeasePoolTest {
  final List<String> evicted = new ArrayList<>();
  final LeasePool<String, String> pool =
      new LeasePool<>(10, String::length, (key, value) -> evicted.add(key));

  @Test
  void evictsTheLeastRecentlyLeasedIdleValueWhenOverItsBound() throws Exception {
    pool.acquire("a", () -> "aaaa").close();
    pool.acquire("b", () -> "bbbb").close();
    pool.acquire("a", () -> "never loaded again").close();
    assertThat(pool.weight()).isEqualTo(8);
    pool.acquire("c", () -> "cccc").close();
    assertThat(evicted).as("b was leased least recently").containsExactly("b");
    assertThat(pool.weight()).isEqualTo(8);
    assertThat(pool.evictions()).isEqualTo(1);
  }

  @Test
  void neverEvictsAValueInUseEvenOverItsBound() throws Exception {
    var a = pool.acquire("a", () -> "aaaaaa");
    var b = pool.acquire("b", () -> "bbbbbb");
    assertThat(pool.weight()).as("over the bound while both are in use").isEqualTo(12);
    assertThat(evicted).isEmpty();
    b.close();
    assertThat(evicted).as("the idle one goes once it is released").containsExactly("b");
    assertThat(a.value()).isEqualTo("aaaaaa");
    a.close();
  }

  @Test
  void callersOfOneKeyShareOneLoadAndAFailedLoadIsTriedAgain() throws Exception {
    AtomicInteger loads = new AtomicInteger();
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Future<String>> values = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        values.add(
            threads.submit(
                () -> {
                  try (var lease =
                      pool.acquire(
                          "k",
                          () -> {
                            loads.incrementAndGet();
                            loading.countDown();
                            release.await();
                            return "v";
                          })) {
                    return lease.value();
                  }
                }));
      }
      assertThat(loading.await(5, TimeUnit.SECONDS)).isTrue();
      release.countDown();
      for (Future<String> value : values) {
        assertThat(value.get(5, TimeUnit.SECONDS)).isEqualTo("v");
      }
      assertThat(loads).as("one load for four callers").hasValue(1);
    } finally {
      threads.shutdownNow();
    }

    assertThatThrownBy(
            () ->
                pool.acquire(
                    "broken",
                    () -> {
                      throw new IOException("store down");
                    }))
        .isInstanceOf(IOException.class)
        .hasMessage("store down");
    assertThat(pool.contains("broken")).as("a failed load is forgotten").isFalse();
    try (var lease = pool.acquire("broken", () -> "now")) {
      assertThat(lease.value()).isEqualTo("now");
    }
  }

  @Test
  void clearHandsEveryValueToTheEvictionCallback() throws Exception {
    pool.acquire("a", () -> "a").close();
    var held = pool.acquire("b", () -> "b");
    pool.clear();
    assertThat(evicted).containsExactlyInAnyOrder("a", "b");
    assertThat(pool.size()).isZero();
    held.close();
  }
}
