#!/usr/bin/env python
"""Load test for the chat app: many concurrent chats through the Gradio API, optionally while an ingest runs.

    python scripts/stress.py                                  # 50 chats x 2 questions against a fresh `python app.py`
    python scripts/stress.py --users 100 --questions 3
    python scripts/stress.py --data-dir /tmp/copy --ingest more.jsonl   # also: users ask while `rag ingest` runs
    python scripts/stress.py --url http://127.0.0.1:7860/     # an app that is already running

Without --url it starts `python app.py` on a free loopback port (RAG_DATA_DIR from --data-dir, else the usual
settings) and stops it at the end. Each user is its own gradio_client session. An error is an exception in
the client or a red error box in the answer. Prints p50/p95 per question; `--json` prints one JSON object as
the last line. Exits 1 on any error. See docs/RELIABILITY.md for the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Which papers use tree search for language model agents?",
    "How much does best-first search improve a GPT-4o web agent on VisualWebArena?",
    "What benchmarks evaluate web agents?",
    "Which papers study retrieval-augmented generation?",
    "How many authors does Tree Search for Language Model Agents have?",
    "Which papers reduce KV-cache memory?",
    "How much faster than human-written code are the GPU kernels that LLMs generate?",
    "What is the capital of France?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(data_dir: str | None, log_path: Path) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    env = {**os.environ, "RAG_HOST": "127.0.0.1", "RAG_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("RAG_AUTH", None)
    if data_dir:
        env["RAG_DATA_DIR"] = data_dir
    log = log_path.open("w")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"app.py exited with {server.returncode}; see {log_path}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.kill()
    raise SystemExit(f"app.py did not start in 240 s; see {log_path}")


def bubble_text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def ask_once(client, question: str, date_from: str = "") -> tuple[float, str | None]:
    """(seconds, error or None) for one question through the /ask endpoint."""
    started = time.perf_counter()
    try:
        _, chat, _ = client.predict(question, date_from, "", None, 8, api_name="/ask")
        bubble = bubble_text(chat[-1]) if chat else ""
        error = None if "rag-answer" in bubble and "rag-error" not in bubble else f"error box: {bubble[:300]}"
    except Exception as exc:  # noqa: BLE001 - every failure counts
        error = f"{type(exc).__name__}: {exc}"[:300]
    return time.perf_counter() - started, error


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] if ordered else float("nan")


def run_load(url: str, users: int, questions: int, timeout: float) -> dict:
    from gradio_client import Client

    def user(number: int) -> list[tuple[float, str | None]]:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001
            return [(0.0, f"connect: {type(exc).__name__}: {exc}"[:300])]
        return [ask_once(client, QUESTIONS[(number + i) % len(QUESTIONS)]) for i in range(questions)]

    started = time.perf_counter()
    results: list[tuple[float, str | None]] = []
    pool = ThreadPoolExecutor(users)
    futures = [pool.submit(user, n) for n in range(users)]
    try:
        for future in as_completed(futures, timeout=timeout):
            results += future.result()
    except TimeoutError:
        results += [(timeout, "timed out")] * sum(not f.done() for f in futures)
    pool.shutdown(wait=False, cancel_futures=True)
    seconds = [s for s, error in results if error is None]
    errors = [error for _, error in results if error]
    return {"users": users, "questions_per_user": questions, "asked": len(results), "errors": len(errors),
            "error_samples": errors[:5], "wall_s": round(time.perf_counter() - started, 2),
            "p50_s": round(statistics.median(seconds), 3) if seconds else None,
            "p95_s": round(percentile(seconds, 0.95), 3) if seconds else None,
            "max_s": round(max(seconds), 3) if seconds else None}


def run_during_ingest(url: str, data_dir: str | None, corpus: str, users: int, timeout: float) -> dict:
    """Users keep asking (some with a date filter) while `rag ingest CORPUS` runs on the same index."""
    from gradio_client import Client

    env = {**os.environ}
    if data_dir:
        env["RAG_DATA_DIR"] = data_dir
    clients = [Client(url, verbose=False) for _ in range(users)]
    ingest = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", "--quiet", corpus], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results: list[tuple[float, str | None]] = []
    overlapping = []  # questions that were asked and answered while the ingest was still running
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def keep_asking(number: int) -> None:
        i = 0
        while ingest.poll() is None and time.monotonic() < deadline:
            date_from = "2023-01-01" if (number + i) % 3 == 0 else ""
            outcome = ask_once(clients[number], QUESTIONS[(number + i) % len(QUESTIONS)], date_from)
            with lock:
                results.append(outcome)
                if ingest.poll() is None:
                    overlapping.append(outcome)
            i += 1
        outcome = ask_once(clients[number], QUESTIONS[number % len(QUESTIONS)])  # and once after it finished
        with lock:
            results.append(outcome)

    with ThreadPoolExecutor(users) as pool:
        wait([pool.submit(keep_asking, n) for n in range(users)])
    if ingest.poll() is None:
        ingest.kill()
    out, err = ingest.communicate()
    errors = [error for _, error in results if error]
    return {"ingest_rc": ingest.returncode, "ingest_summary": out.strip().splitlines()[:7],
            "ingest_stderr_tail": err.strip()[-500:] if ingest.returncode else "", "users": users,
            "asked": len(results), "asked_while_ingesting": len(overlapping), "errors": len(errors),
            "error_samples": errors[:5]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an app that is already running (default: start `python app.py`)")
    parser.add_argument("--data-dir", help="RAG_DATA_DIR for the started app and the ingest")
    parser.add_argument("--users", type=int, default=50, help="concurrent chats (default 50)")
    parser.add_argument("--questions", type=int, default=2, help="questions per chat (default 2)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for each phase (default 300)")
    parser.add_argument("--ingest", help="a corpus file to ingest while users ask (after the load phase)")
    parser.add_argument("--ingest-users", type=int, default=8, help="chats asking during the ingest (default 8)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON line at the end")
    args = parser.parse_args(argv)

    server = None
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"rag-stress-app-{os.getpid()}.log"
    url = args.url
    if not url:
        started = time.perf_counter()
        server, url = start_app(args.data_dir, log_path)
        print(f"app.py up at {url} in {time.perf_counter() - started:.1f} s (log: {log_path})", file=sys.stderr)
    try:
        from gradio_client import Client

        ask_once(Client(url, verbose=False), QUESTIONS[0])  # warm-up: the first question loads the index
        result = {"load": run_load(url, args.users, args.questions, args.timeout)}
        load = result["load"]
        print(f"{load['users']} chats x {load['questions_per_user']} questions: {load['asked']} asked, "
              f"{load['errors']} errors, p50 {load['p50_s']} s, p95 {load['p95_s']} s, max {load['max_s']} s, "
              f"wall {load['wall_s']} s", file=sys.stderr)
        if args.ingest:
            result["during_ingest"] = run_during_ingest(url, args.data_dir, args.ingest, args.ingest_users,
                                                        args.timeout)
            during = result["during_ingest"]
            print(f"during ingest (rc {during['ingest_rc']}): {during['asked']} asked by {during['users']} chats, "
                  f"{during['errors']} errors", file=sys.stderr)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    if server is not None and log_path.exists():
        result["app_log_tracebacks"] = log_path.read_text(errors="replace").count("Traceback")
    if args.json:
        print(json.dumps(result))
    failed = result["load"]["errors"] or result.get("during_ingest", {}).get("errors") \
        or result.get("during_ingest", {}).get("ingest_rc") not in (None, 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
