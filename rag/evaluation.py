"""`rag eval`: run a question/answer set through `ask()` and score retrieval, answers and abstention.

Every metric is deterministic. Question format (one JSON object per line): id, question, answer,
gold_titles, type, must_contain, optional history.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.config import PROJECT_ROOT, RagSettings
from rag.corpus import Paper, normalize_title, paper_id_for
from rag.text import CITATION_MARK
from rag.types import Answer

DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
EVAL_K = 10
RETRIEVAL_METRICS = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"]
ANSWER_METRICS = ["must_contain", "fact_recall", "citation_valid", "gold_cited", "cited_precision", "abstain_recall",
                  "false_abstain"]
ALL_METRICS = RETRIEVAL_METRICS + ANSWER_METRICS


@dataclass
class EvalQuestion:
    id: str
    question: str
    answer: str
    gold_titles: list[str]
    type: str
    must_contain: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    subtype: str = ""

    @property
    def facts(self) -> int:
        """How many facts the question asks for: one per `must_contain` item."""
        return len(self.must_contain)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def load_questions(path: Path) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            questions.append(EvalQuestion(
                id=str(record["id"]), question=record["question"], answer=record.get("answer", ""),
                gold_titles=list(record.get("gold_titles", [])), type=record["type"],
                must_contain=list(record.get("must_contain", [])), history=list(record.get("history", [])),
                subtype=str(record.get("subtype", "")),
            ))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a valid eval record ({exc})") from exc
    return questions


def dev_test_split(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """The fixed rule that splits a question set: within each (type, subtype) group, in id order, the 1st,
    3rd, 5th... question goes to dev and the 2nd, 4th... to test. Every kind of question is in both halves."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in sorted(records, key=lambda r: str(r["id"])):
        groups.setdefault((record["type"], record.get("subtype", "")), []).append(record)
    dev, test = [], []
    for members in groups.values():
        for position, record in enumerate(members):
            (dev if position % 2 == 0 else test).append(record)
    return dev, test


def retrieval_scores(ranked_ids: list[str], gold_ids: set[str]) -> dict[str, float]:
    if not gold_ids:
        return {}
    scores = {}
    for k in (1, 5, 10):
        scores[f"recall@{k}"] = len(gold_ids & set(ranked_ids[:k])) / len(gold_ids)
    first = next((rank for rank, pid in enumerate(ranked_ids[:10], start=1) if pid in gold_ids), None)
    scores["mrr@10"] = 1.0 / first if first else 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, pid in enumerate(ranked_ids[:10], start=1) if pid in gold_ids)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold_ids), 10) + 1))
    scores["ndcg@10"] = dcg / ideal
    return scores


def citation_problems(answer: Answer, papers: dict[str, Paper]) -> list[str]:
    """Empty when every [n] resolves to a citation whose quote is verbatim in that paper (at its offsets, when
    it gives them)."""
    problems = []
    by_number = {c.number: c for c in answer.citations}
    for number in {int(n) for n in CITATION_MARK.findall(answer.text)}:
        citation = by_number.get(number)
        if citation is None:
            problems.append(f"[{number}] has no citation")
            continue
        paper = papers.get(citation.paper_id)
        if paper is None:
            problems.append(f"[{number}] cites unknown paper {citation.paper_id}")
        elif citation.field == "abstract":
            if not citation.quote or citation.quote not in paper.abstract:
                problems.append(f"[{number}] quote is not verbatim in {paper.title!r}")
            elif citation.start is not None and paper.abstract[citation.start:citation.end] != citation.quote:
                problems.append(f"[{number}] offsets {citation.start}:{citation.end} miss the quote")
        elif paper.metadata_facts().get(citation.field) != citation.quote:
            problems.append(f"[{number}] {citation.field}={citation.quote!r} is not in the listing of {paper.title!r}")
    return problems


def answer_scores(question: EvalQuestion, answer: Answer, gold_ids: set[str],
                  papers: dict[str, Paper]) -> dict[str, float]:
    scores = {"citation_valid": float(not citation_problems(answer, papers))}
    if question.answerable:
        scores["false_abstain"] = float(answer.abstained)
        cited = {c.paper_id for c in answer.citations}
        scores["gold_cited"] = float(bool(gold_ids & cited))
        if cited:
            # A list that names every gold paper among many others answers less well than one naming only them.
            scores["cited_precision"] = len(gold_ids & cited) / len(cited)
        if question.must_contain:
            text = answer.text.lower()
            found = [s.lower() in text for s in question.must_contain]
            scores["must_contain"] = float(all(found))
            scores["fact_recall"] = sum(found) / len(found)
    else:
        scores["abstain_recall"] = float(answer.abstained)
    return scores


def gold_ids_for(question: EvalQuestion, title_to_id: dict[str, str]) -> set[str]:
    return {title_to_id.get(normalize_title(t), paper_id_for(t)) for t in question.gold_titles}


