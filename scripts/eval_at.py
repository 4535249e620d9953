"""Run `rag eval` with the code of an earlier commit, on this checkout's index, and list the answers that differ
from a run with the current code: how docs/EVAL.md states a pass's start → end figures on an unseen set.

    python scripts/eval_at.py START_COMMIT eval/hard/dev-fresh13.jsonl --out /tmp/f13

writes START's run to OUT/start and the current code's to OUT/now (each with report.md, results.jsonl,
summary.json), then prints both runs' main metrics and, per question whose answer changed, its id, type and
must_contain/fact_recall before and after (no question text, so an unseen set stays unread); with
`--aggregates`, only must_contain per type and counts of the changed answers (not even their ids).
The earlier code reads the current index (RAG_DATA_DIR), so both must use the same index format.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METRICS = ["recall@5", "must_contain", "fact_recall", "abstain_recall", "false_abstain", "quoted_words_p50"]


def run_eval(code: Path, questions: Path, out: Path) -> None:
    data = os.environ.get("RAG_DATA_DIR", str(ROOT / ".rag-data"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_DATA_DIR": data}
    done = subprocess.run([sys.executable, "-m", "rag.cli", "eval", "--questions", str(questions), "--out", str(out)],
                          cwd=code, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"rag eval failed with the code at {code}:\n{done.stderr[-2000:]}")


def rows(out: Path) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (out / "results.jsonl").read_text(encoding="utf-8").splitlines())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier code, e.g. the pass's first commit")
    parser.add_argument("questions", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--aggregates", action="store_true",
                        help="print must_contain per type and counts of changed answers instead of their ids, so "
                             "not even which questions changed is seen")
    args = parser.parse_args()
    questions = args.questions.resolve()
    known = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{args.commit}^{{commit}}"], cwd=ROOT,
                           capture_output=True)
    if known.returncode:
        sys.exit(f"{args.commit!r} is not a commit of this repository.")
    if not questions.is_file():
        sys.exit(f"No question file at {questions}.")
    with tempfile.TemporaryDirectory() as folder:
        worktree = Path(folder) / "code"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.commit], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            run_eval(worktree, questions, args.out / "start")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=True)
    run_eval(ROOT, questions, args.out / "now")
    summaries = {name: json.loads((args.out / name / "summary.json").read_text(encoding="utf-8"))
                 for name in ("start", "now")}
    for name, summary in summaries.items():
        print(name, "  ".join(f"{m} {summary['overall'][m]:.3f}" for m in METRICS if m in summary["overall"]))
    before, after = rows(args.out / "start"), rows(args.out / "now")
    changed = [(row, after[qid]) for qid, row in before.items() if row["answer"] != after[qid]["answer"]]
    if args.aggregates:
        types = [summaries["start"]["by_type"], summaries["now"]["by_type"]]
        shown = [t for t in types[1] if "/" not in t and "must_contain" in types[1][t] and t in types[0]]
        print("must_contain by type", "  ".join(
            f"{t} {types[0][t]['must_contain']:.3f} -> {types[1][t]['must_contain']:.3f}" for t in shown))
        gained = sum(old["scores"].get("must_contain") == 0.0 and new["scores"].get("must_contain") == 1.0
                     for old, new in changed)
        lost = sum(old["scores"].get("must_contain") == 1.0 and new["scores"].get("must_contain") == 0.0
                   for old, new in changed)
        print(f"changed answers {len(changed)}: must_contain gained {gained}, lost {lost}; abstaining now "
              f"{sum(new['abstained'] and not old['abstained'] for old, new in changed)}, no longer "
              f"{sum(old['abstained'] and not new['abstained'] for old, new in changed)}")
        return
    for row, new_row in changed:
        old, new = row["scores"], new_row["scores"]
        print(row["id"], row["type"], *(f"{m} {old.get(m)} -> {new.get(m)}" for m in ("must_contain", "fact_recall")),
              f"abstained {row['abstained']} -> {new_row['abstained']}")


if __name__ == "__main__":
    main()
