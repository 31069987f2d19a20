#!/usr/bin/python3
"""Reference retrieval metrics computed outside evalfleet's code: seeded random unit embeddings for
queries and a corpus, graded relevance judgements, the exact cosine ranking (numpy, float64, ties
broken by document order) and, per query, recall@k, reciprocal rank within the first 10 and nDCG@10
with the standard gain (2^rel - 1) / log2(rank + 1) over the ideal ordering of the query's judged
documents.

    /usr/bin/python3 scripts/make_retrieval_references.py

Needs Debian's python3-numpy. Writes fixtures/retrieval/ranking-reference.json, which
RankingMetricsTest compares with what the scorers compute.
"""
import json
import math
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "retrieval", "ranking-reference.json")
QUERIES, DOCS, DIM, KS = 12, 60, 8, [1, 5, 10, 20]


def unit_rows(rng, n, dim):
    x = rng.normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main():
    rng = np.random.default_rng(20261202)
    queries = unit_rows(rng, QUERIES, DIM)
    docs = unit_rows(rng, DOCS, DIM)
    # Judgements: each query has 1-6 judged documents, graded 0-3 (0 = judged not relevant), at least
    # one of them relevant.
    qrels = []
    for q in range(QUERIES):
        judged = rng.choice(DOCS, size=int(rng.integers(1, 7)), replace=False)
        grades = rng.integers(0, 4, size=len(judged))
        if grades.max() == 0:
            grades[0] = 1
        qrels.append({int(d): int(g) for d, g in zip(judged, grades)})
        # relevant documents lean toward their query, more the higher their grade, so ranks vary
        for d, g in zip(judged, grades):
            lean = docs[d] + queries[q] * 0.5 * g
            docs[d] = lean / np.linalg.norm(lean)
    docs = np.round(docs, 6)  # what the fixture holds is what is ranked
    queries = np.round(queries, 6)
    scores = queries @ docs.T
    results = []
    for q in range(QUERIES):
        # stable sort on -score keeps document order among equal scores
        ranking = [int(d) for d in np.argsort(-scores[q], kind="stable")]
        rels = qrels[q]
        relevant = {d for d, g in rels.items() if g > 0}
        recall = {str(k): len(relevant & set(ranking[:k])) / len(relevant) for k in KS}
        rr = 0.0
        for i, d in enumerate(ranking[:10]):
            if d in relevant:
                rr = 1.0 / (i + 1)
                break
        dcg = sum((2 ** rels.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
        ideal = sorted(rels.values(), reverse=True)[:10]
        idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
        results.append({"recall": recall, "mrr_at_10": rr, "ndcg_at_10": dcg / idcg,
                        "top10": ranking[:10]})
    with open(OUT, "w") as f:
        json.dump({"queries": queries.tolist(), "docs": docs.tolist(),
                   "qrels": [{str(d): g for d, g in r.items()} for r in qrels],
                   "ks": KS, "expected": results}, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(OUT, ROOT))



if __name__ == "__main__":
    main()
