#!/usr/bin/env python3
"""Writes fixtures/causal-lm/bytegpt-tempered.onnx: bytegpt-base with its logits multiplied by
FACTOR (1.12 by default: a temperature below 1). The base is already overconfident on English prose
(a flatter copy, logits x 0.85, scores about 12% lower perplexity), so a sharper one is worse on
every row: a small, uniform regression for the sequential-decision tests and the sequential-fleet
benchmark.

    /usr/bin/python3 scripts/make_tempered_fixture.py [FACTOR]

Needs only the onnx package (Debian: python3-onnx).
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

HERE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "causal-lm")
FACTOR = float(sys.argv[1]) if len(sys.argv) > 1 else 1.12


def main():
    model = onnx.load(os.path.join(HERE, "bytegpt-base.onnx"))
    graph = model.graph
    (out,) = [o for o in graph.output if o.name == "logits"]
    for node in graph.node:
        node.output[:] = ["logits_untempered" if name == "logits" else name for name in node.output]
    factor = helper.make_node("Constant", [], ["temper"],
                              value=helper.make_tensor("temper_value", TensorProto.FLOAT, [], [FACTOR]))
    scale = helper.make_node("Mul", ["logits_untempered", "temper"], ["logits"])
    graph.node.extend([factor, scale])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "bytegpt-tempered.onnx"))


if __name__ == "__main__":
    main()
