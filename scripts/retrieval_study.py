"""Retrieval variants (issue "Retrieval that beats BM25 alone"): recall@5 and MRR@10 of each variant on the
question sets, computed outside the product so every variant sees the same questions and vectors.

Run after `rag ingest`:  python scripts/retrieval_study.py [QUESTIONS.jsonl ...]
(default: the old set, the dev half, dev-extra and the test half; choose on dev, report test beside it).

Variants, each a (dense, lexical, fusion) choice:
* dense: best cosine over a paper's records (whole-paper vector and sentence vectors, the product's), the
  whole-paper vector only, or the sentence vectors only;
* lexical: BM25 with the title counted 1, 2 (the product's) or 3 times; with other k1 and b; or with RM3-style
  pseudo-relevance feedback (the question plus the top terms of the 3 best BM25 papers);
* fusion: weighted RRF (the product's: dense 0.5, BM25 1.0, k=10) or a convex combination of min-max
  normalised scores (dense weight alpha);
* list recall: recall@10 of list questions with the question alone and with one more retrieval per part.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import bm25s
import numpy as np

from rag.assistant import Assistant
from rag.config import PROJECT_ROOT
from rag.corpus import normalize_title
from rag.evaluation import gold_ids_for, load_questions, retrieval_scores
from rag.query import analyse
from rag.text import terms
from rag.vectors import PaperVectors

POOL = 40
DEFAULT_SETS = ["eval/questions.jsonl", "eval/hard/dev.jsonl", "eval/hard/dev-extra.jsonl", "eval/hard/test.jsonl"]
PRF_PAPERS = 3
PRF_TERMS = 10
# BM25's saturation and length normalisation around the product's (bm25s's defaults, k1 1.5 and b 0.75).
BM25_PARAMETERS = [(0.9, 0.5), (0.9, 0.9), (1.2, 0.5), (1.2, 0.9), (2.0, 0.75)]


def rrf(dense: dict, lexical: dict, dense_weight: float = 0.5, bm25_weight: float = 1.0, k: int = 10) -> list[str]:
    fused: dict[str, float] = {}
    for weight, scores in ((dense_weight, dense), (bm25_weight, lexical)):
        for rank, pid in enumerate(sorted(scores, key=scores.get, reverse=True)[:POOL], start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
    return sorted(fused, key=lambda p: -fused[p])


def convex(dense: dict, lexical: dict, alpha: float) -> list[str]:
    def normalised(scores: dict) -> dict:
        top = dict(sorted(scores.items(), key=lambda item: -item[1])[:POOL])
        if not top:
            return {}
        values = np.array(list(top.values()))
        low, high = values.min(), values.max()
        return {p: (s - low) / (high - low + 1e-9) for p, s in top.items()}

    d, b = normalised(dense), normalised(lexical)
    fused = {p: alpha * d.get(p, 0.0) + (1 - alpha) * b.get(p, 0.0) for p in set(d) | set(b)}
    return sorted(fused, key=lambda p: -fused[p])


class Lexical:
    """BM25 over title + abstract with the title counted `title_weight` times (Lucene's variant, bm25s's k1 and b
    unless given)."""

    def __init__(self, papers: list, title_weight: int, k1: float = 1.5, b: float = 0.75):
        self.order = [p.paper_id for p in papers]
        self.documents = [terms(p.title) * (title_weight - 1) + terms(f"{p.title} {p.abstract}") for p in papers]
        ids, self.vocabulary = _ids(self.documents)
        self.bm25 = bm25s.BM25(k1=k1, b=b)
        self.bm25.index((ids, dict(self.vocabulary)), show_progress=False)  # as rag.table builds it
        self.document_frequency = Counter(t for doc in self.documents for t in set(doc))

    def scores(self, query_terms: list[str]) -> dict[str, float]:
        known = [t for t in query_terms if t in self.vocabulary]
        if not known:
            return {}
        scores = self.bm25.get_scores(known)
        return {self.order[i]: float(scores[i]) for i in np.flatnonzero(scores > 0)}

    def expanded(self, query_terms: list[str]) -> list[str]:
        """RM3-style: the question's terms plus the terms most typical of its best BM25 papers."""
        first = self.scores(query_terms)
        top = sorted(first, key=lambda p: -first[p])[:PRF_PAPERS]
        n = len(self.order)
        weights: Counter = Counter()
        for pid in top:
            document = self.documents[self.order.index(pid)]
            counts = Counter(document)
            for term, count in counts.items():
                weights[term] += first[pid] * count / len(document) * np.log(1 + n / self.document_frequency[term])
        extra = [t for t, _ in weights.most_common() if t not in query_terms][:PRF_TERMS]
        return query_terms + extra


def _ids(documents: list[list[str]]) -> tuple[list[np.ndarray], dict[str, int]]:
    vocabulary: dict[str, int] = {}
    ids = [np.array([vocabulary.setdefault(t, len(vocabulary)) for t in doc], dtype=np.int32) for doc in documents]
    return ids, vocabulary


