package io.evalfleet.dispatcher.decision;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The bootstrap's row draws: exactly the indices that {@code new SplittableRandom(seed)} gives when
 * {@code nextInt(units)} is called {@code units} times per resample, resample after resample, but
 * with each resample's draws computable on its own, so that resamples can run on several threads
 * and still give the same result bit for bit as one thread drawing them in order.
 *
 * <p>A {@code SplittableRandom} made from a seed adds a fixed gamma to its state before each value
 * and mixes the new state into the value, so the value at any position of its stream is known
 * without the values before it. {@code nextInt(bound)} rejects the rare values that would make its
 * result uneven and draws again; which values are rejected is known from the value alone, so one
 * scan for the rejected positions gives where every resample starts ({@link #starts}), and that
 * scan splits across threads too. The equality with {@code SplittableRandom} itself is tested, so a
 * JDK that changed its algorithm would be noticed.
 *
 * <p>Instances are immutable and thread-safe.
 */
final class ResampleDraws {
  /** {@code SplittableRandom}'s gamma for an instance made from a seed. */
  private static final long GAMMA = 0x9e3779b97f4a7c15L;

  /** Raw positions scanned per task when looking for rejected values. */
  private static final long SCAN_CHUNK = 1L << 24;

  private final long seed;
  private final int units;
  private final boolean powerOfTwo;

  /** A value v (of {@code nextInt() >>> 1}) is kept when below it; else drawn again. */
  private final int limit;

  /** v / units = (v · multiplier) >>> shift for every v below 2³¹ (Granlund–Montgomery). */
  private final long multiplier;

  private final int shift;

  /**
   * @throws IllegalArgumentException when {@code units} is below 1
   */
  ResampleDraws(long seed, int units) {
    if (units < 1) {
      throw new IllegalArgumentException("units must be at least 1, was " + units);
    }
    this.seed = seed;
    this.units = units;
    this.powerOfTwo = (units & (units - 1)) == 0;
    this.limit = powerOfTwo ? 0 : (int) (((1L << 31) / units) * units);
    int l = 32 - Integer.numberOfLeadingZeros(units - 1); // ceil(log2 units)
    this.shift = 31 + l;
    this.multiplier = ((1L << shift) + units - 1) / units;
  }

  /** How many units each resample draws, and the bound of every draw. */
  int units() {
    return units;
  }

  /**
   * Adds one resample's draws to {@code counts} ({@code counts[i]} += how often unit i was drawn).
   *
   * @param state the state before the resample's first draw (from {@link #starts})
   * @return the state after its last draw: the next resample's start
   */
  long draw(long state, int[] counts) {
    if (powerOfTwo) {
      int mask = units - 1;
      for (int k = 0; k < units; k++) {
        state += GAMMA;
        counts[mix32(state) & mask]++;
      }
      return state;
    }
    for (int k = 0; k < units; k++) {
      int v;
      do {
        state += GAMMA;
        v = mix32(state) >>> 1;
      } while (v >= limit);
      int quotient = (int) ((v * multiplier) >>> shift);
      counts[v - quotient * units]++;
    }
    return state;
  }

  /**
   * The state before the first draw of each of {@code resamples} resamples, as one {@code
   * SplittableRandom} reaches them drawing in order.
   *
   * @param executor runs the scan for rejected values in parallel; null scans on this thread
   */
  long[] starts(int resamples, ExecutorService executor) {
    return starts(resamples, executor, SCAN_CHUNK);
  }

  long[] starts(int resamples, ExecutorService executor, long chunk) {
    long[] starts = new long[resamples];
    if (powerOfTwo) {
      for (int r = 0; r < resamples; r++) {
        starts[r] = seed + (long) r * units * GAMMA;
      }
      return starts;
    }
    long needed = (long) resamples * units; // accepted draws in all resamples
    long[] rejected = rejectedPositions(needed, executor, chunk);
    // Accepted draw a sits at raw position a + (rejections before it); a resample starts just after
    // the previous one's last accepted draw.
    int j = 0;
    starts[0] = seed;
    for (int r = 1; r < resamples; r++) {
      long last = (long) r * units - 1;
      while (j < rejected.length && rejected[j] <= last + j) {
        j++;
      }
      long position = last + j;
      starts[r] = seed + (position + 1) * GAMMA;
    }
    return starts;
  }

  /**
   * The raw positions (0 = the first {@code nextInt()}) whose value is rejected, in order, far
   * enough that at least {@code needed} values are accepted before the last position scanned.
   */
  private long[] rejectedPositions(long needed, ExecutorService executor, long chunk) {
    List<long[]> parts = new ArrayList<>();
    long scanned = 0;
    long rejections = 0;
    while (scanned - rejections < needed) {
      // Enough chunks for what is still needed, plus one for the rejections among them.
      long missing = needed - (scanned - rejections);
      int tasks = (int) Math.min(1 << 16, missing / chunk + 2);
      List<Callable<long[]>> scans = new ArrayList<>();
      for (int t = 0; t < tasks; t++) {
        long from = scanned + t * chunk;
        scans.add(() -> scan(from, from + chunk));
      }
      for (long[] part : run(scans, executor)) {
        parts.add(part);
        rejections += part.length;
      }
      scanned += tasks * chunk;
    }
    return parts.stream().flatMapToLong(Arrays::stream).toArray();
  }

  private long[] scan(long from, long to) {
    long[] found = new long[16];
    int size = 0;
    long state = seed + from * GAMMA;
    for (long p = from; p < to; p++) {
      state += GAMMA;
      if ((mix32(state) >>> 1) >= limit) {
        if (size == found.length) {
          found = Arrays.copyOf(found, size * 2);
        }
        found[size++] = p;
      }
    }
    return Arrays.copyOf(found, size);
  }

  private static List<long[]> run(List<Callable<long[]>> tasks, ExecutorService executor) {
    List<long[]> results = new ArrayList<>();
    try {
      if (executor == null) {
        for (Callable<long[]> task : tasks) {
          results.add(task.call());
        }
        return results;
      }
      for (Future<long[]> future : executor.invokeAll(tasks)) {
        results.add(future.get());
      }
      return results;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while scanning the bootstrap's draws", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("scanning the bootstrap's draws failed", e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException("scanning the bootstrap's draws failed", e);
    }
  }

  /** {@code SplittableRandom}'s mix of a state into an int value. */
  static int mix32(long z) {
    z = (z ^ (z >>> 33)) * 0x62a9d9ed799705f5L;
    return (int) (((z ^ (z >>> 28)) * 0xcb24d0a5c88c35b3L) >>> 32);
  }
}
