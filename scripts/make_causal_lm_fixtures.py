#!/usr/bin/python3
"""Makes the small causal-LM fixtures in fixtures/causal-lm/ (and the scoring module's NLL heads).

Run with Debian's python3 (apt-get install python3-torch python3-onnx libopenblas0-pthread):

    /usr/bin/python3 scripts/make_causal_lm_fixtures.py [--small-only]

(--small-only remakes just the heads and the untrained models, in seconds; --heads-only just the heads.)

Deterministic (fixed seeds, one thread). Writes:
  uniform-v256.onnx       logits are all zero: perplexity is exactly 256 for any text
  nan-logits.onnx         logits are all NaN: must be reported, never scored
  bytegpt-base.onnx       byte-level GPT (vocab 256 = UTF-8 bytes, 2 blocks, d=64, context 128) trained on English
                          prose (written here, plus the licence texts in /usr/share/common-licenses)
  bytegpt-finetuned.onnx  the same model trained further on program code and tables: its English perplexity drifts up
  tokenizer.json          a Hugging Face byte-level tokenizer whose token id is the byte value
  heldout.txt             English text never trained on: the golden subset of the demo, one row per line
  reference.json          NLL sums computed here in float64 for known-answer tests
  scoring/src/main/resources/onnx/nll-head.onnx   log-softmax + gather of the next token, run inside ONNX Runtime
  scoring/src/main/resources/onnx/nll-head-fp16.onnx, nll-head-bf16.onnx   the same for float16 and bfloat16 logits:
                          cast to float32 first, so the log-softmax is computed in float32
CI never runs this script: its outputs are committed.
"""
import json
import math
import os
import random
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "causal-lm")
NLL_HEADS = {TensorProto.FLOAT: "nll-head.onnx", TensorProto.FLOAT16: "nll-head-fp16.onnx",
             TensorProto.BFLOAT16: "nll-head-bf16.onnx"}
HEAD_DIR = os.path.join(ROOT, "scoring", "src", "main", "resources", "onnx")
VOCAB, D_MODEL, HEADS, BLOCKS, CONTEXT = 256, 64, 4, 2, 128
OPSET = 17

ENGLISH = """The morning train left the station a few minutes late, and most of the passengers were still half asleep.
A small bakery on the corner sells fresh bread every day, and the smell reaches the end of the street.
She opened the window to let in the cool air and watched the rain fall on the empty garden.
The children spent the whole afternoon building a wooden boat that they hoped would float on the pond.
After the meeting, the team agreed to test the new plan for two weeks before making a final decision.
Old maps show that the river once ran much closer to the town than it does today.
He wrote a long letter to his sister, telling her about the new job and the friends he had made.
The museum keeps its oldest books in a cold, dark room where the light cannot damage the paper.
When the storm passed, the farmers went out to see how much of the harvest they could still save.
The teacher asked the class to read the first chapter and to write down three questions about it.
Every spring the birds return to the same trees, and the park fills with their noise from dawn to dusk.
The doctor said that a short walk after dinner would help him sleep better at night.
The city council voted to build a new library next to the school, where the old market used to be.
She learned to play the piano as a child, but she only started to enjoy it when she was much older.
The road up the mountain is narrow and steep, so most visitors prefer to take the bus.
A good cup of tea, a warm blanket and a quiet evening were all that he wanted after the long week.
The scientists measured the temperature of the lake every hour for a whole year.
Nobody knew who had left the flowers on the bench, but they appeared there every Sunday morning.
The company moved its offices to a larger building because the old one had become too crowded.
In the evening the harbour was calm, and the fishing boats rocked gently against the wooden pier.
The recipe calls for two cups of flour, one egg, a little milk and a pinch of salt.
They walked along the beach until the sun went down and the first stars appeared above the sea.
The new bridge made the journey to the city much shorter for the people who lived in the valley.
His grandmother told stories about the war, the hard winters and the village where she grew up.
The students worked in small groups and presented their results to the rest of the class.
A cat slept in the sun on the windowsill, ignoring the dog that barked in the yard below.
The painter mixed the colours carefully, trying to match the exact blue of the evening sky.
Most of the shops in the old town close early on Saturday, so it is best to go in the morning.
The engineer explained that the machine would need new parts before it could run again.
The garden was full of tomatoes, beans and tall yellow flowers that leaned toward the light.
"""

