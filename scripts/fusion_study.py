"""Retrieval fusion variants on the tuning sets (issue "Retrieval that beats BM25 alone"): recall@5 and MRR@10 of
the current weighted RRF, BM25 alone, other RRF weights and a convex combination of min-max normalised scores.

Run after `rag ingest`:  python scripts/fusion_study.py [QUESTIONS.jsonl ...]
(default: eval/questions.jsonl, eval/hard/dev.jsonl, eval/hard/dev-extra.jsonl; the test half is left out on
purpose: choose on these, then report on it once).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from rag.assistant import Assistant
from rag.config import PROJECT_ROOT
from rag.corpus import normalize_title
from rag.evaluation import gold_ids_for, load_questions, retrieval_scores
from rag.query import analyse
from rag.types import Filters

POOL = 40
DEFAULT_SETS = ["eval/questions.jsonl", "eval/hard/dev.jsonl", "eval/hard/dev-extra.jsonl"]


def rrf(dense: dict, lexical: dict, dense_weight: float = 0.5, bm25_weight: float = 1.0, k: int = 10) -> list[str]:
    fused: dict[str, float] = {}
    for weight, scores in ((dense_weight, dense), (bm25_weight, lexical)):
        for rank, pid in enumerate(sorted(scores, key=scores.get, reverse=True)[:POOL], start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return sorted(fused, key=lambda p: -fused[p])


def convex(dense: dict, lexical: dict, alpha: float) -> list[str]:
    def normalised(scores: dict) -> dict:
        if not scores:
            return {}
        values = np.array(list(scores.values()))
        low, high = values.min(), values.max()
        return {p: (s - low) / (high - low + 1e-9) for p, s in scores.items()}

    d, b = normalised(dense), normalised(lexical)
    fused = {p: alpha * d.get(p, 0.0) + (1 - alpha) * b.get(p, 0.0) for p in set(d) | set(b)}
    return sorted(fused, key=lambda p: -fused[p])


def main(paths: list[str]) -> None:
    index = Assistant().index
    title_to_id = {normalize_title(p.title): p.paper_id for p in index.papers.values()}
    runs = {}
    for path in paths:
        rows = []
        for question in (q for q in load_questions(PROJECT_ROOT / path) if q.answerable):
            parsed = analyse(question.question, max_chars=5000, history=question.history or None)
            filters = Filters().merged_with(parsed.filters)
            dense = index.dense_scores(index.embed(parsed.search_text), POOL, filters)
            lexical = index.bm25_scores(parsed.search_text, filters, limit=POOL)
            rows.append((gold_ids_for(question, title_to_id), dense, lexical))
        runs[Path(path).stem] = rows
    variants = {"RRF 0.5/1.0, k=10 (current)": lambda d, b: rrf(d, b),
                "BM25 alone": lambda d, b: sorted(b, key=b.get, reverse=True)}
    variants.update({f"RRF dense weight {w}": (lambda w: lambda d, b: rrf(d, b, dense_weight=w))(w) for w in (0.3, 0.7, 1.0)})
    variants.update({f"convex, dense {a}": (lambda a: lambda d, b: convex(d, b, a))(a) for a in (0.2, 0.3, 0.4, 0.5)})
    print("| variant | " + " | ".join(f"{name} R@5 | {name} MRR" for name in runs) + " |")
    print("|---|" + "---|---|" * len(runs))
    for label, rank in variants.items():
        cells = []
        for rows in runs.values():
            scores = [retrieval_scores(rank(d, b)[:10], gold) for gold, d, b in rows]
            cells += [f"{np.mean([s['recall@5'] for s in scores]):.3f}", f"{np.mean([s['mrr@10'] for s in scores]):.3f}"]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_SETS)
