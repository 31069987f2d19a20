package io.evalfleet.scoring.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class VectorsTest {
  @Test
  void meanPoolingIgnoresMaskedTokensAndNormalises() {
    // batch 2, seq 3, dim 2; row 1 has tokens (3,4), (1,0) and a padded token with huge values.
    FloatBuffer hidden =
        FloatBuffer.wrap(
            new float[] {
              1, 1, 1, 1, 1, 1,
              3, 4, 1, 0, 1000, -1000
            });
    double[] pooled = Vectors.meanPoolNormalized(hidden, 1, 3, 2, new long[] {1, 1, 0});
    // mean (2, 2) → normalised (1/√2, 1/√2)
    assertThat(pooled[0]).isCloseTo(Math.sqrt(0.5), within(1e-12));
    assertThat(pooled[1]).isCloseTo(Math.sqrt(0.5), within(1e-12));
  }

  @Test
  void cosineOfKnownVectors() {
    assertThat(Vectors.cosine(new double[] {1, 0}, new double[] {0, 1})).isEqualTo(0.0);
    assertThat(Vectors.cosine(new double[] {1, 2, 3}, new double[] {2, 4, 6}))
        .isCloseTo(1.0, within(1e-15));
    assertThat(Vectors.cosine(new double[] {1, 1}, new double[] {1, 0}))
        .isCloseTo(Math.sqrt(0.5), within(1e-15));
    assertThat(Vectors.cosine(new double[] {1, 0}, new double[] {-1, 0})).isEqualTo(-1.0);
  }

  @Test
  void zeroVectorStaysZero() {
    assertThat(Vectors.normalized(new double[] {0, 0})).containsExactly(0, 0);
    assertThat(Vectors.cosine(new double[] {0, 0}, new double[] {1, 0})).isEqualTo(0.0);
  }
}