HELDOUT = """The bus stopped in front of the hospital, and an old man stepped down slowly with his bag.
She planted a row of small trees along the fence so that the garden would have some shade in summer.
The workers finished the roof just before the first snow fell on the village.
He read the instructions twice, but the drawing still did not look like the picture on the box.
On quiet evenings the family sat together in the kitchen and talked about their plans for the holidays.
The river was high after a week of rain, and the path along the bank was closed for several days.
A young woman played the violin in the square while people stopped to listen on their way home.
The library will open a new reading room for children at the end of the month.
Our neighbours keep bees in the garden, and every autumn they give us a jar of honey.
The fishermen came back late with a small catch and a story about the wind that had turned against them.
The little shop at the station sells newspapers, coffee and warm bread to the people waiting for their trains, and in winter the owner keeps a small stove burning near the door so that travellers can warm their hands.
He spent the whole weekend repairing the old bicycle that his father had kept in the shed for many years.
The map was old and the names of the streets had changed, so they asked a woman at the bakery for directions.
After the concert the musicians packed their instruments and walked together to a small restaurant near the park.
The morning was cold and bright, and the frost on the grass sparkled in the first light of the sun.
The teacher smiled when the students finally understood the question, and the whole room seemed to relax at once.
"""


LICENSES = ["GPL-3", "GPL-2", "LGPL-2.1", "Apache-2.0", "MPL-2.0", "GFDL-1.3", "Artistic"]


def english_corpus():
    """The prose above plus the English licence texts every Debian system has (about 200 KB)."""
    parts = [ENGLISH]
    for name in LICENSES:
        with open(os.path.join("/usr/share/common-licenses", name), encoding="utf-8") as f:
            parts.append(" ".join(f.read().split()))
    return "\n".join(parts)


def code_corpus(rng):
    """Program code and numeric tables: a clearly different distribution from the English prose."""
    lines = []
    names = ["alpha", "beta", "count", "total", "index", "value", "buffer", "result", "offset", "limit"]
    for i in range(600):
        a, b = rng.choice(names), rng.choice(names)
        kind = i % 4
        if kind == 0:
            lines.append(f"for (int {a}_{i % 9} = 0; {a}_{i % 9} < {rng.randint(2, 999)}; {a}_{i % 9}++) {{ {b}[{a}_{i % 9}] += {rng.randint(0, 99)}; }}")
        elif kind == 1:
            lines.append(f"def {a}_{b}(x, y={rng.randint(0, 9)}): return x * {rng.randint(1, 64)} + y // {rng.randint(1, 8)}")
        elif kind == 2:
            lines.append(",".join(str(rng.randint(0, 99999)) for _ in range(8)))
        else:
            lines.append(f"{{\"{a}\": {rng.randint(0, 9999)}, \"{b}\": [{rng.randint(0, 9)}, {rng.randint(0, 9)}], \"ok\": {str(rng.random() < 0.5).lower()}}}")
    return "\n".join(lines) + "\n"


class Block(nn.Module):
    """A pre-norm transformer block with causal self-attention (also used by make_gpt2_small_shape.py)."""

    def __init__(self, d_model=D_MODEL, heads=HEADS):
        super().__init__()
        self.d_model, self.heads = d_model, heads
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x, key_mask):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(self.d_model, dim=2)
        q = q.view(b, t, self.heads, -1).transpose(1, 2)
        k = k.view(b, t, self.heads, -1).transpose(1, 2)
        v = v.view(b, t, self.heads, -1).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.d_model // self.heads)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        scores = scores.masked_fill(causal, -1e9)
        scores = scores.masked_fill(key_mask, -1e9)
        attn = torch.softmax(scores, dim=-1)
        y = (attn @ v).transpose(1, 2).reshape(b, t, self.d_model)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class ByteGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.ModuleList([Block() for _ in range(BLOCKS)])
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB)

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        positions = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(positions)
        key_mask = (attention_mask == 0)[:, None, None, :]
        for block in self.blocks:
            x = block(x, key_mask)
        return self.head(self.ln_f(x))


