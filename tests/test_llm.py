"""The generative path. Fast tests use a 60-line OpenAI-compatible stub (to script exact replies and faults);
the integration tests run the real llama.cpp server with the packaged SmolLM2 model."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import free_port, llama_server

from rag import Answer
from rag.assistant import Assistant
from rag.evaluation import citation_problems
from rag.llm_server import MODEL_ALIAS

CUDA_QUESTION = "How much faster than human-written code are the GPU kernels that LLMs generate?"
CUDA_CLAIM = "The automatically generated kernels can outperform general human-written code by up to 179 times."


class StubLLM(BaseHTTPRequestHandler):
    """Replies with `reply` (streamed in small chunks), or fails as `mode` says."""

    reply = ""
    mode = "ok"  # ok | http500 | http429 | slow | garbage
    requests: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        StubLLM.requests.append({"body": body, "auth": self.headers.get("Authorization")})
        if self.mode in ("http500", "http429"):
            code = 500 if self.mode == "http500" else 429
            payload = json.dumps({"error": {"message": "boom", "type": "server_error"}}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if self.mode == "slow":
            time.sleep(3)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if self.mode == "garbage":
            self.wfile.write(b"data: {this is not json\n\n")
            return
        for start in range(0, len(self.reply), 7):
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                     "choices": [{"index": 0, "delta": {"content": self.reply[start:start + 7]}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up (the timeout test) is expected


@pytest.fixture(scope="module")
def stub_url():
    server = QuietServer(("127.0.0.1", free_port()), StubLLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture
def llm_assistant(built_settings, stub_url, assistant):
    StubLLM.mode, StubLLM.reply, StubLLM.requests = "ok", "", []
    settings = built_settings.model_copy(update={"answerer": "openai", "llm_base_url": stub_url,
                                                 "llm_model": "stub", "llm_timeout_s": 1.0})
    llm = Assistant(settings)
    llm._encoder = assistant._encoder  # share the loaded model: only the answerer differs
    return llm


def test_valid_citations_are_kept_and_quoted(llm_assistant):
    StubLLM.reply = f"{CUDA_CLAIM} [1]"
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "openai" and not answer.abstained
    assert answer.citations[0].title == "CUDA-LLM: LLMs Can Write Efficient CUDA Kernels"
    assert "179times" in answer.citations[0].quote  # the abstract's own words, verbatim
    assert citation_problems(answer, llm_assistant.index.papers) == []
    sent = StubLLM.requests[-1]["body"]["messages"]
    assert sent[0]["role"] == "system" and "[1] CUDA-LLM" in sent[-1]["content"]


def test_invalid_citation_numbers_are_dropped_and_unsupported_claims_marked(llm_assistant):
    StubLLM.reply = f"{CUDA_CLAIM} [1][42] The kernels were written in Fortran by a team of penguins. [3]"
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert "[42]" not in answer.text and "[3]" not in answer.text
    assert answer.unsupported == ["The kernels were written in Fortran by a team of penguins."]
    assert any("unsupported" in note for note in answer.notes)
    assert [c.number for c in answer.citations] == [1]


def test_uncited_claim_is_attributed_post_hoc(llm_assistant):
    StubLLM.reply = CUDA_CLAIM
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.text.endswith("[1].")
    assert answer.citations[0].title.startswith("CUDA-LLM")


def test_sentinel_means_abstention(llm_assistant):
    StubLLM.reply = "INSUFFICIENT_EVIDENCE"
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.abstained and answer.citations == [] and "don't seem to answer" in answer.text


def test_streaming_yields_deltas_then_the_verified_answer(llm_assistant):
    StubLLM.reply = f"{CUDA_CLAIM} [1]"
    *deltas, final = list(llm_assistant.ask_stream(CUDA_QUESTION))
    assert len(deltas) > 5 and "".join(deltas) == StubLLM.reply
    assert isinstance(final, Answer) and final.citations


@pytest.mark.parametrize("mode, words", [("http500", "HTTP 500"), ("http429", "HTTP 429"),
                                         ("slow", "did not answer within"), ("garbage", "unusable")])
def test_endpoint_faults_fall_back_to_the_extractive_answer(llm_assistant, mode, words):
    StubLLM.mode = mode
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "extractive" and "179" in answer.text
    assert any(words in note and "extractive" in note for note in answer.notes), answer.notes


def test_dead_endpoint_falls_back_and_never_leaks_the_key(llm_assistant, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123456")
    llm_assistant.settings = llm_assistant.settings.model_copy(
        update={"llm_base_url": f"http://127.0.0.1:{free_port()}/v1"})
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "extractive" and any("Cannot reach" in n for n in answer.notes)
    assert "sk-secret" not in json.dumps(answer.to_dict())


# --- the real llama.cpp server with SmolLM2-135M ---------------------------------------------------------


@pytest.fixture(scope="module")
def llama():
    with llama_server() as (process, url):
        yield process, url


@pytest.fixture
def smol_assistant(built_settings, llama, assistant):
    settings = built_settings.model_copy(update={"answerer": "openai", "llm_base_url": llama[1],
                                                 "llm_model": MODEL_ALIAS, "llm_timeout_s": 60.0,
                                                 "llm_max_tokens": 96})
    smol = Assistant(settings)
    smol._encoder = assistant._encoder
    return smol


def test_real_llm_streams_and_every_citation_is_verified(smol_assistant):
    *deltas, final = list(smol_assistant.ask_stream(CUDA_QUESTION))
    assert deltas and all(isinstance(d, str) for d in deltas)
    assert final.backend == "openai" and final.timings["generate"] > 0
    # SmolLM2 is weak: whatever it wrote, each surviving [n] is a real paper with a verbatim quote,
    # and each sentence is either cited or listed as unsupported.
    assert citation_problems(final, smol_assistant.index.papers) == []
    for sentence in final.unsupported:
        assert sentence in final.text


def test_killed_real_server_triggers_the_fallback(smol_assistant, llama):
    process, _ = llama
    assert smol_assistant.ask(CUDA_QUESTION).backend == "openai"
    process.kill()
    process.wait()
    answer = smol_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "extractive" and "179" in answer.text
    assert any("Cannot reach the LLM" in note for note in answer.notes)