def stored_vectors(stored: PaperVectors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stored vector (float32), the paper it belongs to, and whether it is the whole-paper vector: read from
    the paper table, as the product reads them."""
    vectors, owners, whole = [], [], []
    for paper_id, (row, count) in stored.location.items():
        vectors.append(stored.matrix.read(row, 1 + count).astype(np.float32))
        owners += [paper_id] * (1 + count)
        whole += [True] + [False] * count
    return np.concatenate(vectors), np.array(owners), np.array(whole)


def main(paths: list[str]) -> None:
    index = Assistant().index
    papers = list(index.papers.values())
    title_to_id = {normalize_title(p.title): p.paper_id for p in papers}
    vectors, owners, whole = stored_vectors(index.table.vectors)
    lexical = {w: Lexical(papers, w) for w in (1, 2, 3)}
    saturation = {(k1, b): Lexical(papers, 2, k1, b) for k1, b in BM25_PARAMETERS}

    def dense(vector: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        similarities = vectors[mask] @ vector
        scores: dict[str, float] = {}
        for pid, similarity in zip(owners[mask], similarities.tolist()):
            scores[pid] = max(scores.get(pid, -1.0), similarity)
        return dict(sorted(scores.items(), key=lambda item: -item[1])[:POOL])

    everything = np.ones(len(owners), dtype=bool)
    runs: dict[str, list] = {}
    lists: dict[str, list] = {}
    for path in paths:
        rows, list_rows = [], []
        for question in (q for q in load_questions(PROJECT_ROOT / path) if q.answerable):
            parsed = analyse(question.question, max_chars=5000, history=question.history or None)
            vector = index.embed(parsed.search_text)
            query_terms = terms(parsed.search_text)
            gold = gold_ids_for(question, title_to_id)
            row = {"gold": gold,
                   "dense": dense(vector, everything), "dense_paper": dense(vector, whole),
                   "dense_sentences": dense(vector, ~whole),
                   **{f"bm25_t{w}": lexical[w].scores(query_terms) for w in lexical},
                   **{f"bm25_k{k1}_b{b}": saturation[k1, b].scores(query_terms) for k1, b in saturation},
                   "bm25_prf": lexical[2].scores(lexical[2].expanded(query_terms))}
            rows.append(row)
            if question.type == "list":
                per_part = []
                for part in parsed.parts if len(parsed.parts) > 1 else []:
                    part_vector = index.embed(part.text)
                    per_part.append(rrf(dense(part_vector, everything), lexical[2].scores(terms(part.text))))
                list_rows.append((gold, rrf(row["dense"], row["bm25_t2"]), per_part))
        runs[Path(path).stem] = rows
        lists[Path(path).stem] = list_rows

    variants = {
        "RRF 0.5/1.0 k=10, all records, title x2 (product)": lambda r: rrf(r["dense"], r["bm25_t2"]),
        "BM25 alone (title x2)": lambda r: sorted(r["bm25_t2"], key=r["bm25_t2"].get, reverse=True),
        "dense alone (all records)": lambda r: sorted(r["dense"], key=r["dense"].get, reverse=True),
        "RRF, title x1": lambda r: rrf(r["dense"], r["bm25_t1"]),
        "RRF, title x3": lambda r: rrf(r["dense"], r["bm25_t3"]),
        "RRF, whole-paper vectors only": lambda r: rrf(r["dense_paper"], r["bm25_t2"]),
        "RRF, sentence vectors only": lambda r: rrf(r["dense_sentences"], r["bm25_t2"]),
        "RRF, BM25 with RM3 feedback": lambda r: rrf(r["dense"], r["bm25_prf"]),
        "BM25 with RM3 feedback alone": lambda r: sorted(r["bm25_prf"], key=r["bm25_prf"].get, reverse=True),
        "RRF dense weight 0.3": lambda r: rrf(r["dense"], r["bm25_t2"], dense_weight=0.3),
        "RRF dense weight 0.7": lambda r: rrf(r["dense"], r["bm25_t2"], dense_weight=0.7),
        "RRF dense weight 1.0": lambda r: rrf(r["dense"], r["bm25_t2"], dense_weight=1.0),
    }
    variants.update({f"convex, dense {a}": (lambda a: lambda r: convex(r["dense"], r["bm25_t2"], a))(a)
                     for a in (0.2, 0.3, 0.4, 0.5, 0.6)})
    variants.update({f"convex 0.4, title x{w}": (lambda w: lambda r: convex(r["dense"], r[f"bm25_t{w}"], 0.4))(w)
                     for w in (1, 3)})
    variants["convex 0.4, RM3 feedback"] = lambda r: convex(r["dense"], r["bm25_prf"], 0.4)
    variants.update({f"RRF, BM25 k1={k1} b={b}": (lambda key: lambda r: rrf(r["dense"], r[key]))(f"bm25_k{k1}_b{b}")
                     for k1, b in BM25_PARAMETERS})
    print("| variant | " + " | ".join(f"{name} R@5 | MRR" for name in runs) + " |")
    print("|---|" + "---|---|" * len(runs))
    for label, rank in variants.items():
        cells = []
        for rows in runs.values():
            scores = [retrieval_scores(rank(r)[:10], r["gold"]) for r in rows]
            cells += [f"{np.mean([s['recall@5'] for s in scores]):.3f}", f"{np.mean([s['mrr@10'] for s in scores]):.3f}"]
        print(f"| {label} | " + " | ".join(cells) + " |")

    print("\nList questions, recall@10 (the answerer reads the top 10 for a list):\n")
    print("| set | n | question alone | + one retrieval per part (interleaved) |")
    print("|---|---|---|---|")
    for name, rows in lists.items():
        alone, with_parts = [], []
        for gold, ranked, per_part in rows:
            alone.append(retrieval_scores(ranked[:10], gold)["recall@10"])
            merged = list(dict.fromkeys(p for group in zip(ranked, *per_part) for p in group)) if per_part else ranked
            with_parts.append(retrieval_scores(merged[:10], gold)["recall@10"])
        if rows:
            print(f"| {name} | {len(rows)} | {np.mean(alone):.3f} | {np.mean(with_parts):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_SETS)
