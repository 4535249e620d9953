"""A learned re-ranking of the product's candidates (issue "Retrieval that beats BM25 alone", fifteenth pass):
does a model over per-paper features rank the gold papers higher than the fused ranking does?

Run after `rag ingest`:  python scripts/rerank_study.py TUNING.jsonl ... [--unseen UNSEEN.jsonl ...]

For each answerable question, the product's search (`rag.evidence.search`, as `ask` runs it) returns its top
`CANDIDATES` papers; each gets the features below. A logistic regression (numpy, Newton's method, L2) is fitted on
the tuning sets' candidates, labelled by the gold papers, and re-ranks the top `RERANKED`. Each tuning set is scored
with a model fitted on the other tuning sets (leave one set out); each unseen set with the model fitted on all of
them. Printed: recall@5 / MRR@10 of the product's ranking and of the re-ranking, per set (aggregates only).

Features of a candidate: its fused score and its BM25 score (each over the question's best), its best dense
similarity and its whole-paper similarity, its dense similarity less the best candidate's, the idf-weighted share
of the question's terms that its title and abstract, its title alone, and its best sentence hold, 1 / (1 + rank),
and whether the question asks for several papers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rag.assistant import Assistant
from rag.config import PROJECT_ROOT
from rag.corpus import normalize_title
from rag.evaluation import gold_ids_for, load_questions, retrieval_scores
from rag.evidence import search
from rag.query import analyse
from rag.text import terms

CANDIDATES = 30
RERANKED = 20
L2 = 1.0


def question_rows(index, path: Path) -> list[dict]:
    """Per answerable question: the product's candidate ids, the gold ids and the feature matrix."""
    papers = index.papers
    title_to_id = {normalize_title(p.title): p.paper_id for p in papers.values()}
    cached: dict[str, tuple[set, set, list[set]]] = {}

    def paper_terms(paper_id: str):
        if paper_id not in cached:
            paper = papers[paper_id]
            spans, _ = index.table.vectors.sentences(paper_id)
            cached[paper_id] = (set(terms(paper.title)), set(terms(paper.abstract)),
                                [set(terms(paper.abstract[a:b])) for a, b in spans.tolist()])
        return cached[paper_id]

    rows = []
    for question in (q for q in load_questions(path) if q.answerable):
        parsed = analyse(question.question, max_chars=5000, history=question.history or None)
        retrieved = search(parsed, index, CANDIDATES, None)
        candidates = retrieved.candidates
        asked = set(terms(parsed.search_text))
        weights = {t: index.table.idf.get(t, 0.0) for t in asked}
        total = sum(weights.values()) or 1.0
        whole = index.table.vectors.paper_similarity([c.paper.paper_id for c in candidates], retrieved.vector)
        best_bm25 = max((c.bm25 for c in candidates), default=0.0) or 1.0
        best_fused = max((c.score for c in candidates), default=0.0) or 1.0
        best_dense = max((c.dense for c in candidates), default=0.0)
        features = []
        for rank, c in enumerate(candidates):
            title, abstract, sentences = paper_terms(c.paper.paper_id)

            def share(held: set) -> float:
                return sum(weights[t] for t in asked if t in held) / total

            features.append([c.score / best_fused, c.bm25 / best_bm25, c.dense, whole.get(c.paper.paper_id, c.dense),
                             c.dense - best_dense, share(title | abstract), share(title),
                             max((share(s) for s in sentences), default=0.0), 1.0 / (1 + rank),
                             float(parsed.wants_several)])
        rows.append({"ids": [c.paper.paper_id for c in candidates], "gold": gold_ids_for(question, title_to_id),
                     "features": np.array(features, dtype=float).reshape(-1, 10)})
    return rows


def fit(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardisation and weights of an L2-regularised logistic regression on the top candidates."""
    x = np.vstack([r["features"][:RERANKED] for r in rows])
    y = np.concatenate([[pid in r["gold"] for pid in r["ids"][:RERANKED]] for r in rows]).astype(float)
    mean, scale = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = L2 * np.r_[np.ones(len(w) - 1), 0.0]
    for _ in range(30):
        p = 1 / (1 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        w -= np.linalg.solve(hessian, gradient)
    return mean, scale, w


def reranked(row: dict, model) -> list[str]:
    mean, scale, w = model
    x = row["features"][:RERANKED]
    scores = np.hstack([(x - mean) / scale, np.ones((len(x), 1))]) @ w
    return [row["ids"][i] for i in np.argsort(-scores, kind="stable")] + row["ids"][RERANKED:]


def scored(rows: list[dict], rank) -> tuple[float, float]:
    results = [retrieval_scores(rank(r)[:10], r["gold"]) for r in rows]
    return float(np.mean([s["recall@5"] for s in results])), float(np.mean([s["mrr@10"] for s in results]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tuning", nargs="+", help="question sets to fit on (scored leave-one-set-out)")
    parser.add_argument("--unseen", nargs="*", default=[], help="question sets scored with the model fitted on all")
    args = parser.parse_args()
    index = Assistant().index
    tuning = {Path(p).stem: question_rows(index, PROJECT_ROOT / p) for p in args.tuning}
    unseen = {Path(p).stem: question_rows(index, PROJECT_ROOT / p) for p in args.unseen}
    print("| set | questions | product R@5 | MRR | re-ranked R@5 | MRR |\n|---|---|---|---|---|---|")
    totals = []
    for name, rows in tuning.items():
        left_out = fit([r for other, rs in tuning.items() if other != name for r in rs])
        product, learned = scored(rows, lambda r: r["ids"]), scored(rows, lambda r: reranked(r, left_out))
        totals.append((len(rows), product, learned))
        print(f"| {name} (left out) | {len(rows)} | {product[0]:.3f} | {product[1]:.3f} | {learned[0]:.3f} | "
              f"{learned[1]:.3f} |")
    count = sum(n for n, _, _ in totals) or 1
    mean = [sum(n * v[side][i] for n, *v in totals) / count for side in (0, 1) for i in (0, 1)]
    print(f"| tuning sets, weighted by questions | {count} | {mean[0]:.3f} | {mean[1]:.3f} | {mean[2]:.3f} | "
          f"{mean[3]:.3f} |")
    model = fit([r for rs in tuning.values() for r in rs])
    for name, rows in unseen.items():
        product, learned = scored(rows, lambda r: r["ids"]), scored(rows, lambda r: reranked(r, model))
        print(f"| {name} | {len(rows)} | {product[0]:.3f} | {product[1]:.3f} | {learned[0]:.3f} | {learned[1]:.3f} |")


if __name__ == "__main__":
    main()
