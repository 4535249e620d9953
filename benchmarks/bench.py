"""Speed, memory and retrieval quality at 314, 10k and 100k papers, beside the LlamaIndex quickstart.

    python -m benchmarks.bench --sizes 314,10000,100000 --out bench-work [--docs docs]

writes BENCHMARKS.md and BENCHMARKS.json under `--out` (and, with `--docs`, merged into that folder's, where a
size not re-run keeps its last figures).

The larger sizes are the real papers plus synthetic distractors: real abstract sentences recombined with a
fixed seed, so every sentence vector is a real
model vector computed once and cached (`<out>/bench-cache`). A synthetic paper's whole-paper vector is the
normalised mean of its sentence vectors: at 10k and 100k the ingest figure measures the write path (Chroma,
hashing, bookkeeping) while the model's own cost is the encode throughput measured on the real papers.
Each measured step runs in its own process so peak RSS is that step's alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rag.config import PROJECT_ROOT, load_settings
from rag.corpus import Paper, load_corpus, paper_id_for, paper_url
from rag.index import texts_to_embed
from rag.text import sentence_spans, sentences

# Steps run as `python -m benchmarks.bench step NAME ...` from the folder holding `benchmarks/`.
BENCH_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
WARM_QUERIES = 40
# Retrieval quality at every size is measured on the held-out test half of the hard set.
QUALITY_QUESTIONS = PROJECT_ROOT / "eval" / "hard" / "test.jsonl"
QUALITY_K = 10


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class CachedEncoder:
    """Serves vectors from a text -> vector cache; texts not in it go to the real encoder (loaded on demand)."""

    def __init__(self, cache: dict[str, np.ndarray]):
        self.cache, self.model, self.misses = cache, None, 0

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        keys = [_key(t) for t in texts]  # once per text: the lookup stands in for the model, at little cost
        missing = list(dict.fromkeys(t for t, key in zip(texts, keys) if key not in self.cache))
        if missing:
            from rag.embedding import corpus_encoder

            self.model = self.model or corpus_encoder(load_settings())
            self.misses += len(missing)
            for text, vector in zip(missing, self.model.encode(missing)):
                self.cache[_key(text)] = vector
        return np.stack([self.cache[key] for key in keys])


def synthetic_papers(real: list[Paper], n: int, seed: int = 0, spare: set[str] = frozenset()) -> list[Paper]:
    """n distractors made of real sentences and title words, none taken from the papers in `spare` (those the
    quality questions are about: a distractor holding their very sentences would be a copy, not a distractor)."""
    rng = random.Random(seed)
    donors = [p for p in real if p.paper_id not in spare]
    pool = [s for p in donors for s in sentences(p.abstract)]
    title_words = [w for p in donors for w in p.title.split()]
    dated = [p for p in real if p.date]
    papers = []
    for i in range(n):
        title = " ".join(rng.sample(title_words, 7)) + f" ({i})"
        abstract = " ".join(rng.sample(pool, rng.randint(6, 11)))
        meta = rng.choice(dated)
        papers.append(Paper(paper_id=paper_id_for(title), title=title, abstract=abstract, url=paper_url(title),
                            authors=meta.authors, date=meta.date, date_text=meta.date_text, upvotes=meta.upvotes))
    return papers


def vectors_for(papers: list[Paper], sentence_cache: CachedEncoder) -> dict[str, np.ndarray]:
    """Real vectors for every sentence (from the persistent cache). A title, and the whole text a LlamaIndex
    node embeds, get the normalised mean of the paper's sentences, the real papers' too, so that all papers
    of one index are treated alike (see module doc)."""
    records = [texts_to_embed(p, sentence_spans(p.abstract))[1:] for p in papers]
    unique = list(dict.fromkeys(t for texts in records for t in texts))
    vectors = dict(zip(map(_key, unique), sentence_cache.encode(unique)))  # misses are encoded in one batch
    for paper, texts in zip(papers, records):
        mean = np.mean([vectors[_key(t)] for t in texts], axis=0)
        vectors[_key(paper.title)] = vectors[_key(f"{paper.title}\n{paper.abstract}")] = (
            mean / np.linalg.norm(mean)).astype(np.float32)
    return vectors


def save_cache(path: Path, cache: dict[str, np.ndarray]) -> None:
    keys = sorted(cache)
    np.savez(path, keys=np.array(keys), vectors=np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 384)))


def load_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        return {}
    data = np.load(path)
    return dict(zip(data["keys"].tolist(), data["vectors"]))


def _write_jsonl(path: Path, papers: list[Paper]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for p in papers:
            handle.write(json.dumps({"title": p.title, "abstract": p.abstract, "authors": p.authors,
                                     "date": p.date if p.year else None, "upvotes": p.upvotes}) + "\n")


def _peak_rss_mib() -> float:
    """This process's peak resident memory. Not `getrusage`: Linux carries ru_maxrss across exec, so a step
    would report the bench process's own peak when that is larger."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]}


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()]


