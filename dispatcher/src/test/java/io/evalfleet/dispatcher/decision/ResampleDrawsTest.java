package io.evalfleet.dispatcher.decision;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class ResampleDrawsTest {

  /**
   * Bounds with and without rejected values: powers of two (never), small ones (almost never), and
   * 3,145,729, where about one value in a thousand is drawn again.
   */
  private static final int[] UNITS = {1, 2, 3, 7, 240, 1000, 1024, 4097, 65_536, 3_145_729};

  @Test
  void eachResampleDrawsWhatOneSplittableRandomDrawsInOrder() {
    for (int units : UNITS) {
      int resamples = units > 100_000 ? 3 : 20;
      for (long seed : new long[] {7, -3, Long.MAX_VALUE}) {
        ResampleDraws draws = new ResampleDraws(seed, units);
        long[] starts = draws.starts(resamples, null);
        SplittableRandom random = new SplittableRandom(seed);
        for (int r = 0; r < resamples; r++) {
          int[] expected = new int[units];
          for (int i = 0; i < units; i++) {
            expected[random.nextInt(units)]++;
          }
          int[] counts = new int[units];
          long end = draws.draw(starts[r], counts);
          assertThat(counts)
              .as("units %d, seed %d, resample %d", units, seed, r)
              .isEqualTo(expected);
          if (r + 1 < resamples) {
            assertThat(end)
                .as("where resample %d ends, the next starts", r)
                .isEqualTo(starts[r + 1]);
          }
        }
      }
    }
  }

  @Test
  void startsScannedInParallelChunksEqualThoseScannedInOrder() throws Exception {
    ExecutorService executor = Executors.newFixedThreadPool(3);
    try {
      for (int units : UNITS) {
        int resamples = units > 100_000 ? 5 : 300;
        ResampleDraws draws = new ResampleDraws(42, units);
        long[] inOrder = new long[resamples];
        long state = 42;
        int[] scratch = new int[units];
        for (int r = 0; r < resamples; r++) {
          inOrder[r] = state;
          state = draws.draw(state, scratch);
        }
        // Chunks far smaller than a resample, so resamples straddle chunks and rejections.
        assertThat(draws.starts(resamples, executor, 1 << 12))
            .as("units %d", units)
            .isEqualTo(inOrder);
        assertThat(draws.starts(resamples, null)).as("units %d", units).isEqualTo(inOrder);
      }
    } finally {
      executor.shutdownNow();
    }
  }
}
