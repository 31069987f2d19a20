#!/usr/bin/python3
"""Re-exports the bundled byte-level GPT the way real causal LMs are shipped, from the same weights.

Run with Debian's python3 (apt-get install python3-torch python3-onnx libopenblas0-pthread):

    /usr/bin/python3 scripts/make_export_variants.py

It trains bytegpt-base again exactly as scripts/make_causal_lm_fixtures.py does (fixed seeds, one
thread), checks that the plain export is byte for byte the committed fixtures/causal-lm/bytegpt-base.onnx
(so these variants are the same model), then writes to fixtures/causal-lm/:
  bytegpt-base-kv.onnx    Hugging Face optimum's decoder shape: input_ids, attention_mask [batch, past + sequence],
                          position_ids, past_key_values.{i}.key/value [batch, heads, past, head_dim] in, logits and
                          present.{i}.key/value out. Fed an empty past it must give the plain export's logits.
  bytegpt-base-fp16.onnx  the plain graph with its logits cast to float16, as mixed-precision exports return them
  bytegpt-base-bf16.onnx  the same with bfloat16 logits
  bytegpt-base-merged.onnx  a merged decoder as optimum writes one: the KV-cache graph behind an If on a boolean
                          use_cache_branch input; here the cache branch returns zero logits, so a scorer that
                          fed true instead of false would be seen at once
(--merged-only skips the retraining and builds the merged decoder from bytegpt-base-kv.onnx.)
CI never runs this script: its outputs are committed.
"""
import hashlib
import math
import os
import sys
import tempfile

import onnx
import torch
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_causal_lm_fixtures as fx  # noqa: E402

OUT = fx.OUT


