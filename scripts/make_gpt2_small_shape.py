#!/usr/bin/python3
"""Writes a causal LM shaped like a small GPT-2 for throughput benchmarks (random weights: speed and
memory depend on the shapes, not on what was learned).

    /usr/bin/python3 scripts/make_gpt2_small_shape.py [OUT.onnx] [--vocab N]

Defaults: 6 blocks, d=384, 6 heads, vocabulary 8192, context 256, written to
.evalfleet/bench/gpt2-small-shape.onnx (about 70 MB, so it is made here rather than committed).
Needs Debian's python3-torch and python3-onnx. Then: ./evalfleet bench causal-worker --model <that file>.
"""
import os
import sys

import onnx
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_causal_lm_fixtures import Block  # noqa: E402  the same block, at another size

BLOCKS, D_MODEL, HEADS, CONTEXT = 6, 384, 6, 256


class SmallGpt(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.ModuleList([Block(D_MODEL, HEADS) for _ in range(BLOCKS)])
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