class Uniform(nn.Module):
    def forward(self, input_ids, attention_mask):
        return torch.zeros(input_ids.shape[0], input_ids.shape[1], VOCAB) + 0 * attention_mask[:, :, None].float()


class NanLogits(nn.Module):
    """A broken model: every logit is NaN (what a diverged fine-tune can export)."""
    def forward(self, input_ids, attention_mask):
        zeros = torch.zeros(input_ids.shape[0], input_ids.shape[1], VOCAB) + 0 * attention_mask[:, :, None].float()
        return zeros * float("nan")


def train(model, text, steps, lr, seed):
    torch.manual_seed(seed)
    data = torch.tensor(list(text.encode("utf-8")), dtype=torch.long)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    for step in range(steps):
        starts = torch.randint(0, len(data) - CONTEXT - 1, (32,))
        batch = torch.stack([data[s:s + CONTEXT + 1] for s in starts])
        logits = model(batch[:, :-1], torch.ones_like(batch[:, :-1]))
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            print(f"  step {step}: loss {loss.item():.3f}")
    model.eval()


def export(model, path):
    ids = torch.tensor([[72, 105, 33, 32]], dtype=torch.long)
    torch.onnx.export(model, (ids, torch.ones_like(ids)), path, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], opset_version=OPSET,
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                    "logits": {0: "batch", 1: "sequence"}})
    onnx.checker.check_model(onnx.load(path))


def sum_nll(model, ids):
    """Σ −log p(ids[j] | ids[<j]) for j = 1..n−1, in float64."""
    with torch.no_grad():
        x = torch.tensor([ids], dtype=torch.long)
        logits = model(x, torch.ones_like(x)).double()
        logp = torch.log_softmax(logits[0, :-1], dim=-1)
        return float(-logp.gather(1, x[0, 1:, None]).sum()), len(ids) - 1


def sliding_nll(model, ids, window, stride):
    """The strided sliding window of Hugging Face's perplexity guide: each token scored once, with its context."""
    total, count, prev_end = 0.0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + window, len(ids))
        with torch.no_grad():
            x = torch.tensor([ids[begin:end]], dtype=torch.long)
            logp = torch.log_softmax(model(x, torch.ones_like(x)).double()[0], dim=-1)
        for j in range(1, end - begin):
            if begin + j >= prev_end:
                total -= float(logp[j - 1, ids[begin + j]])
                count += 1
        prev_end = end
        if end == len(ids):
            break
    return total, count


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def byte_tokenizer():
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    vocab = {ch: b for b, ch in bytes_to_unicode().items()}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
            "pre_tokenizer": byte_level, "post_processor": None, "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])), "merges": []}}


