package io.evalfleet.scoring.perplexity;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.evalfleet.scoring.ScoringException;
import io.evalfleet.scoring.model.LoadedModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Runs a causal LM over a batch of windows and returns, per window, the summed negative
 * log-likelihood of its scored tokens.
 *
 * <p>The logits ({@code batch × sequence × vocabulary} floats) never reach the Java heap: the
 * model's {@code logits} tensor is fed, still native, to a second small ONNX graph (the NLL head:
 * log-softmax over the vocabulary, gather of the next token, masked to the scored positions), and
 * only its {@code batch × sequence} result is read. Float16 and bfloat16 logits go to a head that
 * casts them to float32 before the log-softmax.
 *
 * <p>Exports as Hugging Face optimum writes them are fed as a full-sequence forward: each {@code
 * past_key_values.<i>.key|value} input gets an empty past ({@code [batch, heads, 0, head_dim]}, its
 * type read from the model), a merged decoder's {@code use_cache_branch} is false, and only {@code
 * logits} is fetched (the {@code present.*} outputs stay inside ONNX Runtime). Stateless;
 * thread-safe.
 */
public final class NllForward {
  public static final String LOGITS = "logits";
  private static final Set<String> PLAIN_INPUTS =
      Set.of("input_ids", "attention_mask", "position_ids");
  static final String USE_CACHE_BRANCH = "use_cache_branch";
  private static final Pattern PAST = Pattern.compile("past_key_values\\.\\d+\\.(key|value)");

  /** Logits types a head exists for. */
  private static final Set<OnnxJavaType> LOGITS_TYPES =
      Set.of(OnnxJavaType.FLOAT, OnnxJavaType.FLOAT16, OnnxJavaType.BFLOAT16);

  private final OrtEnvironment env;
  private final Function<OnnxJavaType, OrtSession> heads;

  /**
   * @param heads the NLL head for logits of each type
   */
  public NllForward(OrtEnvironment env, Function<OnnxJavaType, OrtSession> heads) {
    this.env = env;
    this.heads = heads;
  }

  /**
   * Checks that {@code model} is a causal LM this scorer can run, and returns its vocabulary size,
   * or -1 when the graph leaves it symbolic.
   */
  public static long checkSignature(LoadedModel model) throws ScoringException {
    if (!model.declaresInput("input_ids")) {
      throw ScoringException.input(
          "causal LM has no 'input_ids' input; its inputs are " + model.inputs().keySet());
    }
    NodeInfo logits = model.outputs().get(LOGITS);
    if (logits == null) {
      throw ScoringException.input(
          "causal LM has no 'logits' output; its outputs are " + model.outputs().keySet());
    }
    if (!(logits.getInfo() instanceof TensorInfo info)
        || !LOGITS_TYPES.contains(info.type)
        || info.getShape().length != 3) {
      throw ScoringException.input(
          "causal LM output 'logits' must be a float32, float16 or bfloat16 tensor [batch,"
              + " sequence, vocabulary], but is "
              + logits.getInfo());
    }
    for (Map.Entry<String, NodeInfo> input : model.inputs().entrySet()) {
      String name = input.getKey();
      if (PAST.matcher(name).matches()) {
        emptyPastShape(name, input.getValue(), 1);
      } else if (!PLAIN_INPUTS.contains(name) && !name.equals(USE_CACHE_BRANCH)) {
        throw ScoringException.input(
            "causal LM input '"
                + name
                + "' is not supported (supported: "
                + PLAIN_INPUTS
                + ", past_key_values.<i>.key/value and use_cache_branch)");
      }
    }
    return info.getShape()[2];
  }