# --- steps, each run in a child process: `python -m benchmarks.bench step STEP ARGS...` ------------------


def step_encode(sources: str) -> dict:
    from rag.embedding import corpus_encoder

    papers = load_corpus([Path(sources)]).papers
    texts = [t for p in papers for t in texts_to_embed(p, sentence_spans(p.abstract))]
    encoder = corpus_encoder(load_settings())
    encoder.encode(texts[:16])  # warm-up
    started = time.perf_counter()
    encoder.encode(texts)
    seconds = time.perf_counter() - started
    return {"papers": len(papers), "texts": len(texts), "seconds": seconds, "papers_per_s": len(papers) / seconds}


def step_ingest(sources: str, cache_file: str) -> dict:
    from rag.embedding import corpus_encoder
    from rag.index import ingest

    settings = load_settings()
    encoder = CachedEncoder(load_cache(Path(cache_file))) if cache_file else corpus_encoder(settings)
    started = time.perf_counter()
    report = ingest(settings, [Path(sources)], encoder=encoder, progress=False)
    seconds = time.perf_counter() - started
    return {"papers": report.new, "seconds": seconds, "papers_per_s": report.new / seconds,
            "peak_rss_mib": _peak_rss_mib()}


def step_reingest(sources: str) -> dict:
    from rag.index import ingest

    started = time.perf_counter()
    report = ingest(load_settings(), [Path(sources)], progress=False)
    return {"unchanged": report.unchanged, "embedded": report.embedded, "seconds": time.perf_counter() - started}


def step_serve() -> dict:
    from rag.assistant import Assistant

    questions = _questions()[:WARM_QUERIES]
    started = time.perf_counter()
    assistant = Assistant(load_settings())
    assistant.index
    load_s = time.perf_counter() - started
    assistant.ask(questions[0])
    retrieve_times, ask_times = [], []
    for question in questions:
        mark = time.perf_counter()
        assistant.retrieve(question, k=8)
        retrieve_times.append(time.perf_counter() - mark)
        mark = time.perf_counter()
        assistant.ask(question)
        ask_times.append(time.perf_counter() - mark)
    return {"index_load_s": load_s, "retrieve": _percentiles(retrieve_times), "ask": _percentiles(ask_times),
            "peak_rss_mib": _peak_rss_mib()}


def step_llamaindex_ingest(sources: str, persist: str, cache_file: str) -> dict:
    """The LlamaIndex quickstart into a persistent Chroma. With a vector cache (synthetic sizes) the nodes get
    their vectors from it, so this too measures the write path alone."""
    from rag.baselines import build_quickstart, quickstart_embedding

    papers = load_corpus([Path(sources)]).papers
    embed = quickstart_embedding(load_settings())
    cache = load_cache(Path(cache_file)) if cache_file else {}
    started = time.perf_counter()
    collection = _quickstart_collection(persist)
    build_quickstart(papers, collection, embed,
                     lambda text: None if (vector := cache.get(_key(text))) is None else vector.tolist())
    seconds = time.perf_counter() - started
    return {"papers": len(papers), "nodes": collection.count(), "seconds": seconds,
            "papers_per_s": len(papers) / seconds,
            "peak_rss_mib": _peak_rss_mib()}


