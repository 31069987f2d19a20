#!/usr/bin/python3
"""Writes a causal LM shaped like a small GPT-2 for throughput benchmarks (random weights: speed and
memory depend on the shapes, not on what was learned).

    /usr/bin/python3 scripts/make_gpt2_small_shape.py [OUT.onnx] [--vocab N]

Defaults: 6 blocks, d=384, 6 heads, vocabulary 8192, context 256, written to
.evalfleet/bench/gpt2-small-shape.onnx (about 70 MB, so it is made here rather than committed).
Needs Debian's python3-torch and python3-onnx. Then: ./evalfleet bench causal-worker --model <that file>.
"""
import math
import os
import sys

import onnx
import torch
import torch.nn as nn

BLOCKS, D_MODEL, HEADS, CONTEXT = 6, 384, 6, 256


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.qkv = nn.Linear(D_MODEL, 3 * D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.mlp = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL))

    def forward(self, x, key_mask):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D_MODEL, dim=2)
        q, k, v = (z.view(b, t, HEADS, -1).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D_MODEL // HEADS)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(causal, -1e9).masked_fill(key_mask, -1e9)
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, D_MODEL)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class SmallGpt(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.ModuleList([Block() for _ in range(BLOCKS)])
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, vocab)

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos(torch.arange(t).unsqueeze(0))
        key_mask = (attention_mask == 0)[:, None, None, :]
        for block in self.blocks:
            x = block(x, key_mask)
        return self.head(self.ln_f(x))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    vocab = int(sys.argv[sys.argv.index("--vocab") + 1]) if "--vocab" in sys.argv else 8192
    args = [a for a in args if a != str(vocab)]
    out = args[0] if args else os.path.join(".evalfleet", "bench", "gpt2-small-shape.onnx")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    torch.manual_seed(5)
    model = SmallGpt(vocab).eval()
    ids = torch.tensor([[1, 2, 3, 4]], dtype=torch.long)
    torch.onnx.export(model, (ids, torch.ones_like(ids)), out, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], opset_version=17,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                    "logits": {0: "batch", 1: "sequence"}})
    onnx.checker.check_model(onnx.load(out))
    print(f"wrote {out}: {BLOCKS} blocks, d={D_MODEL}, {HEADS} heads, vocabulary {vocab}, context {CONTEXT}")


if __name__ == "__main__":
    main()
