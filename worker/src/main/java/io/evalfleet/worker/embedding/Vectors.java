package io.evalfleet.worker.embedding;

import java.nio.FloatBuffer;

/** Pooling and similarity arithmetic on embeddings, in double precision. */
public final class Vectors {
  private Vectors() {}

  /**
   * Mean of the token vectors of sequence {@code row} whose attention mask is 1, from a
   * {@code [batch, seq, dim]} tensor laid out row-major in {@code hidden}; then L2-normalised.
   */
  public static double[] meanPoolNormalized(FloatBuffer hidden, int row, int seqLen, int dim, long[] mask) {
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
    return normalized(sum);
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

  public static double dot(double[] a, double[] b) {
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