def _quickstart_collection(persist: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(persist, settings=ChromaSettings(anonymized_telemetry=False))
    return client.get_or_create_collection("quickstart")


def _quality_gold_ids(real: list[Paper]) -> set[str]:
    return set().union(*_gold_ids(_quality_questions(), real))


def _quality_questions(*paths: str) -> list:
    """The answerable questions of the test half, or of the question files given."""
    from rag.evaluation import load_questions

    return [q for path in (paths or [QUALITY_QUESTIONS]) for q in load_questions(Path(path)) if q.answerable]


def _quality(ranked_lists: list[list[str]], golds: list[set[str]]) -> dict:
    from rag.evaluation import retrieval_scores

    scores = [retrieval_scores(ranked[:QUALITY_K], gold) for ranked, gold in zip(ranked_lists, golds)]
    return {"questions": len(scores), **{m: float(np.mean([s[m] for s in scores])) for m in ("recall@5", "mrr@10")}}


def _gold_ids(questions: list, papers) -> list[set[str]]:
    from rag.corpus import normalize_title
    from rag.evaluation import gold_ids_for

    title_to_id = {normalize_title(p.title): p.paper_id for p in papers}
    return [gold_ids_for(q, title_to_id) for q in questions]


def step_quality(*question_files: str) -> dict:
    """Recall@5 and MRR@10 of the test half (or of `question_files`, e.g. the dev sets for a tuning study at 10k):
    ours (hybrid, as `ask` retrieves) and BM25 alone on our index."""
    from rag.assistant import Assistant
    from rag.query import analyse
    from rag.types import Filters

    assistant = Assistant(load_settings())
    index = assistant.index
    questions = _quality_questions(*question_files)
    golds = _gold_ids(questions, index.papers.values())
    ours, bm25 = [], []
    for question in questions:
        history = question.history or None
        ours.append([s.paper_id for s in assistant.retrieve(question.question, k=QUALITY_K, history=history)])
        parsed = analyse(question.question, max_chars=assistant.settings.max_question_chars, history=history)
        lexical = index.bm25_scores(parsed.search_text, Filters().merged_with(parsed.filters), limit=QUALITY_K)
        bm25.append(sorted(lexical, key=lambda p: -lexical[p]))
    return {"ours": _quality(ours, golds), "bm25": _quality(bm25, golds)}


def step_llamaindex_quality(persist: str, sources: str) -> dict:
    """The same questions through the LlamaIndex quickstart retriever (its nodes carry the paper id)."""
    from rag.baselines import ranked_papers

    questions = _quality_questions()
    golds = _gold_ids(questions, load_corpus([Path(sources)]).papers)
    retriever = _llamaindex_retriever(persist, top_k=QUALITY_K * 3)
    return _quality([ranked_papers(retriever.retrieve(q.question)) for q in questions], golds)


def _llamaindex_retriever(persist: str, top_k: int = 8):
    from rag.baselines import open_quickstart, quickstart_embedding

    index = open_quickstart(_quickstart_collection(persist), quickstart_embedding(load_settings()))
    return index.as_retriever(similarity_top_k=top_k)


def step_llamaindex_serve(persist: str) -> dict:
    retriever = _llamaindex_retriever(persist)
    questions = _questions()[:WARM_QUERIES]
    retriever.retrieve(questions[0])
    times = []
    for question in questions:
        mark = time.perf_counter()
        retriever.retrieve(question)
        times.append(time.perf_counter() - mark)
    return {"retrieve": _percentiles(times), "peak_rss_mib": _peak_rss_mib()}


def step_llamaindex_cold(persist: str) -> dict:
    nodes = _llamaindex_retriever(persist).retrieve("Which papers use Minecraft?")
    print(nodes[0].node.get_content()[:80])
    return {}


STEPS = {"encode": step_encode, "ingest": step_ingest, "reingest": step_reingest,
         "serve": step_serve, "llamaindex-ingest": step_llamaindex_ingest, "llamaindex-serve": step_llamaindex_serve,
         "llamaindex-cold": step_llamaindex_cold, "quality": step_quality,
         "llamaindex-quality": step_llamaindex_quality}


def run_step(name: str, *args: str, data_dir: Path) -> dict:
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "benchmarks.bench", "step", name, *args], capture_output=True,
                            text=True, env=env, cwd=BENCH_ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"bench step {name} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed_command(command: list[str], data_dir: Path, runs: int = 3) -> dict:
    """Wall time of a whole process, start to printed answer (best and median of `runs`)."""
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, cwd=BENCH_ROOT, check=True)
        times.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "best_s": min(times)}


