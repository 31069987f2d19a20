package io.evalfleet.common.contract;

/**
 * Where a shard was scored, as the worker saw it: recorded in the evaluation lockfile, and the
 * model's signature is compared with the baseline's.
 *
 * @param onnxRuntime the ONNX Runtime library, e.g. {@code onnxruntime 1.29.0}
 * @param hardware the worker's machine, e.g. {@code linux/amd64, 2 cores} or the GPU's name
 * @param modelSignature the model's inputs and outputs with element types and shapes ({@code -1}
 *     for a dynamic dimension), e.g. {@code in input_ids:INT64[-1,-1] → out
 *     logits:FLOAT[-1,-1,256]}
 * @param envelope everything else that can move a score without the model changing (batch shape,
 *     threads, deterministic compute, the machine) and the hardware profile derived from it; null
 *     from workers that do not report it
 */
public record ScoringEnvironment(
    String onnxRuntime, String hardware, String modelSignature, ScoringEnvelope envelope) {

  /** An environment without an envelope, as workers reported it before envelopes were kept. */
  public ScoringEnvironment(String onnxRuntime, String hardware, String modelSignature) {
    this(onnxRuntime, hardware, modelSignature, null);
  }
}
