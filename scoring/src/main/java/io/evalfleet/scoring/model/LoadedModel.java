package io.evalfleet.scoring.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * An ONNX Runtime session for one artifact digest, with what was learned about it at load time.
 * {@link OrtSession#run} is thread-safe, so one instance serves every job of the model.
 *
 * @param executionProvider the provider the session runs on, {@code cpu} or {@code cuda}
 * @param providerFallback why CUDA was asked for ({@code auto}) and not used; null otherwise
 */
public record LoadedModel(
    String sha256,
    OrtSession session,
    Map<String, NodeInfo> inputs,
    Map<String, NodeInfo> outputs,
    String executionProvider,
    String providerFallback) {

  public boolean declaresInput(String name) {
    return inputs.containsKey(name);
  }

  /**
   * Inputs and outputs with element types and shapes, sorted by name, e.g. {@code in
   * input_ids:INT64[-1,-1] → out logits:FLOAT[-1,-1,256]}: a model that is a drop-in replacement
   * for another has the same signature.
   */
  public String signature() {
    return "in " + describe(inputs) + " → out " + describe(outputs);
  }

  private static String describe(Map<String, NodeInfo> nodes) {
    return new TreeMap<>(nodes)
        .values().stream()
            .map(
                node ->
                    node.getName()
                        + ":"
                        + (node.getInfo() instanceof TensorInfo t
                            ? t.type + Arrays.toString(t.getShape()).replace(" ", "")
                            : node.getInfo().toString()))
            .collect(Collectors.joining(", "));
  }
}