def bench_size(n: int, real: list[Paper], out: Path, sentence_cache: CachedEncoder) -> dict:
    work = out / f"bench-{n}"
    data_dir = work / "data"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # The real papers stay in at every size, so the test half's questions keep their answers among distractors.
    papers = real if n == len(real) else real + synthetic_papers(real, n - len(real), spare=_quality_gold_ids(real))
    sources = work / "papers.jsonl"
    _write_jsonl(sources, papers)
    # The machine's state when the size started: figures taken under load are not comparable.
    result: dict = {"papers": n, "synthetic": n != len(real), "cpus": os.cpu_count(),
                    "load_average_1m": round(os.getloadavg()[0], 2)}
    cache_file = ""
    if n == len(real):
        # This machine's throughput drifts by +-10% from minute to minute: raw encode and ingest are run
        # alternately, twice each, and the best of each is compared.
        encodes, ingests = [], []
        for _ in range(2):
            shutil.rmtree(data_dir, ignore_errors=True)
            encodes.append(run_step("encode", str(sources), data_dir=data_dir))
            ingests.append(run_step("ingest", str(sources), "", data_dir=data_dir))
        result["raw_encode"] = max(encodes, key=lambda r: r["papers_per_s"])
        result["ingest"] = max(ingests, key=lambda r: r["papers_per_s"])
        result["throughput_runs"] = {"raw_encode": [r["papers_per_s"] for r in encodes],
                                     "ingest": [r["papers_per_s"] for r in ingests]}
    else:
        cache_file = str(work / "vectors.npz")
        save_cache(Path(cache_file), vectors_for(papers, sentence_cache))
        result["ingest"] = run_step("ingest", str(sources), cache_file, data_dir=data_dir)
    result["reingest"] = run_step("reingest", str(sources), data_dir=data_dir)
    result["serve"] = run_step("serve", data_dir=data_dir)
    result["quality"] = run_step("quality", data_dir=data_dir)
    result["cold_ask"] = timed_command([str(Path(sys.executable).with_name("rag")), "ask",
                                        "Which papers use Minecraft?"],
                                       data_dir)
    result["disk_mib"] = sum(f.stat().st_size for f in data_dir.rglob("*") if f.is_file()) / 2**20
    persist = str(work / "llamaindex")
    result["llamaindex"] = {
        "ingest": run_step("llamaindex-ingest", str(sources), persist, cache_file, data_dir=data_dir),
        "serve": run_step("llamaindex-serve", persist, data_dir=data_dir),
        "cold_query": timed_command([sys.executable, "-m", "benchmarks.bench", "step", "llamaindex-cold", persist],
                                    data_dir),
        "quality": run_step("llamaindex-quality", persist, str(sources), data_dir=data_dir),
    }
    for scratch in (data_dir, Path(persist)):
        shutil.rmtree(scratch, ignore_errors=True)
    if cache_file:
        Path(cache_file).unlink()
    return result


def _ratio(read_ours, read_theirs):
    return lambda r: read_ours(r) / read_theirs(r)


