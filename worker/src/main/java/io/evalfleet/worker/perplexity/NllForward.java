package io.evalfleet.worker.perplexity;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.evalfleet.worker.model.LoadedModel;
import io.evalfleet.worker.scoring.ScoringException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a causal LM over a batch of windows and returns, per window, the summed negative
 * log-likelihood of its scored tokens.
 *
 * <p>The logits ({@code batch × sequence × vocabulary} floats) never reach the Java heap: the
 * model's {@code logits} tensor is fed, still native, to a second small ONNX graph (the NLL head:
 * log-softmax over the vocabulary, gather of the next token, masked to the scored positions), and
 * only its {@code batch × sequence} result is read. Stateless; thread-safe.
 */
public final class NllForward {
  public static final String LOGITS = "logits";
  private static final Set<String> KNOWN_INPUTS = Set.of("input_ids", "attention_mask", "position_ids");

  private final OrtEnvironment env;
  private final OrtSession head;

  public NllForward(OrtEnvironment env, OrtSession head) {
    this.env = env;
    this.head = head;
  }

  /**
   * Checks that {@code model} is a causal LM this scorer can run, and returns its vocabulary size,
   * or -1 when the graph leaves it symbolic.
   */
  public static long checkSignature(LoadedModel model) throws ScoringException {
    if (!model.declaresInput("input_ids")) {
      throw ScoringException.input("causal LM has no 'input_ids' input; its inputs are " + model.inputs().keySet());
    }
    NodeInfo logits = model.outputs().get(LOGITS);
    if (logits == null) {
      throw ScoringException.input("causal LM has no 'logits' output; its outputs are " + model.outputs().keySet());
    }
    if (!(logits.getInfo() instanceof TensorInfo info) || info.type != ai.onnxruntime.OnnxJavaType.FLOAT
        || info.getShape().length != 3) {
      throw ScoringException.input("causal LM output 'logits' must be a float tensor [batch, sequence, vocabulary], but is "
          + logits.getInfo());
    }
    for (String input : model.inputs().keySet()) {
      if (!KNOWN_INPUTS.contains(input)) {
        throw ScoringException.input("causal LM input '" + input + "' is not supported (supported: " + KNOWN_INPUTS + ")");
      }
    }
    return info.getShape()[2];
  }

  /** The NLL sum of each window's scored tokens, in batch order; rows are the token ids of each row. */
  public double[] run(LoadedModel model, List<Window> batch, long[][] rows) throws ScoringException {
    int size = batch.size();
    int seqLen = longest(batch);
    long[] shape = {size, seqLen};
    LongBuffer targets = directLongs(size * seqLen);
    FloatBuffer weights = ByteBuffer.allocateDirect(size * seqLen * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    for (Window window : batch) {
      long[] row = rows[window.row()];
      for (int t = 0; t < seqLen; t++) {
        // Position t predicts token t + 1 of the window; only the window's own tokens are scored.
        int next = window.begin() + t + 1;
        boolean scored = t + 1 < window.length() && next >= window.scoreFrom();
        targets.put(scored ? row[next] : 0);
        weights.put(scored ? 1f : 0f);
      }
    }
    targets.rewind();
    weights.rewind();
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      modelInputs(model, batch, rows, seqLen, inputs);
      try (OnnxTensor targetTensor = OnnxTensor.createTensor(env, targets, shape);
           OnnxTensor weightTensor = OnnxTensor.createTensor(env, weights, shape);
           OrtSession.Result forward = model.session().run(inputs, Set.of(LOGITS))) {
        OnnxValue logits = forward.get(0);
        long[] logitsShape = ((TensorInfo) logits.getInfo()).getShape();
        if (logitsShape.length != 3 || logitsShape[0] != size || logitsShape[1] != seqLen) {
          throw ScoringException.input("causal LM returned logits of shape " + java.util.Arrays.toString(logitsShape)
              + " for input [" + size + ", " + seqLen + "]");
        }
        try (OrtSession.Result nll = head.run(Map.of("logits", (OnnxTensor) logits, "targets", targetTensor,
            "weights", weightTensor))) {
          FloatBuffer values = ((OnnxTensor) nll.get(0)).getFloatBuffer();
          double[] sums = new double[size];
          for (int b = 0; b < size; b++) {
            double sum = 0;
            for (int t = 0; t < seqLen; t++) {
              sum += values.get(b * seqLen + t);
            }
            sums[b] = sum;
          }
          return sums;
        }
      }
    } catch (OrtException e) {
      throw ScoringException.fromModel("ONNX Runtime failed on the causal LM", e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  /** Runs the model alone on the same inputs, discarding the logits: the bare forward pass, for benchmarks. */
  public void forwardOnly(LoadedModel model, List<Window> batch, long[][] rows) throws OrtException {
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      modelInputs(model, batch, rows, longest(batch), inputs);
      try (OrtSession.Result ignored = model.session().run(inputs, Set.of(LOGITS))) {
        // the logits stay native and are released here
      }
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  /** Right-padded {@code input_ids}, and {@code attention_mask} and {@code position_ids} where the model takes them. */
  private void modelInputs(LoadedModel model, List<Window> batch, long[][] rows, int seqLen, Map<String, OnnxTensor> into)
      throws OrtException {
    int size = batch.size();
    LongBuffer ids = directLongs(size * seqLen);
    LongBuffer mask = directLongs(size * seqLen);
    LongBuffer positions = directLongs(size * seqLen);
    for (Window window : batch) {
      long[] row = rows[window.row()];
      for (int t = 0; t < seqLen; t++) {
        boolean real = t < window.length();
        ids.put(real ? row[window.begin() + t] : 0);
        mask.put(real ? 1 : 0);
        positions.put(real ? t : 0);
      }
    }
    long[] shape = {size, seqLen};
    into.put("input_ids", OnnxTensor.createTensor(env, ids.rewind(), shape));
    if (model.declaresInput("attention_mask")) {
      into.put("attention_mask", OnnxTensor.createTensor(env, mask.rewind(), shape));
    }
    if (model.declaresInput("position_ids")) {
      into.put("position_ids", OnnxTensor.createTensor(env, positions.rewind(), shape));
    }
  }

  private static int longest(List<Window> batch) {
    return batch.stream().mapToInt(Window::length).max().orElseThrow();
  }

  private static LongBuffer directLongs(int n) {
    return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }
}