  /**
   * The NLL sum of each window's scored tokens, in batch order; rows are the token ids of each row.
   */
  public double[] run(LoadedModel model, List<Window> batch, long[][] rows)
      throws ScoringException {
    int size = batch.size();
    int seqLen = longest(batch);
    long[] shape = {size, seqLen};
    LongBuffer targets = directLongs(size * seqLen);
    FloatBuffer weights =
        ByteBuffer.allocateDirect(size * seqLen * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
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
          throw ScoringException.input(
              "causal LM returned logits of shape "
                  + Arrays.toString(logitsShape)
                  + " for input ["
                  + size
                  + ", "
                  + seqLen
                  + "]");
        }
        OrtSession head = heads.apply(((TensorInfo) logits.getInfo()).type);
        try (OrtSession.Result nll =
            head.run(
                Map.of(
                    "logits",
                    (OnnxTensor) logits,
                    "targets",
                    targetTensor,
                    "weights",
                    weightTensor))) {
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

  /**
   * How a candidate's next-token distribution moved from its baseline's over one window: the sums
   * over its scored positions of KL(baseline ‖ candidate), of the true token's probability change
   * and of the candidate's NLL, how many positions' top-1 tokens agree, and each position's KL (for
   * percentiles).
   */
  public record WindowShift(
      double klSum, long agreements, double dpTrueSum, double nllSum, float[] kl) {
    public int positions() {
      return kl.length;
    }
  }

  /**
   * Runs both models on the same windows and compares their next-token distributions with {@code
   * head}, position by position, inside ONNX Runtime: neither model's logits reach the Java heap.
   * Both models must share the tokenizer (the rows are one token sequence for both) and return
   * float32 logits over one vocabulary.
   *
   * @throws ScoringException when the logits differ in shape or are not float32
   */
  WindowShift[] shift(
      LoadedModel baseline,
      LoadedModel candidate,
      List<Window> batch,
      long[][] rows,
      TokenShiftHead head)
      throws ScoringException {
    int size = batch.size();
    int seqLen = longest(batch);
    long[][] targets = new long[size][seqLen];
    float[][] weights = new float[size][seqLen];
    for (int b = 0; b < size; b++) {
      Window window = batch.get(b);
      long[] row = rows[window.row()];
      for (int t = 0; t < seqLen; t++) {
        int next = window.begin() + t + 1;
        boolean scored = t + 1 < window.length() && next >= window.scoreFrom();
        targets[b][t] = scored ? row[next] : 0;
        weights[b][t] = scored ? 1f : 0f;
      }
    }
    Map<String, OnnxTensor> baselineInputs = new HashMap<>();
    Map<String, OnnxTensor> candidateInputs = new HashMap<>();
    try {
      modelInputs(baseline, batch, rows, seqLen, baselineInputs);
      modelInputs(candidate, batch, rows, seqLen, candidateInputs);
      try (OrtSession.Result b = baseline.session().run(baselineInputs, Set.of(LOGITS));
          OrtSession.Result c = candidate.session().run(candidateInputs, Set.of(LOGITS))) {
        for (OnnxValue logits : List.of(b.get(0), c.get(0))) {
          if (((TensorInfo) logits.getInfo()).type != OnnxJavaType.FLOAT) {
            throw ScoringException.input(
                "a token shift needs float32 logits from both models, got "
                    + ((TensorInfo) logits.getInfo()).type);
          }
        }
        TokenShiftHead.Shift shift;
        try {
          shift = head.run((OnnxTensor) b.get(0), (OnnxTensor) c.get(0), targets, weights);
        } catch (IllegalArgumentException e) {
          throw ScoringException.input(e.getMessage());
        }
        WindowShift[] out = new WindowShift[size];
        for (int w = 0; w < size; w++) {
          int scored = 0;
          for (float weight : weights[w]) {
            scored += weight > 0 ? 1 : 0;
          }
          float[] kl = new float[scored];
          double klSum = 0;
          double dpSum = 0;
          double nllSum = 0;
          long agree = 0;
          for (int t = 0, i = 0; t < seqLen; t++) {
            if (weights[w][t] > 0) {
              kl[i++] = shift.kl()[w][t];
              klSum += shift.kl()[w][t];
              dpSum += shift.dpTrue()[w][t];
              nllSum += shift.nll()[w][t];
              agree += shift.agree()[w][t] > 0.5f ? 1 : 0;
            }
          }
          out[w] = new WindowShift(klSum, agree, dpSum, nllSum, kl);
        }
        return out;
      }
    } catch (OrtException e) {
      throw ScoringException.fromModel("ONNX Runtime failed comparing the two causal LMs", e);
    } finally {
      baselineInputs.values().forEach(OnnxTensor::close);
      candidateInputs.values().forEach(OnnxTensor::close);
    }
  }

  /**
   * Runs the model alone on the same inputs, discarding the logits: the bare forward pass, for
   * benchmarks.
   */
  public void forwardOnly(LoadedModel model, List<Window> batch, long[][] rows)
      throws OrtException, ScoringException {
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

  /**
   * Right-padded {@code input_ids}, and {@code attention_mask} and {@code position_ids} where the
   * model takes them; an empty past for each KV-cache input and {@code use_cache_branch} false.
   */
  private void modelInputs(
      LoadedModel model,
      List<Window> batch,
      long[][] rows,
      int seqLen,
      Map<String, OnnxTensor> into)
      throws OrtException, ScoringException {
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
    for (Map.Entry<String, NodeInfo> input : model.inputs().entrySet()) {
      if (PAST.matcher(input.getKey()).matches()) {
        long[] pastShape = emptyPastShape(input.getKey(), input.getValue(), size);
        OnnxJavaType type = ((TensorInfo) input.getValue().getInfo()).type;
        into.put(
            input.getKey(),
            OnnxTensor.createTensor(
                env, ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder()), pastShape, type));
      }
    }
    if (model.declaresInput(USE_CACHE_BRANCH)) {
      // A merged decoder: false takes the branch without a cache, a full-sequence forward.
      into.put(USE_CACHE_BRANCH, OnnxTensor.createTensor(env, new boolean[] {false}));
    }
  }

  /**
   * {@code [batch, heads, 0, head_dim]} for a KV-cache input, its heads and head size read from the
   * model; refused when the model leaves them symbolic or the type is not a float type.
   */
  public static long[] emptyPastShape(String name, NodeInfo input, int batch)
      throws ScoringException {
    if (!(input.getInfo() instanceof TensorInfo info)
        || info.getShape().length != 4
        || !LOGITS_TYPES.contains(info.type)) {
      throw ScoringException.input(
          "causal LM input '"
              + name
              + "' must be a float tensor [batch, heads, past,"
              + " head_dim], but is "
              + input.getInfo());
    }
    long heads = info.getShape()[1];
    long headDim = info.getShape()[3];
    if (heads < 1 || headDim < 1) {
      throw ScoringException.input(
          "causal LM input '"
              + name
              + "' leaves its heads or head size symbolic ("
              + Arrays.toString(info.getShape())
              + "): an empty past cannot be shaped for it");
    }
    return new long[] {batch, heads, 0, headDim};
  }

  private static int longest(List<Window> batch) {
    return batch.stream().mapToInt(Window::length).max().orElseThrow();
  }

  private static LongBuffer directLongs(int n) {
    return ByteBuffer.allocateDirect(n * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
  }
}
