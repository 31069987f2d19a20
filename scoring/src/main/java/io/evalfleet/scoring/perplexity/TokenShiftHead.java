package io.evalfleet.scoring.perplexity;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * How a candidate causal LM's next-token distribution moved from its baseline's, position by
 * position, computed inside ONNX Runtime by a small graph ({@code onnx/token-shift-head.onnx}, made
 * by {@code scripts/make_token_shift_head.py}) from both models' logits, which stay native: per
 * scored position, KL(baseline ‖ candidate) in nats, whether both models' most likely next token
 * agrees, the change in probability of the true next token, and the candidate's NLL of it.
 * Positions that are not scored are 0. Float32 logits. Thread-safe (ONNX Runtime sessions are).
 */
final class TokenShiftHead {
  public static final String RESOURCE = "/onnx/token-shift-head.onnx";

  /**
   * Per window and position: KL(baseline ‖ candidate), top-1 agreement (0 or 1), p_c(true) −
   * p_b(true), and the candidate's NLL of the true token (the NLL head's value, so the candidate's
   * perplexity comes from the same forward pass).
   */
  public record Shift(float[][] kl, float[][] agree, float[][] dpTrue, float[][] nll) {}

  private final OrtEnvironment env;
  private final OrtSession head;

  public TokenShiftHead(OrtEnvironment env, OrtSession head) {
    this.env = env;
    this.head = head;
  }

  /** A session of the head from this module's resources; the caller closes it. */
  public static OrtSession load(OrtEnvironment env, OrtSession.SessionOptions options)
      throws OrtException, IOException {
    try (var in = TokenShiftHead.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the scoring jar");
      }
      return env.createSession(in.readAllBytes(), options);
    }
  }

  /**
   * @param baselineLogits {@code [batch, sequence, vocabulary]} float32, as the baseline model
   *     returned them
   * @param candidateLogits the candidate's, of the same shape
   * @param targets the true next token at each position
   * @param weights {@code > 0} where a position is scored
   */
  public Shift run(
      OnnxTensor baselineLogits, OnnxTensor candidateLogits, long[][] targets, float[][] weights)
      throws OrtException {
    long[] shape = baselineLogits.getInfo().getShape();
    long[] other = candidateLogits.getInfo().getShape();
    if (!Arrays.equals(shape, other)) {
      throw new IllegalArgumentException(
          "the two models' logits differ in shape: baseline "
              + Arrays.toString(shape)
              + ", candidate "
              + Arrays.toString(other)
              + " (a token shift needs one vocabulary and the same windows)");
    }
    int batch = (int) shape[0];
    int sequence = (int) shape[1];
    LongBuffer targetBuffer =
        ByteBuffer.allocateDirect(batch * sequence * Long.BYTES)
            .order(ByteOrder.nativeOrder())
            .asLongBuffer();
    FloatBuffer weightBuffer =
        ByteBuffer.allocateDirect(batch * sequence * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    for (int b = 0; b < batch; b++) {
      targetBuffer.put(targets[b], 0, sequence);
      weightBuffer.put(weights[b], 0, sequence);
    }
    targetBuffer.flip();
    weightBuffer.flip();
    long[] positions = {batch, sequence};
    try (OnnxTensor targetTensor = OnnxTensor.createTensor(env, targetBuffer, positions);
        OnnxTensor weightTensor = OnnxTensor.createTensor(env, weightBuffer, positions);
        OrtSession.Result result =
            head.run(
                Map.of(
                    "baseline_logits",
                    baselineLogits,
                    "candidate_logits",
                    candidateLogits,
                    "targets",
                    targetTensor,
                    "weights",
                    weightTensor))) {
      return new Shift(
          read(result, "kl", batch, sequence),
          read(result, "agree", batch, sequence),
          read(result, "dp_true", batch, sequence),
          read(result, "nll", batch, sequence));
    }
  }

  private static float[][] read(OrtSession.Result result, String name, int batch, int sequence)
      throws OrtException {
    FloatBuffer values = ((OnnxTensor) result.get(name).orElseThrow()).getFloatBuffer();
    float[][] out = new float[batch][sequence];
    for (int b = 0; b < batch; b++) {
      values.get(out[b]);
    }
    return out;
  }
}
