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
 */
public record ScoringEnvironment(String onnxRuntime, String hardware, String modelSignature) {}