class ByteGPTWithPast(torch.nn.Module):
    """The same modules as ByteGPT, with optimum's KV-cache inputs and outputs."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def forward(self, input_ids, attention_mask, position_ids, *past):
        b, t = input_ids.shape
        x = self.base.tok(input_ids) + self.base.pos(position_ids)
        key_mask = (attention_mask == 0)[:, None, None, :]
        presents = []
        for i, block in enumerate(self.base.blocks):
            past_k, past_v = past[2 * i], past[2 * i + 1]
            q, k, v = block.qkv(block.ln1(x)).split(fx.D_MODEL, dim=2)
            q = q.view(b, t, fx.HEADS, -1).transpose(1, 2)
            k = torch.cat([past_k, k.view(b, t, fx.HEADS, -1).transpose(1, 2)], dim=2)
            v = torch.cat([past_v, v.view(b, t, fx.HEADS, -1).transpose(1, 2)], dim=2)
            presents += [k, v]
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(fx.D_MODEL // fx.HEADS)
            total = k.shape[2]
            rows = torch.arange(t)[:, None] + (total - t)
            cols = torch.arange(total)[None, :]
            scores = scores.masked_fill(cols > rows, -1e9)
            scores = scores.masked_fill(key_mask, -1e9)
            y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, fx.D_MODEL)
            x = x + block.proj(y)
            x = x + block.mlp(block.ln2(x))
        return (self.base.head(self.base.ln_f(x)), *presents)


def export_with_past(base, path):
    model = ByteGPTWithPast(base).eval()
    head_dim = fx.D_MODEL // fx.HEADS
    ids = torch.tensor([[72, 105, 33, 32]], dtype=torch.long)
    past_len = 3
    past = []
    names_in, names_out, axes = ["input_ids", "attention_mask", "position_ids"], ["logits"], {
        "input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "past_sequence + sequence"},
        "position_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
    for i in range(fx.BLOCKS):
        for kind in ("key", "value"):
            past.append(torch.zeros(1, fx.HEADS, past_len, head_dim))
            names_in.append(f"past_key_values.{i}.{kind}")
            names_out.append(f"present.{i}.{kind}")
            axes[f"past_key_values.{i}.{kind}"] = {0: "batch", 2: "past_sequence"}
            axes[f"present.{i}.{kind}"] = {0: "batch", 2: "past_sequence + sequence"}
    mask = torch.ones(1, past_len + ids.shape[1], dtype=torch.long)
    positions = torch.arange(past_len, past_len + ids.shape[1])[None, :]
    torch.onnx.export(model, (ids, mask, positions, *past), path, input_names=names_in, output_names=names_out,
                      opset_version=fx.OPSET, dynamic_axes=axes)
    onnx.checker.check_model(onnx.load(path))


def with_logits_cast(plain_path, path, to):
    """The plain graph whose logits output is cast to another float type."""
    model = onnx.load(plain_path)
    graph = model.graph
    logits = next(o for o in graph.output if o.name == "logits")
    for node in graph.node:
        node.output[:] = ["logits_f32" if out == "logits" else out for out in node.output]
    graph.node.append(helper.make_node("Cast", ["logits_f32"], ["logits"], to=to))
    logits.type.tensor_type.elem_type = to
    onnx.checker.check_model(model)
    onnx.save(model, path)


def merged_decoder(kv_path, path):
    """optimum's merged decoder shape: an If on use_cache_branch around two branches."""
    kv = onnx.load(kv_path)
    graph = kv.graph
    outputs = [o.name for o in graph.output]

    def branch(name, prefix, zero_logits):
        """A copy of the graph's nodes, every value they produce renamed with the prefix."""
        renamed = {}
        nodes = []
        for node in graph.node:
            copy = onnx.NodeProto()
            copy.CopyFrom(node)
            copy.name = prefix + node.name
            copy.input[:] = [renamed.get(i, i) for i in node.input]
            for out in node.output:
                renamed[out] = prefix + out
            copy.output[:] = [renamed[o] for o in node.output]
            nodes.append(copy)
        result = []
        for out in graph.output:
            source = renamed[out.name]
            if zero_logits and out.name == "logits":
                nodes.append(helper.make_node("Constant", [], [prefix + "zero"],
                                              value=helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])))
                nodes.append(helper.make_node("Mul", [source, prefix + "zero"], [prefix + "logits_out"]))
                source = prefix + "logits_out"
            else:
                nodes.append(helper.make_node("Identity", [source], [prefix + out.name + "_out"]))
                source = prefix + out.name + "_out"
            value = onnx.ValueInfoProto()
            value.CopyFrom(out)
            value.name = source
            result.append(value)
        return helper.make_graph(nodes, name, [], result)

    cache = branch("with_cache", "c_", True)
    no_cache = branch("without_cache", "n_", False)
    use_cache = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
    squeezed = [helper.make_node("Constant", [], ["axis0"], value=helper.make_tensor("a", TensorProto.INT64, [1], [0])),
                helper.make_node("Squeeze", ["use_cache_branch", "axis0"], ["use_cache"])]
    if_node = helper.make_node("If", ["use_cache"], outputs, then_branch=cache, else_branch=no_cache)
    merged = helper.make_graph(squeezed + [if_node], "merged_decoder", list(graph.input) + [use_cache],
                               list(graph.output), list(graph.initializer))
    model = helper.make_model(merged, opset_imports=kv.opset_import, producer_name="evalfleet")
    model.ir_version = kv.ir_version
    onnx.checker.check_model(model)
    onnx.save(model, path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    if "--merged-only" in sys.argv:
        merged_decoder(os.path.join(OUT, "bytegpt-base-kv.onnx"), os.path.join(OUT, "bytegpt-base-merged.onnx"))
        print("wrote bytegpt-base-merged.onnx")
        return
    torch.set_num_threads(1)
    torch.manual_seed(1234)
    base = fx.ByteGPT()
    print("training bytegpt-base again on English prose")
    fx.train(base, fx.english_corpus(), steps=1500, lr=3e-3, seed=1)
    committed = os.path.join(OUT, "bytegpt-base.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        again = os.path.join(tmp, "bytegpt-base.onnx")
        fx.export(base, again)
        if sha256(again) != sha256(committed):
            sys.exit("the retrained export differs from the committed bytegpt-base.onnx: not the same weights")
    print("the retrained weights export to the committed bytegpt-base.onnx, byte for byte")
    export_with_past(base, os.path.join(OUT, "bytegpt-base-kv.onnx"))
    with_logits_cast(committed, os.path.join(OUT, "bytegpt-base-fp16.onnx"), TensorProto.FLOAT16)
    with_logits_cast(committed, os.path.join(OUT, "bytegpt-base-bf16.onnx"), TensorProto.BFLOAT16)
    merged_decoder(os.path.join(OUT, "bytegpt-base-kv.onnx"), os.path.join(OUT, "bytegpt-base-merged.onnx"))
    print("wrote bytegpt-base-kv.onnx, -fp16, -bf16 and -merged.onnx")


if __name__ == "__main__":
    main()
