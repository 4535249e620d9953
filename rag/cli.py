"""The `rag` command: ingest, ask, eval, serve."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path


def _print_answer(answer) -> None:
    print(answer.text)
    for note in answer.notes:
        print(f"\nNote: {note}")
    if answer.citations:
        print("\nReferences")
        for numbers, title, url in answer.references():
            print(f"{numbers} {title}\n    {url}")
    elif answer.sources:
        print("\nClosest papers")
        for number, source in enumerate(answer.sources[:3], start=1):
            print(f"- {source.title}\n    {source.url}")


def cmd_ingest(args) -> int:
    from rag.config import load_settings
    from rag.index import ingest

    settings = load_settings()
    report = ingest(settings, [Path(p) for p in args.paths] or None, prune=args.prune, rebuild=args.rebuild,
                    progress=not args.quiet, categories=args.categories)
    print(report.summary())
    return 0


def cmd_ask(args) -> int:
    # One question, then the process ends. Meanwhile the cyclic collector would free next to nothing: it would
    # walk the objects of the ~1000 modules an answer imports, many times while they load and again at exit
    # (0.2 s of a cold `rag ask`). Frozen, what is loaded is left out of later collections, the one at exit too.
    gc.disable()
    try:
        from rag.assistant import Assistant
        from rag.config import load_settings
        from rag.types import Filters

        filters = Filters.from_inputs(args.date_from, args.date_to, args.min_upvotes, args.author)
        answer = Assistant(load_settings()).ask(args.question, k=args.k, filters=filters)
    finally:
        gc.freeze()
        gc.enable()
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)
    return 0


def cmd_eval(args) -> int:
    from rag.evaluation import run_cli

    return run_cli(args)


def cmd_llm_server(args) -> int:
    from rag.llm_server import main as serve_llm

    return serve_llm(args.port, args.model)


def cmd_serve(args) -> int:
    import runpy

    from rag.config import PROJECT_ROOT

    # The chat app is a shell around the library, run as a script: the library never imports it.
    runpy.run_path(str(PROJECT_ROOT / "app.py"), run_name="__main__")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited answers over AI research papers, offline.")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="parse listing/JSONL files and index them (incremental)")
    ingest.add_argument("paths", nargs="*", help="files or folders (default: the bundled corpus)")
    ingest.add_argument("--prune", action="store_true", help="remove papers no longer in the given sources")
    ingest.add_argument("--rebuild", action="store_true",
                        help="drop the collection first (after a model or index-format change)")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("--categories", type=lambda text: {c.strip() for c in text.split(",") if c.strip()},
                        help="arXiv snapshot only: keep papers in one of these categories (e.g. cs.CL,cs.LG)")
    ingest.set_defaults(func=cmd_ingest)

    ask = commands.add_parser("ask", help="answer a question with citations")
    ask.add_argument("question")
    ask.add_argument("--k", type=int, default=None, help="papers to retrieve")
    ask.add_argument("--json", action="store_true", help="print the Answer as JSON")
    ask.add_argument("--from", dest="date_from", help="only papers dated on or after YYYY[-MM[-DD]]")
    ask.add_argument("--to", dest="date_to", help="only papers dated on or before YYYY[-MM[-DD]]")
    ask.add_argument("--min-upvotes", type=int, default=None)
    ask.add_argument("--author", default=None, help="only papers with an author of this name (where the source "
                     "names authors: the Hugging Face API, the arXiv snapshot)")
    ask.set_defaults(func=cmd_ask)

    evaluate = commands.add_parser("eval", help="run a question/answer set and write a report")
    evaluate.add_argument("--questions", default=None, help="JSONL file (default: eval/questions.jsonl)")
    evaluate.add_argument("--out", default="eval/out", help="report folder")
    evaluate.add_argument("--baselines", action="store_true", help="also score BM25, dense, LlamaIndex baselines")
    evaluate.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE",
                          help="fail (exit 1) when an overall metric is below VALUE; repeatable")
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N questions")
    evaluate.set_defaults(func=cmd_eval)

    llm = commands.add_parser("llm-server", help="start llama.cpp's OpenAI-compatible server (packaged SmolLM2)")
    llm.add_argument("--port", type=int, default=8089)
    llm.add_argument("--model", default=None, help="a GGUF file (default: the packaged SmolLM2-135M)")
    llm.set_defaults(func=cmd_llm_server)

    serve = commands.add_parser("serve", help="start the chat app")
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    from rag.errors import RagError

    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a pipe's buffered output is written here, where a closed reader is handled
        return code
    except (RagError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `rag ask … | head`: the reader has what it wanted. Point stdout at nothing, or the interpreter's final
        # flush raises again on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
