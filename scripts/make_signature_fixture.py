#!/usr/bin/env python3
"""Writes fixtures/causal-lm/uniform-v300.onnx: a causal LM whose logits are all zero over a
vocabulary of 300 (perplexity exactly 300). Its output signature differs from the byte-level models
(vocabulary 256), which is what the fleet's signature gate must notice.

    /usr/bin/python3 scripts/make_signature_fixture.py

Needs only the onnx package (Debian: python3-onnx).
"""
import os

import onnx
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "causal-lm", "uniform-v300.onnx")
VOCAB = 300


def main():
    shape = helper.make_node("Shape", ["input_ids"], ["ids_shape"])
    vocab = helper.make_node("Constant", [], ["vocab"],
                             value=helper.make_tensor("vocab_value", TensorProto.INT64, [1], [VOCAB]))
    full = helper.make_node("Concat", ["ids_shape", "vocab"], ["logits_shape"], axis=0)
    zeros = helper.make_node("ConstantOfShape", ["logits_shape"], ["logits"],
                             value=helper.make_tensor("zero", TensorProto.FLOAT, [1], [0.0]))
    graph = helper.make_graph([shape, vocab, full, zeros], "uniform_v300", [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
    ], [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", VOCAB])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="evalfleet")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, OUT)


if __name__ == "__main__":
    main()
