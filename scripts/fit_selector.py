"""Fit the sentence model of `rag/selector.py` and write `rag/selector_weights.json`.

Run after `rag ingest`:

    python scripts/fit_selector.py                       # fit on the tuning sets, write the weights
    python scripts/fit_selector.py --check eval/hard/dev-fresh14.jsonl --no-write   # how it ranks an unseen set
    python scripts/fit_selector.py --leave-one-out --without novel_idf --no-write   # each tuning set scored by a
                                                         # model fitted on the others, without a feature

Each training row is one sentence of a gold paper that retrieval put among a question's candidates, with the
features the answerer computes (`Scorer.features`, against the whole question) and the label "holds an item of
the question's `must_contain`". Questions answered from metadata alone and unanswerable ones are left out.
`--check` prints, per set, only aggregates: how often the first-ranked sentence of a gold paper holds an asked
item, and the share of a paper's items its top 1/2/3 sentences hold, for the hand-set score and for the model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag import extractive  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.corpus import normalize_title  # noqa: E402
from rag.evaluation import EVAL_K, gold_ids_for, load_questions  # noqa: E402
from rag.evidence import gather, search  # noqa: E402
from rag.selector import FEATURES, SentenceModel, fit_logistic  # noqa: E402

# The sets tuned on (docs/EVAL.md): the old set and the hard set's tuning sets. The test half and the sets kept
# unseen are never fitted on.
TUNING_SETS = ["eval/questions.jsonl"] + [f"eval/hard/{name}.jsonl" for name in (
    "dev", "dev-extra", "dev-fresh", "dev-fresh2", "dev-fresh3", "dev-fresh4", "dev-fresh5", "dev-fresh6",
    "dev-fresh7", "dev-fresh8", "dev-fresh9", "dev-fresh10", "dev-fresh13", "dev-fresh14", "dev-fresh15", "dev-fresh19")]
L2 = 1.0
WEIGHTS_FILE = ROOT / "rag" / "selector_weights.json"


def sentence_rows(assistant: Assistant, path: Path) -> list[dict]:
    """One row per sentence of each gold paper among each question's candidates."""
    index, settings = assistant.index, assistant.settings
    title_to_id = {normalize_title(p.title): p.paper_id for p in index.papers.values()}
    rows = []
    for number, question in enumerate(load_questions(path)):
        if not question.must_contain or not question.answerable:
            continue
        parsed = assistant.parse(question.question, question.history or None)
        if parsed.metadata_fields and not parsed.mixes_metadata:
            continue
        retrieved = search(parsed, index, EVAL_K, None)
        evidence = gather(retrieved, index, EVAL_K, settings)
        if not evidence.candidates:
            continue
        scorer = extractive.Scorer(retrieved.question, evidence, index.table, settings.composer)
        gold = gold_ids_for(question, title_to_id)
        items = [item.lower() for item in question.must_contain]
        for candidate in evidence.candidates:
            if candidate.paper.paper_id not in gold:
                continue
            for hit in (h for h in evidence.hits if h.paper_id == candidate.paper.paper_id):
                rows.append({"group": f"{path.name}:{number}:{candidate.paper.paper_id}",
                             "features": scorer.features(hit, scorer.whole, candidate, hit.similarity),
                             "hand": scorer.score(hit, scorer.whole, hit.similarity).score,
                             "labels": [int(item in hit.text.lower()) for item in items]})
    return rows


def ranking_quality(rows: list[dict], scores: np.ndarray) -> dict[str, float]:
    """Over gold papers holding an asked item in some sentence: how often the top sentence holds one, and the
    share of the paper's items held by its top 1, 2 and 3 sentences."""
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(row["group"], []).append(i)
    first, held = [], {1: [], 2: [], 3: []}
    for members in groups.values():
        labels = np.array([rows[i]["labels"] for i in members], dtype=bool)
        present = labels.any(axis=0)
        if not present.any():
            continue
        order = np.argsort(-scores[members], kind="stable")
        first.append(labels[order[0]].any())
        for top in held:
            held[top].append(labels[order[:top]].any(axis=0)[present].mean())
    return {"papers": len(first), "top_holds_item": float(np.mean(first)),
            **{f"items_in_top{top}": float(np.mean(values)) for top, values in held.items()}}


def matrix(rows: list[dict], names: list[str]) -> np.ndarray:
    return np.array([[row["features"][name] for name in names] for row in rows], dtype=float)


def labels_of(rows: list[dict]) -> np.ndarray:
    return np.array([int(any(row["labels"])) for row in rows])


def leave_one_out(by_set: dict[str, list[dict]], names: list[str]) -> dict[str, float]:
    """`ranking_quality` of each set under a model fitted on the other sets, pooled over sets (weighted by papers)."""
    pooled: dict[str, float] = {}
    total = 0
    for held_out, rows in by_set.items():
        others = [row for path, members in by_set.items() if path != held_out for row in members]
        weights, _ = fit_logistic(matrix(others, names), labels_of(others), l2=L2)
        quality = ranking_quality(rows, matrix(rows, names) @ weights)
        total += quality["papers"]
        for key, value in quality.items():
            if key != "papers":
                pooled[key] = pooled.get(key, 0.0) + value * quality["papers"]
    return {"papers": total, **{key: round(value / total, 4) for key, value in pooled.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", nargs="*", default=[], help="question sets to report ranking quality on")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite rag/selector_weights.json")
    parser.add_argument("--leave-one-out", action="store_true",
                        help="also score each tuning set with a model fitted on the other sets (pooled over sets)")
    parser.add_argument("--without", nargs="*", default=[], choices=FEATURES, metavar="FEATURE",
                        help="fit without these features, to measure what they add (nothing is written)")
    args = parser.parse_args()
    assistant = Assistant()
    by_set = {path: sentence_rows(assistant, ROOT / path) for path in TUNING_SETS}
    training = [row for rows in by_set.values() for row in rows]
    kept = [name for name in FEATURES if name not in args.without]
    weights, intercept = fit_logistic(matrix(training, kept), labels_of(training), l2=L2)
    model = SentenceModel({name: round(float(w), 4) for name, w in zip(kept, weights)}, round(intercept, 4))
    print(f"fitted on {len(training)} sentences ({int(labels_of(training).sum())} holding an asked item) of "
          f"{len(TUNING_SETS)} sets")
    if args.leave_one_out:
        print(f"leave one set out: {leave_one_out(by_set, kept)}")
    if not args.no_write and not args.without:
        WEIGHTS_FILE.write_text(json.dumps({
            "fitted_by": "python scripts/fit_selector.py", "training_sets": TUNING_SETS, "sentences": len(training),
            "l2": L2, "intercept": model.intercept, "weights": dict(model.weights)}, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE.relative_to(ROOT)}")
    for path in ["tuning sets (in sample)"] + args.check:
        rows = training if path.startswith("tuning") else sentence_rows(assistant, Path(path))
        fitted = np.array([model.score(row["features"]) for row in rows])
        hand = np.array([row["hand"] for row in rows])
        print(f"{path}\n  hand-set score: {ranking_quality(rows, hand)}\n  fitted model:   {ranking_quality(rows, fitted)}")


if __name__ == "__main__":
    main()
