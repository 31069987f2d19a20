#!/usr/bin/python3
"""Writes fixtures/embedding/bytes-no-token-types.onnx: a tiny embedding model with only input_ids and
attention_mask (no token_type_ids, as many non-BERT encoders have), for known-answer tests.

    /usr/bin/python3 scripts/make_embedding_fixtures.py      (needs Debian's python3-onnx)

Token id = UTF-8 byte value (use fixtures/causal-lm/tokenizer.json). last_hidden_state[b, s] is row
input_ids[b, s] of a fixed table of 8 columns: row t has 1 in column t mod 8 and t / 255 in column
(t + 1) mod 8, so a test can compute any pooling by hand.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "embedding", "bytes-no-token-types.onnx")


def table():
    rows = np.zeros((256, 8), dtype=np.float32)
    for t in range(256):
        rows[t, t % 8] = 1.0
        rows[t, (t + 1) % 8] = t / 255.0
    return rows


def main():
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["gathered"], axis=0),
        # attention_mask takes part (multiplied by zero) so the graph keeps it as an input
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])),
        helper.make_node("Mul", ["mask_f", "zero"], ["mask_zero"]),
        helper.make_node("Unsqueeze", ["mask_zero", "last"], ["mask_zero3"]),
        helper.make_node("Add", ["gathered", "mask_zero3"], ["last_hidden_state"]),
    ]
    graph = helper.make_graph(nodes, "bytes_no_token_types", [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
    ], [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", 8])],
        [numpy_helper.from_array(table(), "table"), numpy_helper.from_array(np.array([-1], dtype=np.int64), "last")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="evalfleet")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    onnx.save(model, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
