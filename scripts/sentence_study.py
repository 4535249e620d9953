"""Would a fitted sentence model choose better sentences than the answerer's hand-set score? (issue "Answers that
answer new questions", docs/EVAL.md, thirteenth pass)

Run after `rag ingest`:

    python scripts/sentence_study.py eval/hard/test.jsonl eval/hard/dev-fresh14.jsonl ...

Fits an L2-regularised logistic regression (numpy, Newton's method) on the tuning sets: one row per sentence of
each gold paper that retrieval put among a question's candidates, with features of the sentence against the whole
question (the hand-set score's own, plus its place in the abstract, its length, names, and the words of the
thing asked), labelled "holds an item of the question's `must_contain`". Questions answered from the listing
alone and unanswerable ones are left out. For each set given, it prints only aggregates, for the hand-set score
and for the model: over gold papers that hold an asked item somewhere, how often the first-ranked sentence holds
one, and the share of the paper's asked items its top 1/2/3 sentences hold.

The answer path does not use the model: at 6004b1e it chose each part's sentence, and the eval harness did not
bear it out end to end (docs/EVAL.md).
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag import extractive as ex  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.corpus import normalize_title  # noqa: E402
from rag.evaluation import EVAL_K, gold_ids_for, load_questions  # noqa: E402
from rag.evidence import gather, search  # noqa: E402
from rag.names import mentions  # noqa: E402
from rag.query import analyse  # noqa: E402

# The sets tuned on (docs/EVAL.md): the old set and the hard set's tuning sets; never the test half or the sets
# kept unseen.
TUNING_SETS = ["eval/questions.jsonl"] + [f"eval/hard/{name}.jsonl" for name in (
    "dev", "dev-extra", "dev-fresh", "dev-fresh2", "dev-fresh3", "dev-fresh4", "dev-fresh5", "dev-fresh6",
    "dev-fresh7", "dev-fresh8", "dev-fresh9", "dev-fresh10", "dev-fresh13")]
L2 = 1.0


def features(scorer: ex.Scorer, hit, candidate, sentences: int) -> dict[str, float]:
    """The sentence against the whole question: the hand-set score's features, and more."""
    text, part, question = hit.text, scorer.whole, scorer.question.text
    figure = part.wants_quantity and ex.has_figure(text, part.text, question)
    introduces = bool(ex.INTRODUCTION.search(text) or ex.EXPANSION.search(text))
    asked = " ".join(sorted(scorer.asked_things))
    return {
        "similarity": hit.similarity, "coverage": scorer.coverage(question, f"{text} {candidate.paper.title}"),
        "sentence_coverage": scorer.coverage(question, text),
        "asked_coverage": scorer.coverage(asked, text) if asked else 0.0,
        "figure_asked": float(figure),
        "number_asked": float(part.wants_quantity and not figure and ex.NUMBER.search(text) is not None),
        "measurement": float(ex.MEASUREMENT.search(text) is not None),
        "introduction_asked": float((part.wants_name or scorer.introduces) and introduces),
        "introduction": float(introduces),
        "names_asked": float(part.wants_names and scorer.names_things(hit, part)),
        "mechanism_asked": float(part.wants_mechanism and scorer.describes_work(hit, candidate)),
        "outcome_asked": float(part.wants_outcome and ex.reports_result(text)),
        "result": float(ex.reports_result(text)),
        "link": float(ex.URL.search(text) is not None and not ex.LINK_WANTED.search(question)),
        "problem": float(scorer.sets_problem(hit)), "rhetorical": float(ex.RHETORICAL.search(text) is not None),
        "position": hit.number / max(sentences - 1, 1), "first": float(hit.number == 0),
        "last": float(hit.number == sentences - 1), "log_words": math.log1p(len(text.split())),
        "names_question_name": float(any(mentions(n, text) for n in scorer.names)),
        "defines_asked_name": float(any(ex.introduces_name(n, text) for n in scorer.defined_names(part))),
        "new_names": min(len(scorer.new_names(hit)), 3) / 3,
    }


def sentence_rows(assistant: Assistant, path: Path) -> list[dict]:
    """One row per sentence of each gold paper among each question's candidates."""
    index, settings = assistant.index, assistant.settings
    title_to_id = {normalize_title(p.title): p.paper_id for p in index.papers.values()}
    rows = []
    for number, question in enumerate(load_questions(path)):
        if not question.must_contain or not question.answerable:
            continue
        parsed = analyse(question.question, max_chars=settings.max_question_chars, history=question.history or None)
        if parsed.metadata_fields and not parsed.mixes_metadata:
            continue
        evidence = gather(parsed, search(parsed, index, EVAL_K, None), index, EVAL_K, settings)
        if not evidence.candidates:
            continue
        scorer = ex.Scorer(parsed, evidence, index.table, settings.composer)
        gold = gold_ids_for(question, title_to_id)
        items = [item.lower() for item in question.must_contain]
        for candidate in evidence.candidates:
            if candidate.paper.paper_id not in gold:
                continue
            hits = [h for h in evidence.hits if h.paper_id == candidate.paper.paper_id]
            count = max((h.number for h in hits), default=0) + 1
            for hit in hits:
                rows.append({"group": f"{path.name}:{number}:{candidate.paper.paper_id}",
                             "features": features(scorer, hit, candidate, count),
                             "hand": scorer.score(hit, scorer.whole, hit.similarity).score,
                             "labels": [int(item in hit.text.lower()) for item in items]})
    return rows


def fit_logistic(x: np.ndarray, labels: np.ndarray, l2: float = L2, iterations: int = 50) -> np.ndarray:
    """Weights per raw feature unit (intercept dropped) of an L2-regularised logistic regression, by Newton's
    method on standardised features."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    weights = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-design @ weights))
        gradient = design.T @ (p - labels) + penalty * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights[:-1] / scale


def ranking_quality(rows: list[dict], scores: np.ndarray) -> dict[str, float]:
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
    return {"papers": len(first), "top sentence holds an item": round(float(np.mean(first)), 3),
            **{f"items in top {top}": round(float(np.mean(values)), 3) for top, values in held.items()}}


def main() -> None:
    assistant = Assistant()
    training = [row for path in TUNING_SETS for row in sentence_rows(assistant, ROOT / path)]
    names = list(training[0]["features"])
    matrix = np.array([[row["features"][n] for n in names] for row in training])
    labels = np.array([int(any(row["labels"])) for row in training])
    weights = fit_logistic(matrix, labels)
    print(f"fitted on {len(training)} sentences ({int(labels.sum())} holding an asked item) of {len(TUNING_SETS)} "
          "sets; weights per unit:")
    print("  " + ", ".join(f"{n} {w:+.2f}" for n, w in sorted(zip(names, weights), key=lambda t: -abs(t[1]))))
    for path in ["tuning sets (in sample)", *sys.argv[1:]]:
        rows = training if path.startswith("tuning") else sentence_rows(assistant, Path(path))
        fitted = np.array([[row["features"][n] for n in names] for row in rows]) @ weights
        hand = np.array([row["hand"] for row in rows])
        print(f"{path}\n  hand-set score: {ranking_quality(rows, hand)}\n  fitted model:   {ranking_quality(rows, fitted)}")


if __name__ == "__main__":
    main()
