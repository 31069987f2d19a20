package io.evalfleet.scoring.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.ToLongFunction;

/**
 * Values shared by reference count and bounded by weight: the model cache's directories (weighed in
 * bytes) and the loaded ONNX Runtime sessions (one each). A caller holds a {@link Lease} while it
 * uses a value; when the pool weighs more than its bound, the least recently leased values that no
 * one holds are evicted and handed to {@code onEvict} (which deletes or closes them). A value in
 * use is never evicted, so the pool may stay over its bound while everything is in use.
 *
 * <p>Why not Caffeine: its eviction does not know which values are in use, and evicting a session a
 * job is running on, or a directory ONNX Runtime is reading, is not an option. Loads run outside
 * the pool's lock; callers that want one key at once share its single load, and a failed load is
 * forgotten so the next caller tries again. Thread-safe.
 *
 * @param <K> the key, e.g. a sha256 digest
 * @param <V> the value
 */
final class LeasePool<K, V> {
  /** Loads the value of a key that is not in the pool. */
  @FunctionalInterface
  interface Loader<V> {
    V load() throws Exception;
  }

  private final long maxWeight;
  private final ToLongFunction<V> weigher;
  private final BiConsumer<K, V> onEvict;

  /** In lease order, least recently leased first. Guarded by {@code this}. */
  private final LinkedHashMap<K, Slot<V>> slots = new LinkedHashMap<>(16, 0.75f, true);

  private long weight;
  private final AtomicLong evictions = new AtomicLong();

  private static final class Slot<V> {
    final CompletableFuture<V> value = new CompletableFuture<>();
    long weight;
    int users;
  }

  /** A hold on a value: it is not evicted until the lease is closed. Close it once. */
  final class Lease implements AutoCloseable {
    private final K key;
    private final V value;
    private boolean closed;

    private Lease(K key, V value) {
      this.key = key;
      this.value = value;
    }

    V value() {
      return value;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        release(key);
      }
    }
  }

  /**
   * @param maxWeight the bound on the total weight of the values kept
   * @param weigher a value's weight, taken once when it is loaded
   * @param onEvict called, outside the pool's lock, with each value evicted
   */
  LeasePool(long maxWeight, ToLongFunction<V> weigher, BiConsumer<K, V> onEvict) {
    if (maxWeight <= 0) {
      throw new IllegalArgumentException("the pool's bound must be positive, got " + maxWeight);
    }
    this.maxWeight = maxWeight;
    this.weigher = weigher;
    this.onEvict = onEvict;
  }

  /** Whether {@code key} is in the pool now (loaded or loading). */
  synchronized boolean contains(K key) {
    return slots.containsKey(key);
  }

  /**
   * Leases the value of {@code key}, loading it with {@code loader} when it is not in the pool.
   *
   * @throws Exception what the loader threw, for this caller and every caller that waited on that
   *     load
   */
  Lease acquire(K key, Loader<V> loader) throws Exception {
    Slot<V> slot;
    boolean loadHere = false;
    synchronized (this) {
      slot = slots.get(key);
      if (slot == null) {
        slot = new Slot<>();
        slots.put(key, slot);
        loadHere = true;
      }
      slot.users++;
    }
    if (loadHere) {
      try {
        V value = loader.load();
        synchronized (this) {
          slot.weight = weigher.applyAsLong(value);
          weight += slot.weight;
        }
        slot.value.complete(value);
      } catch (Throwable e) {
        slot.value.completeExceptionally(e);
        synchronized (this) {
          slots.remove(key, slot);
        }
      }
    }
    try {
      return new Lease(key, slot.value.join());
    } catch (CompletionException e) {
      synchronized (this) {
        slot.users--;
      }
      Throwable cause = e.getCause();
      if (cause instanceof Exception exception) {
        throw exception;
      }
      throw (Error) cause;
    } finally {
      evictOverBound();
    }
  }

  /**
   * Adds a value found outside a load (e.g. left by an earlier process), as the least recently
   * used.
   */
  void adopt(K key, V value) {
    Slot<V> slot = new Slot<>();
    slot.value.complete(value);
    slot.weight = weigher.applyAsLong(value);
    synchronized (this) {
      if (slots.putIfAbsent(key, slot) == null) {
        weight += slot.weight;
      }
    }
    evictOverBound();
  }

  synchronized long weight() {
    return weight;
  }

  synchronized int size() {
    return (int)
        slots.values().stream()
            .filter(s -> s.value.isDone() && !s.value.isCompletedExceptionally())
            .count();
  }

  long maxWeight() {
    return maxWeight;
  }

  long evictions() {
    return evictions.get();
  }

  /** Removes every value, in use or not, and hands each to {@code onEvict}. */
  void clear() {
    Map<K, V> removed = new LinkedHashMap<>();
    synchronized (this) {
      slots.forEach(
          (key, slot) -> {
            V value = slot.value.getNow(null);
            if (value != null) {
              removed.put(key, value);
            }
          });
      slots.clear();
      weight = 0;
    }
    removed.forEach(onEvict);
  }

  private void release(K key) {
    synchronized (this) {
      Slot<V> slot = slots.get(key);
      if (slot != null) {
        slot.users--;
      }
    }
    evictOverBound();
  }

  private void evictOverBound() {
    Map<K, V> evicted = new LinkedHashMap<>();
    synchronized (this) {
      var it = slots.entrySet().iterator();
      while (weight > maxWeight && it.hasNext()) {
        var entry = it.next();
        Slot<V> slot = entry.getValue();
        if (slot.users > 0 || !slot.value.isDone()) {
          continue;
        }
        it.remove();
        weight -= slot.weight;
        evictions.incrementAndGet();
        V value = slot.value.getNow(null);
        if (value != null) {
          evicted.put(entry.getKey(), value);
        }
      }
    }
    evicted.forEach(onEvict);
  }
}
