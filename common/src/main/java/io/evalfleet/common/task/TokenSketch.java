package io.evalfleet.common.task;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.store.Bin;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import com.datadoghq.sketch.ddsketch.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.Iterator;
import java.util.function.Supplier;

/**
 * The distribution of a per-token value over a run's tokens (the KL divergence of a token shift),
 * for its percentiles: a DDSketch, whose quantiles are within {@value #RELATIVE_ACCURACY} of the
 * exact order statistic's value, relatively, and which merges exactly across shards. A worker fills
 * one per job; the dispatcher merges a run's. On the wire and in the archive it is the sketch's own
 * binary encoding in base64. Not thread-safe.
 */
public final class TokenSketch {
  /** Relative accuracy of every quantile: 0.1%. */
  public static final double RELATIVE_ACCURACY = 0.001;

  /**
   * Bins kept; beyond them the lowest collapse into one. 8192 bins of 0.2% cover seven orders of
   * magnitude below the largest value, far below any percentile a policy gates on.
   */
  static final int MAX_BINS = 8192;

  private static final Supplier<Store> STORES = () -> new CollapsingLowestDenseStore(MAX_BINS);

  private final DDSketch sketch;

  private TokenSketch(DDSketch sketch) {
    this.sketch = sketch;
  }

  public static TokenSketch empty() {
    return new TokenSketch(DDSketch.memoryOptimalCollapsingLowest(RELATIVE_ACCURACY, MAX_BINS));
  }

  /**
   * Adds one token's value; a value below 0 (rounding of a quantity that is never negative) counts
   * as 0.
   */
  public void add(double value) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("a token value must be finite, got " + value);
    }
    sketch.accept(Math.max(0, value));
  }

  public void merge(TokenSketch other) {
    sketch.mergeWith(other.sketch);
  }

  public long count() {
    return Math.round(sketch.getCount());
  }

  public boolean isEmpty() {
    return sketch.isEmpty();
  }

  /** The value at quantile {@code q} in [0, 1], within the relative accuracy; NaN when empty. */
  public double quantile(double q) {
    return sketch.isEmpty() ? Double.NaN : sketch.getValueAtQuantile(q);
  }

  /**
   * How many tokens have a value of at most {@code limit} (by their bins: to the relative
   * accuracy).
   */
  public long countAtMost(double limit) {
    if (sketch.isEmpty()) {
      return 0;
    }
    double below = sketch.getCount() - sketch.getPositiveValueStore().getTotalCount();
    if (limit < 0) {
      return 0;
    }
    Iterator<Bin> bins = sketch.getPositiveValueStore().getAscendingIterator();
    while (bins.hasNext()) {
      Bin bin = bins.next();
      if (sketch.getIndexMapping().value(bin.getIndex()) > limit) {
        break;
      }
      below += bin.getCount();
    }
    return Math.round(below);
  }

  /** The sketch in base64, as a shard result and the archive carry it. */
  public String encode() {
    GrowingByteArrayOutput output = GrowingByteArrayOutput.withDefaultInitialCapacity();
    try {
      sketch.encode(output, false);
    } catch (IOException e) {
      throw new UncheckedIOException("encoding a token sketch in memory failed", e);
    }
    return Base64.getEncoder().encodeToString(output.trimmedCopy());
  }

  /**
   * @throws IllegalArgumentException when {@code encoded} is not a sketch this class wrote
   */
  public static TokenSketch decode(String encoded) {
    try {
      byte[] bytes = Base64.getDecoder().decode(encoded);
      DDSketch decoded = DDSketch.decode(ByteArrayInput.wrap(bytes), STORES);
      TokenSketch sketch = empty();
      sketch.sketch.mergeWith(decoded);
      return sketch;
    } catch (IOException e) {
      throw new IllegalArgumentException("not an encoded token sketch: " + e.getMessage(), e);
    } catch (UncheckedIOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not an encoded token sketch: " + e.getMessage(), e);
    }
  }
}
