package io.evalfleet.scoring;

import java.util.Map;

/**
 * What a {@link TaskScorer} returns for a job.
 *
 * @param values per-row values by name, each as long as the job's row range
 * @param batching how rows were grouped, e.g. {@code length-buckets}
 * @param paddingRatio padded positions over all positions, when the scorer pads
 * @param executionProvider the ONNX Runtime provider the model ran on
 * @param modelSignature the model's inputs and outputs, for the signature gate
 * @param sketches per-token distributions by name, encoded (see {@link
 *     io.evalfleet.common.task.TokenSketch})
 */
public record Scored(
    Map<String, double[]> values,
    String batching,
    Double paddingRatio,
    String executionProvider,
    String modelSignature,
    Map<String, String> sketches) {

  public Scored(
      Map<String, double[]> values,
      String batching,
      Double paddingRatio,
      String executionProvider,
      String modelSignature) {
    this(values, batching, paddingRatio, executionProvider, modelSignature, Map.of());
  }
}