# Issue 16's targets (and issue 13's quality at 10k): (label, paper count, reader, unit, bound, "<=" or ">=").
TARGETS = [
    *((f"ingest papers/s at {label} >= 1.0x LlamaIndex's", size,
       _ratio(lambda r: r["ingest"]["papers_per_s"], lambda r: r["llamaindex"]["ingest"]["papers_per_s"]),
       "x", 1.0, ">=") for label, size in (("314", 314), ("10k", 10_000), ("100k", 100_000))),
    ("serving peak RSS at 100k <= 1.2x LlamaIndex's", 100_000,
     _ratio(lambda r: r["serve"]["peak_rss_mib"], lambda r: r["llamaindex"]["serve"]["peak_rss_mib"]), "x", 1.2, "<="),
    ("warm retrieve p50 at 100k <= LlamaIndex's", 100_000,
     _ratio(lambda r: r["serve"]["retrieve"]["p50_ms"], lambda r: r["llamaindex"]["serve"]["retrieve"]["p50_ms"]),
     "x", 1.0, "<="),
    ("cold `rag ask` at 314 <= 1 s (median of 3)", 314, lambda r: r["cold_ask"]["median_s"], "s", 1, "<="),
    ("cold `rag ask` at 100k <= 2 s (median of 3)", 100_000, lambda r: r["cold_ask"]["median_s"], "s", 2, "<="),
    ("warm `ask` p50 at 314 <= 50 ms", 314, lambda r: r["serve"]["ask"]["p50_ms"], "ms", 50, "<="),
    ("warm `ask` p50 at 100k <= 100 ms", 100_000, lambda r: r["serve"]["ask"]["p50_ms"], "ms", 100, "<="),
    ("unchanged re-ingest at 100k <= 5 s", 100_000, lambda r: r["reingest"]["seconds"], "s", 5, "<="),
    ("recall@5 at 10k >= 0.90", 10_000, lambda r: r["quality"]["ours"]["recall@5"], "", 0.90, ">="),
    ("recall@5 at 10k ahead of BM25 alone and LlamaIndex", 10_000,
     lambda r: r["quality"]["ours"]["recall@5"] - max(r["quality"]["bm25"]["recall@5"],
                                                      r["llamaindex"]["quality"]["recall@5"]),
     "(margin)", 0.0, ">"),
]


def _met(value: float, bound: float, op: str) -> bool:
    return {"<=": value <= bound, ">=": value >= bound, ">": value > bound}[op]