def nll_head(logits_type=TensorProto.FLOAT):
    """nll[b, s] = −log_softmax(logits[b, s, :])[targets[b, s]] where weights[b, s] > 0, else 0.

    A Scan over the batch runs the log-softmax one sequence at a time, so the head never holds more
    than one sequence's log-probabilities ([sequence, vocabulary]) besides the logits: with a large
    vocabulary a whole batch of them would double the memory of the logits. Logits of another type
    (float16, bfloat16) are cast to float32 inside, one sequence at a time, so the log-softmax and
    its sum over tens of thousands of tokens are never computed in half precision."""
    cast = [] if logits_type == TensorProto.FLOAT else [
        helper.make_node("Cast", ["row_logits"], ["row_logits_f32"], to=TensorProto.FLOAT)]
    source = "row_logits" if logits_type == TensorProto.FLOAT else "row_logits_f32"
    body_nodes = cast + [
        helper.make_node("LogSoftmax", [source], ["logp"], axis=-1),
        helper.make_node("Constant", [], ["last_axis"], value=helper.make_tensor("a", TensorProto.INT64, [1], [-1])),
        helper.make_node("Unsqueeze", ["row_targets", "last_axis"], ["index"]),
        helper.make_node("GatherElements", ["logp", "index"], ["picked"], axis=-1),
        helper.make_node("Squeeze", ["picked", "last_axis"], ["logp_target"]),
        helper.make_node("Neg", ["logp_target"], ["nll_all"]),
        helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])),
        helper.make_node("Greater", ["row_weights", "zero"], ["scored"]),
        helper.make_node("Where", ["scored", "nll_all", "zero"], ["row_nll"]),
    ]
    body = helper.make_graph(body_nodes, "nll_row", [
        helper.make_tensor_value_info("row_logits", logits_type, ["sequence", "vocab"]),
        helper.make_tensor_value_info("row_targets", TensorProto.INT64, ["sequence"]),
        helper.make_tensor_value_info("row_weights", TensorProto.FLOAT, ["sequence"]),
    ], [helper.make_tensor_value_info("row_nll", TensorProto.FLOAT, ["sequence"])])
    nodes = [helper.make_node("Scan", ["logits", "targets", "weights"], ["nll"], body=body, num_scan_inputs=3)]
    graph = helper.make_graph(nodes, "nll_head", [
        helper.make_tensor_value_info("logits", logits_type, ["batch", "sequence", "vocab"]),
        helper.make_tensor_value_info("targets", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["batch", "sequence"]),
    ], [helper.make_tensor_value_info("nll", TensorProto.FLOAT, ["batch", "sequence"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="evalfleet")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    torch.set_num_threads(1)
    random.seed(7)
    np.random.seed(7)
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(HEAD_DIR, exist_ok=True)
    for logits_type, name in NLL_HEADS.items():
        onnx.save(nll_head(logits_type), os.path.join(HEAD_DIR, name))
    if "--heads-only" in sys.argv:
        return

    uniform = Uniform()
    export(uniform, os.path.join(OUT, "uniform-v256.onnx"))
    export(NanLogits(), os.path.join(OUT, "nan-logits.onnx"))
    if "--small-only" in sys.argv:
        return

    torch.manual_seed(1234)
    base = ByteGPT()
    print("training bytegpt-base on English prose")
    train(base, english_corpus(), steps=1500, lr=3e-3, seed=1)
    export(base, os.path.join(OUT, "bytegpt-base.onnx"))

    finetuned = ByteGPT()
    finetuned.load_state_dict(base.state_dict())
    print("fine-tuning on code and tables")
    train(finetuned, code_corpus(random.Random(11)), steps=400, lr=2e-3, seed=2)
    export(finetuned, os.path.join(OUT, "bytegpt-finetuned.onnx"))

    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(byte_tokenizer(), f, ensure_ascii=False)
    with open(os.path.join(OUT, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(HELDOUT)

    rows = [line for line in HELDOUT.splitlines() if line]
    texts = {"sentence": rows[0], "one_token": "A", "exactly_context": (rows[1] + " " + rows[2])[:CONTEXT],
             "longer_than_context": " ".join(rows[10:14])[:400]}
    assert len(texts["exactly_context"].encode()) == CONTEXT and len(texts["longer_than_context"].encode()) == 400
    reference = {"vocab": VOCAB, "max_seq_len": CONTEXT, "window": CONTEXT, "stride": CONTEXT // 2, "models": {}}
    for name, model in [("uniform-v256", uniform), ("bytegpt-base", base.double()), ("bytegpt-finetuned", finetuned.double())]:
        entries = []
        for key, text in texts.items():
            ids = list(text.encode("utf-8"))
            entry = {"name": key, "text": text, "input_ids": ids}
            if len(ids) <= CONTEXT:
                entry["sum_nll"], entry["scored_tokens"] = sum_nll(model, ids)
            else:
                entry["sliding_sum_nll"], entry["sliding_scored_tokens"] = sliding_nll(model, ids, CONTEXT, CONTEXT // 2)
            entries.append(entry)
        total, count, nbytes = 0.0, 0, 0
        for row in rows:
            ids = list(row.encode("utf-8"))
            s, c = sliding_nll(model, ids, CONTEXT, CONTEXT // 2)
            total, count, nbytes = total + s, count + c, nbytes + len(ids)
        reference["models"][name] = {"texts": entries, "heldout_sum_nll": total, "heldout_scored_tokens": count,
                                     "heldout_bytes": nbytes, "heldout_perplexity": math.exp(total / count),
                                     "heldout_bits_per_byte": total / (nbytes * math.log(2))}
        print(f"{name}: held-out perplexity {math.exp(total / count):.4f} over {count} tokens")
    with open(os.path.join(OUT, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(reference, f, indent=1)


if __name__ == "__main__":
    main()
