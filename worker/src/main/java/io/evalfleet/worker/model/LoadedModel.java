package io.evalfleet.worker.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtSession;
import java.util.Map;

/**
 * An ONNX Runtime session for one artifact digest, with what was learned about it at load time.
 * {@link OrtSession#run} is thread-safe, so one instance serves every job of the model.
 *
 * @param executionProvider the provider the session runs on, {@code cpu} or {@code cuda}
 * @param providerFallback why CUDA was asked for ({@code auto}) and not used; null otherwise
 */
public record LoadedModel(String sha256, OrtSession session, Map<String, NodeInfo> inputs,
    Map<String, NodeInfo> outputs, String executionProvider, String providerFallback) {

  public boolean declaresInput(String name) {
    return inputs.containsKey(name);
  }
}
