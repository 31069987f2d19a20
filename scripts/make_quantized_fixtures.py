#!/usr/bin/python3
"""Writes weight-quantized variants of fixtures/causal-lm/bytegpt-base.onnx.

Each matrix (the token and position embeddings and every MatMul weight) is rounded to a symmetric
grid of 2^(bits-1) - 1 levels per output channel (round to nearest, as weight-only RTN quantization
does) and stored dequantized, in float32: the graph is the base's, only the weights lose precision.
Vectors (biases, layer-norm parameters) stay as they are. Deterministic: the same base gives the
same bytes.

Run with Debian's python3 (python3-onnx, python3-numpy), from the repository root:
    /usr/bin/python3 scripts/make_quantized_fixtures.py
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper

BASE = "fixtures/causal-lm/bytegpt-base.onnx"
VARIANTS = {bits: f"fixtures/causal-lm/bytegpt-base-int{bits}.onnx" for bits in (8, 5, 4)}


def quantize(weights, bits, axis):
    """Round-to-nearest on a symmetric grid, one scale per slice along `axis` (the output channel)."""
    levels = 2 ** (bits - 1) - 1
    reduce = tuple(i for i in range(weights.ndim) if i != axis)
    scale = np.abs(weights).max(axis=reduce, keepdims=True) / levels
    scale[scale == 0] = 1
    return (np.round(weights / scale) * scale).astype(np.float32)


def main():
    for bits, target in VARIANTS.items():
        model = onnx.load(BASE)
        changed = 0
        for tensor in model.graph.initializer:
            weights = numpy_helper.to_array(tensor)
            if weights.ndim != 2:
                continue
            # Embeddings [rows, d] are looked up by row; MatMul weights [in, out] produce columns.
            axis = 0 if tensor.name.endswith(".weight") else 1
            tensor.CopyFrom(numpy_helper.from_array(quantize(weights, bits, axis), tensor.name))
            changed += 1
        model.doc_string = f"bytegpt-base with its {changed} weight matrices rounded to int{bits} (per channel, RTN)"
        onnx.checker.check_model(model)
        onnx.save(model, target)
        print(f"{target}: {changed} matrices at {bits} bits")


if __name__ == "__main__":
    sys.exit(main())
