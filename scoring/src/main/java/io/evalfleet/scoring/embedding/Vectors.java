package io.evalfleet.scoring.embedding;

import io.evalfleet.common.task.EmbeddingConventions.Pooling;
import java.nio.FloatBuffer;
import java.util.Arrays;

/** Pooling and similarity arithmetic on embeddings, in double precision. */
public final class Vectors {
  private Vectors() {}

  /**
   * Mean of the token vectors of sequence {@code row} whose attention mask is 1, from a {@code
   * [batch, seq, dim]} tensor laid out row-major in {@code hidden}; then L2-normalised.
   */
  static double[] meanPoolNormalized(
      FloatBuffer hidden, int row, int seqLen, int dim, long[] mask) {
    return normalized(pool(Pooling.MEAN, hidden, row, seqLen, dim, mask));
  }

  /**
   * One vector for sequence {@code row} of a {@code [batch, seq, dim]} tensor laid out row-major in
   * {@code hidden}, pooled as sentence-transformers does: the mean or the element-wise maximum over
   * the tokens whose attention mask is 1, the first token ([CLS]), or the last token whose mask is
   * 1. Not normalised.
   *
   * @throws IllegalArgumentException when the sequence has no unmasked token
   */
  public static double[] pool(
      Pooling pooling, FloatBuffer hidden, int row, int seqLen, int dim, long[] mask) {
    return switch (pooling) {
      case MEAN -> mean(hidden, row, seqLen, dim, mask);
      case CLS -> token(hidden, row, seqLen, dim, 0);
      case MAX -> max(hidden, row, seqLen, dim, mask);
      case LAST_TOKEN -> token(hidden, row, seqLen, dim, lastUnmasked(row, seqLen, mask));
    };
  }

  private static double[] token(FloatBuffer hidden, int row, int seqLen, int dim, int t) {
    double[] v = new double[dim];
    int base = (row * seqLen + t) * dim;
    for (int d = 0; d < dim; d++) {
      v[d] = hidden.get(base + d);
    }
    return v;
  }

  private static int lastUnmasked(int row, int seqLen, long[] mask) {
    for (int t = seqLen - 1; t >= 0; t--) {
      if (mask[t] != 0) {
        return t;
      }
    }
    throw new IllegalArgumentException("sequence " + row + " has no unmasked token");
  }

  private static double[] max(FloatBuffer hidden, int row, int seqLen, int dim, long[] mask) {
    double[] max = new double[dim];
    Arrays.fill(max, Double.NEGATIVE_INFINITY);
    lastUnmasked(row, seqLen, mask);
    for (int t = 0; t < seqLen; t++) {
      if (mask[t] == 0) {
        continue;
      }
      int base = (row * seqLen + t) * dim;
      for (int d = 0; d < dim; d++) {
        max[d] = Math.max(max[d], hidden.get(base + d));
      }
    }
    return max;
  }

  private static double[] mean(FloatBuffer hidden, int row, int seqLen, int dim, long[] mask) {
    double[] sum = new double[dim];
    int tokens = 0;
    for (int t = 0; t < seqLen; t++) {
      if (mask[t] == 0) {
        continue;
      }
      tokens++;
      int base = (row * seqLen + t) * dim;
      for (int d = 0; d < dim; d++) {
        sum[d] += hidden.get(base + d);
      }
    }
    if (tokens == 0) {
      throw new IllegalArgumentException("sequence " + row + " has no unmasked token");
    }
    for (int d = 0; d < dim; d++) {
      sum[d] /= tokens;
    }
    return sum;
  }

  /** {@code v / ‖v‖₂}; a zero vector stays zero. */
  public static double[] normalized(double[] v) {
    double norm = Math.sqrt(dot(v, v));
    double[] out = new double[v.length];
    if (norm == 0) {
      return out;
    }
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] / norm;
    }
    return out;
  }

  static double dot(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("dimensions differ: " + a.length + " vs " + b.length);
    }
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** Cosine similarity; for L2-normalised vectors this is their dot product. */
  public static double cosine(double[] a, double[] b) {
    double denominator = Math.sqrt(dot(a, a) * dot(b, b));
    return denominator == 0 ? 0 : dot(a, b) / denominator;
  }
}
