"""The eval set is sound, the metrics are right, and `rag eval` is a quality gate (CI fails on a regression)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from rag.config import PROJECT_ROOT
from rag.corpus import load_corpus, normalize_title
from rag.evaluation import (
    DEFAULT_QUESTIONS,
    check_thresholds,
    citation_problems,
    dev_test_split,
    load_questions,
    retrieval_scores,
)
from rag.types import Answer, Citation

TYPES = {"fact", "topic", "multi", "metadata", "title", "unanswerable", "follow-up"}
HARD_DEV = PROJECT_ROOT / "eval" / "hard" / "dev.jsonl"
HARD_TEST = PROJECT_ROOT / "eval" / "hard" / "test.jsonl"
HARD_EXTRA = PROJECT_ROOT / "eval" / "hard" / "dev-extra.jsonl"
HARD_FRESH = PROJECT_ROOT / "eval" / "hard" / "dev-fresh.jsonl"
HARD_FRESH2 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh2.jsonl"
HARD_FRESH3 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh3.jsonl"
HARD_FRESH4 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh4.jsonl"
HARD_FRESH5 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh5.jsonl"
HARD_FRESH6 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh6.jsonl"
HARD_FRESH7 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh7.jsonl"
HARD_FRESH8 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh8.jsonl"
HARD_FRESH9 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh9.jsonl"
HARD_FRESH10 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh10.jsonl"
HARD_FRESH11 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh11.jsonl"
HARD_FRESH12 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh12.jsonl"
HARD_FRESH13 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh13.jsonl"
HARD_FRESH14 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh14.jsonl"
HARD_FRESH15 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh15.jsonl"
HARD_FRESH16 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh16.jsonl"
HARD_FRESH17 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh17.jsonl"
HARD_FRESH18 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh18.jsonl"
HARD_FRESH19 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh19.jsonl"
HARD_FRESH20 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh20.jsonl"
HARD_FRESH21 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh21.jsonl"
HARD_FRESH22 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh22.jsonl"
HARD_FRESH23 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh23.jsonl"
HARD_FRESH24 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh24.jsonl"
HARD_FRESH25 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh25.jsonl"
HARD_FRESH26 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh26.jsonl"
HARD_FRESH27 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh27.jsonl"
HARD_FRESH28 = PROJECT_ROOT / "eval" / "hard" / "dev-fresh28.jsonl"
HARD_TYPES = {"fact", "definition", "comparison", "list", "metadata", "follow-up", "unanswerable"}
# The CI gates: a few points under the numbers in docs/EVAL.md, so noise passes and a real regression does not;
# the median quoted words at most the 60 on the first set, a few words over the measured 75 on the test
# half (docs/EVAL.md, "Nineteenth pass": definitions quote how a work works).
QUALITY_GATES = {
    DEFAULT_QUESTIONS: ["recall@5=0.95", "mrr@10=0.95", "must_contain=0.94", "citation_valid=1.0",
                        "gold_cited=0.96", "abstain_recall=0.92", "false_abstain=0.03", "quoted_words_p50=60"],
    HARD_TEST: ["recall@5=0.93", "mrr@10=0.95", "must_contain=0.76", "citation_valid=1.0", "gold_cited=0.91",
                "abstain_recall=0.76", "false_abstain=0.08", "quoted_words_p50=78"],
}


@pytest.fixture(scope="module")
def questions():
    return load_questions(DEFAULT_QUESTIONS)


@pytest.fixture(scope="module")
def papers_by_title():
    return {normalize_title(p.title): p for p in load_corpus([PROJECT_ROOT / "data" / "corpus"]).papers}


def test_question_set_is_large_and_varied(questions):
    assert len(questions) >= 80
    assert len({q.id for q in questions}) == len(questions)
    counts = Counter(q.type for q in questions)
    assert set(counts) == TYPES
    assert counts["unanswerable"] >= 10 and counts["follow-up"] >= 5


def test_hard_set_asks_for_composition():
    questions = load_questions(HARD_DEV) + load_questions(HARD_TEST)
    assert len(questions) >= 150 and len({q.id for q in questions}) == len(questions)
    counts = Counter(q.type for q in questions)
    assert set(counts) == HARD_TYPES
    assert sum(q.type == "fact" and q.facts >= 2 for q in questions) >= 40
    assert counts["definition"] >= 20 and counts["comparison"] >= 20 and counts["list"] >= 20
    assert counts["metadata"] >= 15 and all(q.facts >= 2 for q in questions if q.type == "metadata")
    follow_ups = [q for q in questions if q.history]
    assert len(follow_ups) >= 15 and any(q.type == "unanswerable" for q in follow_ups)
    unanswerable = [q for q in questions if q.type == "unanswerable"]
    hard = [q for q in unanswerable if q.subtype in ("hard-negative", "follow-up-none")]
    assert len(unanswerable) >= 20 and len(hard) * 2 >= len(unanswerable)


def test_hard_set_halves_follow_the_split_rule():
    def records(path):
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    dev, test = dev_test_split(records(HARD_DEV) + records(HARD_TEST))
    assert {r["id"] for r in dev} == {r["id"] for r in records(HARD_DEV)}
    assert {r["id"] for r in test} == {r["id"] for r in records(HARD_TEST)}


@pytest.mark.parametrize("path", [DEFAULT_QUESTIONS, HARD_DEV, HARD_TEST, HARD_EXTRA, HARD_FRESH, HARD_FRESH2,
                                  HARD_FRESH3, HARD_FRESH4, HARD_FRESH5, HARD_FRESH6, HARD_FRESH7,
                                  HARD_FRESH8, HARD_FRESH9, HARD_FRESH10, HARD_FRESH11, HARD_FRESH12,
                                  HARD_FRESH13, HARD_FRESH14, HARD_FRESH15, HARD_FRESH16, HARD_FRESH17,
                                  HARD_FRESH18, HARD_FRESH19, HARD_FRESH20, HARD_FRESH21, HARD_FRESH22,
                                  HARD_FRESH23, HARD_FRESH24, HARD_FRESH25, HARD_FRESH26, HARD_FRESH27, HARD_FRESH28],
                         ids=["old", "hard-dev", "hard-test", "hard-dev-extra", "hard-dev-fresh", "hard-dev-fresh2",
                              "hard-dev-fresh3", "hard-dev-fresh4", "hard-dev-fresh5",
                              "hard-dev-fresh6", "hard-dev-fresh7", "hard-dev-fresh8", "hard-dev-fresh9",
                              "hard-dev-fresh10", "hard-dev-fresh11",
                              "hard-dev-fresh12", "hard-dev-fresh13", "hard-dev-fresh14",
                              "hard-dev-fresh15", "hard-dev-fresh16", "hard-dev-fresh17", "hard-dev-fresh18",
                              "hard-dev-fresh19", "hard-dev-fresh20", "hard-dev-fresh21",
                              "hard-dev-fresh22", "hard-dev-fresh23", "hard-dev-fresh24",
                              "hard-dev-fresh25", "hard-dev-fresh26", "hard-dev-fresh27", "hard-dev-fresh28"])
def test_gold_titles_exist_and_must_contain_occurs_in_gold_papers(path, papers_by_title):
    for q in load_questions(path):
        if q.type == "unanswerable":
            assert q.gold_titles == [] and q.must_contain == [] and q.answer, q.id
            continue
        assert q.gold_titles, q.id
        gold = [papers_by_title.get(normalize_title(t)) for t in q.gold_titles]
        assert all(gold), f"{q.id}: unknown gold title"
        texts = [f"{p.title} {p.abstract} {' '.join(p.metadata_facts().values())}".lower() for p in gold]
        for needle in q.must_contain:
            assert any(needle.lower() in t for t in texts), f"{q.id}: {needle!r} not in its gold papers"
        if q.type == "follow-up":
            assert q.history and q.history[0]["question"] and q.history[0]["answer"], q.id


def test_retrieval_metrics():
    scores = retrieval_scores(["x", "a", "y", "b"], {"a", "b"})
    assert scores["recall@1"] == 0.0 and scores["recall@5"] == 1.0 and scores["mrr@10"] == 0.5
    assert 0.0 < scores["ndcg@10"] < 1.0
    assert retrieval_scores(["a", "b"], {"a", "b"})["ndcg@10"] == pytest.approx(1.0)


def test_citation_check_catches_fabricated_quotes(papers_by_title):
    paper = next(iter(papers_by_title.values()))
    papers = {paper.paper_id: paper}
    good_quote = paper.abstract[:80]
    ok = Answer("q", "claim [1]", [Citation(1, paper.paper_id, paper.title, paper.url, good_quote)], [], False, "x")
    assert citation_problems(ok, papers) == []
    made_up = Answer("q", "claim [1] and [2]", [Citation(1, paper.paper_id, paper.title, paper.url, "never said")],
                     [], False, "x")
    problems = citation_problems(made_up, papers)
    assert any("not verbatim" in p for p in problems) and any("[2] has no citation" in p for p in problems)


def test_thresholds_fail_below_minimum():
    overall = {"recall@5": 0.9, "false_abstain": 0.1}
    assert check_thresholds(overall, ["recall@5=0.8", "false_abstain=0.2"]) == []
    assert len(check_thresholds(overall, ["recall@5=0.95", "false_abstain=0.05", "nope=1"])) == 3


@pytest.mark.parametrize("path", list(QUALITY_GATES), ids=["old", "hard-test"])
def test_rag_eval_meets_the_quality_gate(built_settings, tmp_path, path):
    env = {"RAG_DATA_DIR": str(built_settings.data_dir), "PATH": "", "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "rag.cli", "eval", "--questions", str(path), "--out", str(tmp_path)]
    for spec in QUALITY_GATES[path]:
        command += ["--min", spec]
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("report.md", "results.jsonl", "metrics_by_type.png", "latency.png", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) >= 80 and {"retrieved_ids", "answer", "citations", "scores", "facts"} <= set(rows[0])


def test_rag_eval_exits_nonzero_when_a_threshold_fails(built_settings, tmp_path):
    env = {"RAG_DATA_DIR": str(built_settings.data_dir), "PATH": "", "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--limit", "5", "--out", str(tmp_path),
                             "--min", "recall@1=1.01"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT,
                            timeout=300)
    assert result.returncode == 1 and "THRESHOLD FAILED: recall@1" in result.stderr


def test_eval_at_runs_an_earlier_commits_code_beside_the_current_one(built_settings, tmp_path):
    questions = tmp_path / "three.jsonl"
    questions.write_text("".join(DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines(keepends=True)[:3]),
                         encoding="utf-8")
    env = {**os.environ, "RAG_DATA_DIR": str(built_settings.data_dir), "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    script = [sys.executable, "scripts/eval_at.py"]
    worktrees = subprocess.run(["git", "worktree", "list"], capture_output=True, text=True, cwd=PROJECT_ROOT).stdout
    result = subprocess.run(script + ["HEAD", str(questions), "--out", str(tmp_path / "runs")], capture_output=True,
                            text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("start recall@5") and lines[1].startswith("now recall@5")
    for run in ("start", "now"):
        assert len((tmp_path / "runs" / run / "results.jsonl").read_text().splitlines()) == 3
    # The temporary checkout of the earlier code is gone again.
    assert subprocess.run(["git", "worktree", "list"], capture_output=True, text=True,
                          cwd=PROJECT_ROOT).stdout == worktrees
    aggregates = subprocess.run(script + ["HEAD", str(questions), "--out", str(tmp_path / "agg"), "--aggregates"],
                                capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=600)
    lines = aggregates.stdout.splitlines()
    assert aggregates.returncode == 0 and lines[2].startswith("must_contain by type")
    assert lines[3] == "changed answers 0: must_contain gained 0, lost 0; abstaining now 0, no longer 0"
    assert len(lines) == 4  # no question's id
    wrong = subprocess.run(script + ["no-such-commit", str(questions), "--out", str(tmp_path / "x")],
                           capture_output=True, text=True, env=env, cwd=PROJECT_ROOT)
    assert wrong.returncode == 1 and "is not a commit of this repository" in wrong.stderr



def test_the_rerank_study_fits_on_tuning_sets_and_scores_each_left_out_and_unseen(built_settings, tmp_path):
    lines = DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines(keepends=True)
    for name, chunk in (("first", lines[:6]), ("second", lines[6:12]), ("third", lines[12:18])):
        (tmp_path / f"{name}.jsonl").write_text("".join(chunk), encoding="utf-8")
    env = {**os.environ, "RAG_DATA_DIR": str(built_settings.data_dir), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "scripts/rerank_study.py", str(tmp_path / "first.jsonl"),
                             str(tmp_path / "second.jsonl"), "--unseen", str(tmp_path / "third.jsonl")],
                            capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {cells[0]: cells[1:] for line in result.stdout.splitlines() if line.startswith("| ") and "R@5" not in line
            for cells in [[cell.strip() for cell in line.strip(" |").split("|")]]}
    assert set(rows) == {"first (left out)", "second (left out)", "tuning sets, weighted by questions", "third"}
    assert all(0.0 < float(value) <= 1.0 for cells in rows.values() for value in cells[1:])


def test_the_retrieval_study_scores_every_variant_on_the_stored_vectors(built_settings, tmp_path):
    questions = tmp_path / "four.jsonl"
    questions.write_text("".join(DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines(keepends=True)[:4]),
                         encoding="utf-8")
    env = {**os.environ, "RAG_DATA_DIR": str(built_settings.data_dir), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "scripts/retrieval_study.py", str(questions)], capture_output=True,
                            text=True, env=env, cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {cells[0]: cells[1:] for line in result.stdout.splitlines() if line.startswith("| ") and "R@5" not in line
            for cells in [[cell.strip() for cell in line.strip(" |").split("|")]]}
    product = rows["RRF 0.5/1.0 k=10, all records, title x2 (product)"]
    assert 0.0 < float(product[0]) <= 1.0 and 0.0 < float(product[1]) <= 1.0
    assert {"dense alone (all records)", "RRF, whole-paper vectors only", "RRF, BM25 k1=1.2 b=0.5"} <= set(rows)
