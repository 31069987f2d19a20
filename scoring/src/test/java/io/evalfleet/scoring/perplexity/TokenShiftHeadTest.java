package io.evalfleet.scoring.perplexity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Known answers for the token-shift head, against distributions whose KL is computed here by hand.
 */
class TokenShiftHeadTest {
  static OrtEnvironment env;
  static OrtSession session;
  static TokenShiftHead head;

  @BeforeAll
  static void load() throws Exception {
    env = OrtEnvironment.getEnvironment();
    session = TokenShiftHead.load(env, new OrtSession.SessionOptions());
    head = new TokenShiftHead(env, session);
  }

  @AfterAll
  static void close() throws Exception {
    session.close();
  }

  private static float[][][] logitsOf(double[]... positions) {
    float[][][] logits = new float[1][positions.length][];
    for (int s = 0; s < positions.length; s++) {
      logits[0][s] = new float[positions[s].length];
      for (int v = 0; v < positions[s].length; v++) {
        logits[0][s][v] = (float) Math.log(positions[s][v]);
      }
    }
    return logits;
  }

  private TokenShiftHead.Shift shift(
      float[][][] baseline, float[][][] candidate, long[] targets, float[] weights)
      throws Exception {
    try (OnnxTensor b = OnnxTensor.createTensor(env, baseline);
        OnnxTensor c = OnnxTensor.createTensor(env, candidate)) {
      return head.run(b, c, new long[][] {targets}, new float[][] {weights});
    }
  }

  @Test
  void aModelAgainstItselfHasNoShift() throws Exception {
    float[][][] logits = logitsOf(new double[] {0.7, 0.2, 0.1}, new double[] {0.1, 0.1, 0.8});
    TokenShiftHead.Shift shift = shift(logits, logits, new long[] {0, 2}, new float[] {1, 1});
    assertThat(shift.kl()[0]).containsExactly(new float[] {0f, 0f}, within(1e-6f));
    assertThat(shift.agree()[0]).containsExactly(1f, 1f);
    assertThat(shift.dpTrue()[0]).containsExactly(new float[] {0f, 0f}, within(1e-6f));
  }

  @Test
  void klBetweenTwoFixedDistributionsIsTheAnalyticValue() throws Exception {
    double[] p = {0.5, 0.25, 0.25};
    double[] q = {0.25, 0.25, 0.5};
    double expected = 0;
    for (int v = 0; v < p.length; v++) {
      expected += p[v] * Math.log(p[v] / q[v]);
    }
    assertThat(expected).isCloseTo(0.25 * Math.log(2), within(1e-12));
    TokenShiftHead.Shift shift = shift(logitsOf(p), logitsOf(q), new long[] {0}, new float[] {1});
    assertThat((double) shift.kl()[0][0]).isCloseTo(expected, within(1e-6));
    assertThat(shift.agree()[0][0]).as("top token 0 against 2").isZero();
    assertThat((double) shift.dpTrue()[0][0]).isCloseTo(0.25 - 0.5, within(1e-6));
  }

  @Test
  void logitsAreNormalisedFirstSoAShiftedScaleChangesNothing() throws Exception {
    float[][][] base = {{{1f, 2f, 3f}}};
    float[][][] plusConstant = {{{11f, 12f, 13f}}};
    TokenShiftHead.Shift shift = shift(base, plusConstant, new long[] {1}, new float[] {1});
    assertThat(shift.kl()[0][0]).isCloseTo(0f, within(1e-6f));
    assertThat(shift.agree()[0][0]).isEqualTo(1f);
  }

  @Test
  void positionsThatAreNotScoredAreZero() throws Exception {
    TokenShiftHead.Shift shift =
        shift(
            logitsOf(new double[] {0.9, 0.1}),
            logitsOf(new double[] {0.1, 0.9}),
            new long[] {0},
            new float[] {0});
    assertThat(shift.kl()[0][0]).isZero();
    assertThat(shift.agree()[0][0]).isZero();
    assertThat(shift.dpTrue()[0][0]).isZero();
  }
}