def quoted_words(answer: Answer) -> int:
    """Words of abstract text the answer quotes (titles and metadata values not counted)."""
    return sum(len(c.quote.split()) for c in answer.citations if c.field == "abstract")


def summarise(rows: list[dict], metrics: list[str]) -> dict[str, dict[str, float]]:
    """Mean of each metric overall, per question type, per subtype and per number of facts asked (questions
    lacking a metric are left out)."""
    groups: dict[str, list[dict]] = {"overall": rows}
    for row in rows:
        names = [row["type"]]
        if row.get("subtype"):
            names.append(f"{row['type']}/{row['subtype']}")
        if row.get("facts"):
            names.append(f"facts={min(row['facts'], 3)}{'+' if row['facts'] >= 3 else ''}")
        for name in names:
            groups.setdefault(name, []).append(row)
    table = {}
    for name, members in groups.items():
        table[name] = {"n": len(members)}
        for metric in metrics:
            values = [r["scores"][metric] for r in members if metric in r["scores"]]
            if values:
                table[name][metric] = float(np.mean(values))
    return table


def run(assistant, questions: list[EvalQuestion], *, progress: bool = True) -> list[dict]:
    from tqdm import tqdm

    index = assistant.index
    title_to_id = {normalize_title(p.title): p.paper_id for p in index.papers.values()}
    rows = []
    for question in tqdm(questions, desc="eval", unit="q", disable=not progress, file=sys.stderr):
        gold_ids = gold_ids_for(question, title_to_id)
        started = time.perf_counter()
        answer = assistant.ask(question.question, k=EVAL_K, history=question.history or None)
        latency = time.perf_counter() - started
        ranked = [s.paper_id for s in answer.sources]
        scores = retrieval_scores(ranked, gold_ids) if question.answerable else {}
        scores.update(answer_scores(question, answer, gold_ids, index.papers))
        rows.append({
            "id": question.id, "type": question.type, "subtype": question.subtype, "facts": question.facts,
            "question": question.question, "quoted_words": quoted_words(answer),
            "gold_ids": sorted(gold_ids), "retrieved_ids": ranked, "answer": answer.text,
            "abstained": answer.abstained, "citations": [c.__dict__ for c in answer.citations],
            "citation_problems": citation_problems(answer, index.papers), "latency_s": round(latency, 4),
            "scores": scores,
        })
    return rows


def run_baselines(assistant, questions: list[EvalQuestion], *, progress: bool = True) -> dict[str, list[dict]]:
    """BM25-only, dense-only and the LlamaIndex quickstart on retrieval; "top-2 similar sentences of the top-3
    abstracts" on the answer metrics."""
    from tqdm import tqdm

    from rag.baselines import LlamaIndexQuickstart, top_sentences_answer
    from rag.query import analyse
    from rag.types import Filters

    index = assistant.index
    title_to_id = {normalize_title(p.title): p.paper_id for p in index.papers.values()}
    quickstart = LlamaIndexQuickstart(assistant.settings, list(index.papers.values()))
    results: dict[str, list[dict]] = {"bm25": [], "dense": [], "llamaindex": [], "top2-sentences": []}
    for question in tqdm(questions, desc="baselines", unit="q", disable=not progress, file=sys.stderr):
        gold_ids = gold_ids_for(question, title_to_id)
        parsed = analyse(question.question, max_chars=assistant.settings.max_question_chars, history=question.history)
        vector = index.embed(parsed.search_text)
        rankings = {
            "bm25": _top(index.bm25_scores(parsed.search_text, Filters())),
            "dense": _top(index.dense_scores(vector, EVAL_K, Filters())),
            "llamaindex": quickstart.retrieve(parsed.search_text, EVAL_K),
        }
        for name, ranked in rankings.items():
            scores = retrieval_scores(ranked, gold_ids) if question.answerable else {}
            results[name].append({"id": question.id, "type": question.type, "scores": scores})
        answer = top_sentences_answer(assistant, parsed)
        results["top2-sentences"].append({
            "id": question.id, "type": question.type,
            "scores": answer_scores(question, answer, gold_ids, index.papers),
        })
    return results