def write_markdown(results: list[dict], path: Path, command: str) -> None:
    def row(label, values):
        return f"| {label} | " + " | ".join(values) + " |"

    by_size = {r["papers"]: r for r in results}
    real = next((r for r in results if not r["synthetic"]), None)
    sizes = [f"{r['papers']:,}{' (synthetic)' if r['synthetic'] else ''}" for r in results]
    lines = ["# Benchmarks", "",
             f"Written by `{command}` (benchmarks/bench.py); raw numbers in `BENCHMARKS.json`. CPU only, no GPU.",
             "", "| measure | " + " | ".join(sizes) + " |", "|---|" + "---|" * len(results)]
    lines.append(row("CPUs / 1-min load average when the size started",
                     [f"{r['cpus']} / {r['load_average_1m']}" for r in results]))
    lines.append(row("ingest, papers/s", [f"{r['ingest']['papers_per_s']:.1f}" for r in results]))
    lines.append(row("ingest peak RSS, MiB", [f"{r['ingest']['peak_rss_mib']:.0f}" for r in results]))
    lines.append(row("unchanged re-ingest, s", [f"{r['reingest']['seconds']:.2f}" for r in results]))
    lines.append(row("index load (warm process start), s", [f"{r['serve']['index_load_s']:.2f}" for r in results]))
    for what in ("retrieve", "ask"):
        lines.append(row(f"warm {what} p50 / p95, ms",
                         [f"{r['serve'][what]['p50_ms']:.0f} / {r['serve'][what]['p95_ms']:.0f}" for r in results]))
    lines.append(row("serving peak RSS, MiB", [f"{r['serve']['peak_rss_mib']:.0f}" for r in results]))
    lines.append(row("cold `rag ask` wall, s (median / best of 3)",
                     [f"{r['cold_ask']['median_s']:.2f} / {r['cold_ask']['best_s']:.2f}" for r in results]))
    lines.append(row("index on disk, MiB", [f"{r['disk_mib']:.0f}" for r in results]))
    lines += ["", "## Beside the LlamaIndex quickstart, same run", "",
              "| measure | " + " | ".join(sizes) + " |", "|---|" + "---|" * len(results)]
    paired = [("ingest, papers/s", "{:.1f}", lambda r: r["ingest"]["papers_per_s"],
               lambda r: r["llamaindex"]["ingest"]["papers_per_s"]),
              ("warm retrieve p50, ms", "{:.0f}", lambda r: r["serve"]["retrieve"]["p50_ms"],
               lambda r: r["llamaindex"]["serve"]["retrieve"]["p50_ms"]),
              ("cold query process, s (median of 3)", "{:.2f}", lambda r: r["cold_ask"]["median_s"],
               lambda r: r["llamaindex"]["cold_query"]["median_s"]),
              ("serving peak RSS, MiB", "{:.0f}", lambda r: r["serve"]["peak_rss_mib"],
               lambda r: r["llamaindex"]["serve"]["peak_rss_mib"])]
    for label, fmt, ours_of, theirs_of in paired:
        lines.append(row(f"{label}: ours / LlamaIndex / ratio",
                         [f"{fmt.format(ours_of(r))} / {fmt.format(theirs_of(r))} / {ours_of(r) / theirs_of(r):.2f}"
                          for r in results]))
    lines += ["", f"## Retrieval quality at each size, same run ({results[0]['quality']['ours']['questions']} "
              "answerable questions of `eval/hard/test.jsonl`, k=10)", "",
              "| recall@5 / MRR@10 | " + " | ".join(sizes) + " |", "|---|" + "---|" * len(results)]
    for label, read in (("ours (hybrid)", lambda r: r["quality"]["ours"]),
                        ("BM25 alone (our index)", lambda r: r["quality"]["bm25"]),
                        ("LlamaIndex quickstart", lambda r: r["llamaindex"]["quality"])):
        lines.append(row(label, [f"{read(r)['recall@5']:.3f} / {read(r)['mrr@10']:.3f}" for r in results]))
    if real:
        raw, ours = real["raw_encode"], real["ingest"]
        runs = real["throughput_runs"]
        lines += ["", f"On the real corpus the model is most of ingest: raw encode of the same {raw['texts']} texts "
                  f"runs at {raw['papers_per_s']:.1f} papers/s and our ingest at {ours['papers_per_s']:.1f} papers/s "
                  f"({ours['papers_per_s'] / raw['papers_per_s']:.0%} of it; best of two alternating runs each: raw "
                  f"{', '.join(f'{v:.1f}' for v in runs['raw_encode'])}, ingest "
                  f"{', '.join(f'{v:.1f}' for v in runs['ingest'])}). LlamaIndex embeds "
                  f"{real['llamaindex']['ingest']['nodes']} texts (one node per paper)."]
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for label, size, read, unit, bound, op in TARGETS:
        if size in by_size:
            value = read(by_size[size])
            lines.append(f"| {label} | {value:.{0 if unit == 'ms' else 2}f} {unit} | "
                         f"{'yes' if _met(value, bound, op) else 'no'} |")
    lines += ["", "## How it is measured", "",
              "- Every step runs in its own process (`python -m benchmarks.bench step STEP`), so each peak RSS "
              "(VmHWM) is that step's alone.",
              "- 314 is the bundled corpus. 10k and 100k are the 314 real papers plus synthetic distractors: real "
              "abstract sentences recombined with a fixed seed, titles from real title words, none taken from the "
              "papers the quality questions are about (a distractor holding their very sentences would be a "
              "copy). Their sentence vectors are real model vectors "
              "from a cache (`<out>/bench-cache`), and a paper's vector is the mean of its "
              "sentences', so their ingest rate is the write path alone (parsing, hashing, Chroma, the paper "
              "table and its vectors); the model's cost is the raw encode rate measured on the real papers.",
              "- Ingest throughput counts from the call to `rag.index.ingest` to its return (the model is loaded "
              "before, as it is for the raw encode), so it includes parsing, the Chroma writes and saving the "
              "paper table.",
              "- Warm figures: 40 questions of `eval/questions.jsonl` after one warm-up, `Assistant.retrieve(k=8)` "
              "and `Assistant.ask` in one process. Cold: `rag ask` as a fresh process, start to printed answer.",
              "- LlamaIndex quickstart (`rag.baselines.build_quickstart`, the same as `rag eval --baselines`): "
              "title + abstract as `Document`s, its default `SentenceSplitter`, `VectorStoreIndex` into a Chroma "
              "collection with the same model through `HuggingFaceEmbedding` (one node per paper). At the "
              "synthetic sizes its nodes take their vectors from the same cache, so both ingest figures are write "
              "paths there. Its warm retrieve is dense-only over one vector per paper (no BM25, no answer); ours "
              "is hybrid retrieval over one ANN vector per paper whose candidates are re-scored by their "
              "sentence vectors, and our warm ask adds the extractive answer.",
              "- Retrieval quality: the answerable questions of the held-out test half, ours through "
              "`Assistant.retrieve` (follow-ups with their history), BM25 alone on the same index, LlamaIndex's "
              "retriever on its own index of the same papers; recall@5 and MRR@10 over the first paper of each "
              "paper's nodes. At 10k and 100k every paper vector (the real papers' too) is the mean of the "
              "paper's sentence vectors (above), for both systems.",
              ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_results(results: list[dict], folder: Path, command: str, *, merge: bool) -> None:
    """BENCHMARKS.json and BENCHMARKS.md in `folder`; with `merge`, sizes not re-run keep their last figures
    there, so one size can be re-measured alone."""
    folder.mkdir(parents=True, exist_ok=True)
    earlier_file = folder / "BENCHMARKS.json"
    earlier = json.loads(earlier_file.read_text()) if merge and earlier_file.exists() else []
    merged = {r["papers"]: r for r in earlier} | {r["papers"]: r for r in results}
    results = [merged[n] for n in sorted(merged)]
    earlier_file.write_text(json.dumps(results, indent=2))
    sizes = ",".join(str(r["papers"]) for r in results)
    write_markdown(results, folder / "BENCHMARKS.md", f"{command} --sizes {sizes}")
    print(f"wrote {folder / 'BENCHMARKS.md'}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="314,10000,100000", help="comma-separated paper counts (314 = real)")
    parser.add_argument("--out", default="bench-work", type=Path,
                        help="scratch folder (indexes, the vector cache) and where the results are written")
    parser.add_argument("--docs", type=Path, default=None,
                        help="also merge the results into this folder's BENCHMARKS.md/.json (e.g. docs)")
    args = parser.parse_args(argv)
    out = args.out.resolve()  # steps run in child processes from BENCH_ROOT
    out.mkdir(parents=True, exist_ok=True)
    real = load_corpus(load_settings().corpus_paths).papers
    cache_path = out / "bench-cache" / "sentence-vectors.npz"
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    sentence_cache = CachedEncoder(load_cache(cache_path))
    results = []
    for n in [int(n) for n in args.sizes.split(",")]:
        print(f"benchmarking {n:,} papers...", file=sys.stderr)
        results.append(bench_size(len(real) if n == 314 else n, real, out, sentence_cache))
        save_cache(cache_path, sentence_cache.cache)
        print(json.dumps(results[-1]), file=sys.stderr)
    write_results(results, out, "python -m benchmarks.bench", merge=False)
    if args.docs:
        write_results(results, args.docs, "python -m benchmarks.bench", merge=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["step"]:
        step, *arguments = sys.argv[2:]
        print(json.dumps(STEPS[step](*arguments)))
    else:
        sys.exit(main())
