#!/usr/bin/env python3
"""Makes scoring/src/main/resources/onnx/token-shift-head.onnx: the next-token distribution shift
between a baseline and a candidate causal LM, computed inside ONNX Runtime from both models' logits.

Run with Debian's python3 (apt-get install python3-onnx): /usr/bin/python3 scripts/make_token_shift_head.py

Inputs:  baseline_logits, candidate_logits  float32 [batch, sequence, vocabulary]
         targets                            int64   [batch, sequence]  the true next token at each position
         weights                            float32 [batch, sequence]  > 0 where the position is scored
Outputs, per position (0 where it is not scored), float32 [batch, sequence]:
         kl        KL(baseline || candidate) = sum_v p_b(v) (log p_b(v) - log p_c(v)), in nats
         agree     1 when both models' most likely next token is the same, else 0
         dp_true   p_c(target) - p_b(target): how the probability of the true next token moved
         nll       -log p_c(target): the candidate's token NLL, as the NLL head computes it, so a paired job
                   scores the candidate's perplexity from the same forward pass

A Scan over the batch holds one sequence's log-probabilities at a time, like the NLL head, so the
head never needs more than the two models' logits and one sequence's worth of working memory."""
import os

import onnx
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "scoring", "src", "main", "resources", "onnx", "token-shift-head.onnx")
OPSET = 17


def shift_head():
    const = lambda name, dtype, dims, values: helper.make_node(
        "Constant", [], [name], value=helper.make_tensor(name + "_value", dtype, dims, values))
    body_nodes = [
        const("last_axis", TensorProto.INT64, [1], [-1]),
        const("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_node("LogSoftmax", ["row_base"], ["logp_b"], axis=-1),
        helper.make_node("LogSoftmax", ["row_cand"], ["logp_c"], axis=-1),
        helper.make_node("Exp", ["logp_b"], ["p_b"]),
        # KL(b || c) per position
        helper.make_node("Sub", ["logp_b", "logp_c"], ["log_ratio"]),
        helper.make_node("Mul", ["p_b", "log_ratio"], ["kl_terms"]),
        helper.make_node("ReduceSum", ["kl_terms", "last_axis"], ["kl_all"], keepdims=0),
        # top-1 agreement
        helper.make_node("ArgMax", ["row_base"], ["top_b"], axis=-1, keepdims=0),
        helper.make_node("ArgMax", ["row_cand"], ["top_c"], axis=-1, keepdims=0),
        helper.make_node("Equal", ["top_b", "top_c"], ["same_top"]),
        helper.make_node("Cast", ["same_top"], ["agree_all"], to=TensorProto.FLOAT),
        # probability of the true next token in each model
        helper.make_node("Unsqueeze", ["row_targets", "last_axis"], ["index"]),
        helper.make_node("GatherElements", ["logp_b", "index"], ["lt_b"], axis=-1),
        helper.make_node("GatherElements", ["logp_c", "index"], ["lt_c"], axis=-1),
        helper.make_node("Squeeze", ["lt_b", "last_axis"], ["logp_true_b"]),
        helper.make_node("Squeeze", ["lt_c", "last_axis"], ["logp_true_c"]),
        helper.make_node("Exp", ["logp_true_b"], ["p_true_b"]),
        helper.make_node("Exp", ["logp_true_c"], ["p_true_c"]),
        helper.make_node("Sub", ["p_true_c", "p_true_b"], ["dp_all"]),
        helper.make_node("Neg", ["logp_true_c"], ["nll_all"]),
        # positions that are not scored are 0
        helper.make_node("Greater", ["row_weights", "zero"], ["scored"]),
        helper.make_node("Where", ["scored", "kl_all", "zero"], ["row_kl"]),
        helper.make_node("Where", ["scored", "agree_all", "zero"], ["row_agree"]),
        helper.make_node("Where", ["scored", "dp_all", "zero"], ["row_dp"]),
        helper.make_node("Where", ["scored", "nll_all", "zero"], ["row_nll"]),
    ]
    body = helper.make_graph(body_nodes, "shift_row", [
        helper.make_tensor_value_info("row_base", TensorProto.FLOAT, ["sequence", "vocab"]),
        helper.make_tensor_value_info("row_cand", TensorProto.FLOAT, ["sequence", "vocab"]),
        helper.make_tensor_value_info("row_targets", TensorProto.INT64, ["sequence"]),
        helper.make_tensor_value_info("row_weights", TensorProto.FLOAT, ["sequence"]),
    ], [
        helper.make_tensor_value_info("row_kl", TensorProto.FLOAT, ["sequence"]),
        helper.make_tensor_value_info("row_agree", TensorProto.FLOAT, ["sequence"]),
        helper.make_tensor_value_info("row_dp", TensorProto.FLOAT, ["sequence"]),
        helper.make_tensor_value_info("row_nll", TensorProto.FLOAT, ["sequence"]),
    ])
    nodes = [helper.make_node("Scan", ["baseline_logits", "candidate_logits", "targets", "weights"],
                              ["kl", "agree", "dp_true", "nll"], body=body, num_scan_inputs=4)]
    graph = helper.make_graph(nodes, "token_shift_head", [
        helper.make_tensor_value_info("baseline_logits", TensorProto.FLOAT, ["batch", "sequence", "vocab"]),
        helper.make_tensor_value_info("candidate_logits", TensorProto.FLOAT, ["batch", "sequence", "vocab"]),
        helper.make_tensor_value_info("targets", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["batch", "sequence"]),
    ], [
        helper.make_tensor_value_info("kl", TensorProto.FLOAT, ["batch", "sequence"]),
        helper.make_tensor_value_info("agree", TensorProto.FLOAT, ["batch", "sequence"]),
        helper.make_tensor_value_info("dp_true", TensorProto.FLOAT, ["batch", "sequence"]),
        helper.make_tensor_value_info("nll", TensorProto.FLOAT, ["batch", "sequence"]),
    ])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="evalfleet")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    onnx.save(shift_head(), OUT)
    print("wrote", os.path.relpath(OUT, ROOT))
