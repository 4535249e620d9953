"""Where a warm retrieval's time goes at scale (issue "Scale, second pass"), and whether an approximate scan of
the paper vectors would pay: the exact scan's top candidates against an inverted-file index (k-means clusters,
the nearest few probed) and against a PCA-reduced matrix, each with its recall of the exact top 50 and its time.

Run on a large index, e.g. the bench's 100k synthetic papers (the bench removes its own index when it ends, but
leaves the papers file and the sentence-vector cache, so the index is rebuilt without encoding anything):
    python -m benchmarks.bench --sizes 100000 --out bench-work
    RAG_DATA_DIR=/tmp/d100k python -m benchmarks.bench step ingest bench-work/bench-100000/papers.jsonl \
        bench-work/bench-cache/sentence-vectors.npz
    RAG_DATA_DIR=/tmp/d100k python scripts/retrieve_cost.py
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np

from rag.assistant import Assistant
from rag.config import load_settings
from rag.types import Filters

ROOT = Path(__file__).resolve().parent.parent
WANTED = 50  # dense candidates a search takes for k=8 (see PaperIndex.dense_scores)


def median_ms(times: list[float]) -> float:
    return round(statistics.median(times) * 1000, 1)


def breakdown(assistant: Assistant, questions: list[str]) -> dict[str, float]:
    index = assistant.index
    pool = 8 * index.settings.candidate_multiplier
    parts: dict[str, list[float]] = {"embed": [], "bm25": [], "exact scan": [], "dense candidates": [],
                                     "search (without embed)": [], "retrieve": []}
    for question in questions:
        started = time.perf_counter()
        vector = index.embed(question)
        embedded = time.perf_counter()
        index.bm25_scores(question, Filters(), limit=pool)
        lexical = time.perf_counter()
        index.table.paper_matrix @ vector
        scanned = time.perf_counter()
        index.dense_scores(vector, pool, Filters())
        dense = time.perf_counter()
        index.search(question, k=8, query_vector=vector)
        searched = time.perf_counter()
        assistant.retrieve(question, k=8)
        retrieved = time.perf_counter()
        for name, seconds in zip(parts, (embedded - started, lexical - embedded, scanned - lexical, dense - scanned,
                                         searched - dense, retrieved - searched)):
            parts[name].append(seconds)
    return {name: median_ms(times) for name, times in parts.items()}


def exact_top(matrix: np.ndarray, vector: np.ndarray) -> set[int]:
    return set(np.argpartition(-(matrix @ vector), WANTED)[:WANTED].tolist())


def ivf_study(matrix: np.ndarray, vectors: list[np.ndarray], clusters: int = 256) -> list[dict]:
    rng = np.random.default_rng(0)
    sample = matrix[rng.choice(len(matrix), min(len(matrix), 40 * clusters), replace=False)]
    centroids = sample[rng.choice(len(sample), clusters, replace=False)].copy()
    for _ in range(10):
        assigned = np.argmax(sample @ centroids.T, axis=1)
        for c in range(clusters):
            members = sample[assigned == c]
            if len(members):
                centroids[c] = members.mean(0) / np.linalg.norm(members.mean(0))
    assigned = np.concatenate([np.argmax(matrix[i:i + 20_000] @ centroids.T, axis=1)
                               for i in range(0, len(matrix), 20_000)])
    order = np.argsort(assigned, kind="stable")
    bounds = np.searchsorted(assigned[order], np.arange(clusters + 1))
    rows = []
    for probes in (8, 16, 24, 32):
        recalls, times = [], []
        for vector in vectors:
            exact = exact_top(matrix, vector)
            started = time.perf_counter()
            nearest = np.argpartition(-(centroids @ vector), probes)[:probes]
            members = np.concatenate([order[bounds[c]:bounds[c + 1]] for c in nearest])
            similarities = matrix[members] @ vector
            found = members[np.argpartition(-similarities, min(WANTED, len(members) - 1))[:WANTED]]
            times.append(time.perf_counter() - started)
            recalls.append(len(exact & set(found.tolist())) / WANTED)
        rows.append({"clusters": clusters, "probes": probes, "recall_of_exact_top50": round(float(np.mean(recalls)), 3),
                     "ms": median_ms(times)})
    return rows


def pca_study(matrix: np.ndarray, vectors: list[np.ndarray]) -> list[dict]:
    rng = np.random.default_rng(0)
    sample = matrix[rng.choice(len(matrix), min(len(matrix), 20_000), replace=False)]
    _, _, components = np.linalg.svd(sample - sample.mean(0), full_matrices=False)
    rows = []
    for dims in (64, 96, 128, 192):
        projection = components[:dims].T.astype(np.float32)
        reduced = np.ascontiguousarray(matrix @ projection)
        recalls, times = [], []
        for vector in vectors:
            exact = exact_top(matrix, vector)
            started = time.perf_counter()
            # Twice the candidates, re-scored exactly afterwards by the caller (not timed here).
            found = np.argpartition(-(reduced @ (vector @ projection)), 2 * WANTED)[:2 * WANTED]
            times.append(time.perf_counter() - started)
            recalls.append(len(exact & set(found.tolist())) / WANTED)
        rows.append({"dims": dims, "candidates": 2 * WANTED, "recall_of_exact_top50": round(float(np.mean(recalls)), 3),
                     "ms": median_ms(times), "matrix_mib": round(reduced.nbytes / 2**20)})
    return rows


def main() -> None:
    assistant = Assistant(load_settings())
    old = [json.loads(line)["question"] for line in open(ROOT / "eval" / "questions.jsonl")][:60]
    test = [json.loads(line)["question"] for line in open(ROOT / "eval" / "hard" / "test.jsonl")]
    assistant.ask(old[0])  # warm
    matrix = assistant.index.table.paper_matrix
    vectors = [assistant.index.embed(q) for q in test]
    print(json.dumps({"papers": len(matrix), "breakdown_p50_ms": breakdown(assistant, old),
                      "exact_scan_ms": median_ms([_timed(lambda v=v: matrix @ v) for v in vectors]),
                      "ivf": ivf_study(matrix, vectors), "pca": pca_study(matrix, vectors)}, indent=1))


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