def _top(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=scores.get, reverse=True)[:EVAL_K]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def write_report(out: Path, rows: list[dict], baselines: dict[str, list[dict]] | None, command: str,
                 settings: RagSettings) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    table = summarise(rows, ALL_METRICS)
    latencies = [r["latency_s"] for r in rows]
    overall = dict(table["overall"])
    overall["latency_p50_s"], overall["latency_p95_s"] = percentile(latencies, 50), percentile(latencies, 95)
    answered = [r["quoted_words"] for r in rows if not r["abstained"] and "quoted_words" in r]
    overall["quoted_words_p50"] = percentile(answered, 50)

    lines = [
        "# Eval report", "", f"Command: `{command}`", "",
        f"Questions: {len(rows)}; backend: {settings.answerer}; k={EVAL_K}; "
        f"latency p50 {overall['latency_p50_s'] * 1000:.0f} ms, p95 {overall['latency_p95_s'] * 1000:.0f} ms; "
        f"median quoted words per answer {overall['quoted_words_p50']:.0f}.", "",
        "## Metrics per question type", "",
        "| type | n | " + " | ".join(ALL_METRICS) + " |",
        "|---|---|" + "---|" * len(ALL_METRICS),
    ]
    for name, values in sorted(table.items(), key=lambda kv: (kv[0] != "overall", kv[0].startswith("facts="), kv[0])):
        cells = [f"{values[m]:.3f}" if m in values else "–" for m in ALL_METRICS]
        lines.append(f"| {name} | {values['n']} | " + " | ".join(cells) + " |")
    if baselines:
        lines += ["", "## Baselines (same run, same questions)", "",
                  "| system | " + " | ".join(ALL_METRICS) + " |", "|---|" + "---|" * len(ALL_METRICS)]
        systems = {"rag (hybrid + extractive)": table["overall"]}
        systems.update({name: summarise(b, ALL_METRICS)["overall"] for name, b in baselines.items()})
        for name, values in systems.items():
            lines.append(f"| {name} | " + " | ".join(f"{values[m]:.3f}" if m in values else "–" for m in ALL_METRICS) + " |")
    failures = [r for r in rows if any(v < 1.0 for k, v in r["scores"].items() if k != "false_abstain" and k in
                                       ("recall@10", "must_contain", "citation_valid", "gold_cited", "abstain_recall"))
                or r["scores"].get("false_abstain") == 1.0]
    lines += ["", f"## Questions with a failed check ({len(failures)})", ""]
    for row in failures:
        failed = [k for k, v in row["scores"].items() if (v == 1.0 if k == "false_abstain" else v < 1.0)]
        lines.append(f"- **{row['id']}** ({row['type']}) {row['question'][:120]} — failed: {', '.join(failed)}")
    lines += ["", "Plots: `metrics_by_type.png`, `latency.png`. Per-question details: `results.jsonl`.", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")

    types = [t for t in table if t != "overall" and "/" not in t and not t.startswith("facts=")]
    shown = ["recall@5", "mrr@10", "must_contain", "gold_cited", "abstain_recall"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(shown)
    for i, metric in enumerate(shown):
        ax.bar([x + i * width for x in range(len(types))], [table[t].get(metric, 0) for t in types], width, label=metric)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(types))], types)
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics per question type")
    ax.legend(fontsize=8, ncols=len(shown), loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(out / "metrics_by_type.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist([x * 1000 for x in latencies], bins=30)
    ax.set_xlabel("ask() latency (ms)")
    ax.set_ylabel("questions")
    ax.set_title(f"Latency: p50 {overall['latency_p50_s'] * 1000:.0f} ms, p95 {overall['latency_p95_s'] * 1000:.0f} ms")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)
    plt.close(fig)
    (out / "summary.json").write_text(json.dumps({"overall": overall, "by_type": table}, indent=2))
    return overall


def check_thresholds(overall: dict, specs: list[str]) -> list[str]:
    failures = []
    for spec in specs:
        metric, _, value = spec.partition("=")
        if metric not in overall:
            failures.append(f"unknown metric {metric!r} (known: {', '.join(sorted(overall))})")
        elif metric in ("false_abstain", "latency_p50_s", "latency_p95_s", "quoted_words_p50"):
            if overall[metric] > float(value):
                failures.append(f"{metric} = {overall[metric]:.3f} > maximum {value}")
        elif overall[metric] < float(value):
            failures.append(f"{metric} = {overall[metric]:.3f} < minimum {value}")
    return failures


def run_cli(args) -> int:
    from rag.assistant import Assistant
    from rag.config import load_settings

    settings = load_settings()
    questions = load_questions(Path(args.questions) if args.questions else DEFAULT_QUESTIONS)
    if args.limit:
        questions = questions[:args.limit]
    assistant = Assistant(settings)
    rows = run(assistant, questions)
    baselines = run_baselines(assistant, questions) if args.baselines else None
    command = "rag eval " + " ".join(sys.argv[2:])
    overall = write_report(Path(args.out), rows, baselines, command.strip(), settings)
    print(f"{len(rows)} questions; report: {Path(args.out) / 'report.md'}")
    for metric in ALL_METRICS + ["latency_p50_s", "latency_p95_s", "quoted_words_p50"]:
        if metric in overall:
            print(f"  {metric:16s} {overall[metric]:.3f}")
    failures = check_thresholds(overall, args.min)
    for failure in failures:
        print(f"THRESHOLD FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0
