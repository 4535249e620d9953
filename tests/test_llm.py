"""The generative path. Fast tests use an OpenAI-compatible stub (helpers.stub_llm_server: exact replies, faults);
the integration tests run the real llama.cpp server with the packaged SmolLM2 model."""

from __future__ import annotations

import json

import pytest
from helpers import free_port, llama_server, stub_llm_server

from rag import Answer, load_settings
from rag.assistant import Assistant
from rag.evaluation import citation_problems
from rag.llm_server import MODEL_ALIAS

CUDA_QUESTION = "How much faster than human-written code are the GPU kernels that LLMs generate?"
CUDA_CLAIM = "The automatically generated kernels can outperform general human-written code by up to 179 times."


@pytest.fixture(scope="module")
def stub_llm():
    with stub_llm_server() as state:
        yield state


@pytest.fixture
def llm_assistant(built_settings, stub_llm, assistant):
    stub_llm.update(mode="ok", reply="", requests=[])
    settings = built_settings.model_copy(update={"answerer": "openai", "llm_base_url": stub_llm["url"],
                                                 "llm_model": "stub", "llm_timeout_s": 1.0})
    return Assistant(settings, encoder=assistant.encoder)  # share the loaded model: only the answerer differs


def test_valid_citations_are_kept_and_quoted(llm_assistant, stub_llm):
    stub_llm["reply"] = f"{CUDA_CLAIM} [1]"
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "openai" and not answer.abstained
    assert answer.citations[0].title == "CUDA-LLM: LLMs Can Write Efficient CUDA Kernels"
    assert "179times" in answer.citations[0].quote  # the abstract's own words, verbatim
    assert citation_problems(answer, llm_assistant.index.papers) == []
    sent = stub_llm["requests"][-1]["body"]["messages"]
    assert sent[0]["role"] == "system" and "[1] CUDA-LLM" in sent[-1]["content"]


@pytest.mark.parametrize("question", ["How many papers are in the collection?", "Which paper has the most upvotes?",
                                      "Which papers were published in 2021?"])
def test_an_answer_from_the_listings_alone_asks_no_llm(llm_assistant, stub_llm, question):
    answer = llm_assistant.ask(question)
    assert answer.backend == "extractive" and not answer.abstained and stub_llm["requests"] == []


def test_invalid_citation_numbers_are_dropped_and_unsupported_claims_marked(llm_assistant, stub_llm):
    stub_llm["reply"] = f"{CUDA_CLAIM} [1][42] The kernels were written in Fortran by a team of penguins. [3]"
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert "[42]" not in answer.text and "[3]" not in answer.text
    assert answer.unsupported == ["The kernels were written in Fortran by a team of penguins."]
    assert any("unsupported" in note for note in answer.notes)
    assert [c.number for c in answer.citations] == [1]


def test_uncited_claim_is_attributed_post_hoc(llm_assistant, stub_llm):
    stub_llm["reply"] = CUDA_CLAIM
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.text.endswith("[1].")
    assert answer.citations[0].title.startswith("CUDA-LLM")


TWO_PART_QUESTION = ("How much faster than human-written code are the CUDA kernels LLMs generate, and which GPU "
                     "architecture characteristics is the refinement tailored to?")


def test_prompt_lists_each_part_the_answer_must_cover(llm_assistant, stub_llm):
    stub_llm["reply"] = f"{CUDA_CLAIM} [1]"
    llm_assistant.ask(TWO_PART_QUESTION)
    prompt = stub_llm["requests"][-1]["body"]["messages"][-1]["content"]
    assert "The answer must cover each of these" in prompt
    assert "- How much faster than human-written code are the CUDA kernels LLMs generate" in prompt
    assert "- which GPU architecture characteristics is the refinement tailored to" in prompt


def test_a_part_no_supported_sentence_covers_is_reported(llm_assistant, stub_llm):
    stub_llm["reply"] = f"{CUDA_CLAIM} [1]"
    answer = llm_assistant.ask(TWO_PART_QUESTION)
    assert answer.backend == "openai" and answer.citations
    assert any("does not cover" in note and "GPU architecture" in note for note in answer.notes), answer.notes
    stub_llm["reply"] = (f"{CUDA_CLAIM} [1] The refinement is tailored to the characteristics of the GPU "
                         "architecture. [1]")
    covered = llm_assistant.ask(TWO_PART_QUESTION)
    assert not any("does not cover" in note for note in covered.notes), covered.notes


@pytest.mark.parametrize("reply", ["The answer is:", "Penguins wrote these kernels in Fortran on a glacier. [1]"])
def test_nothing_supported_falls_back_to_the_extractive_answer_with_a_note(llm_assistant, stub_llm, reply):
    stub_llm["reply"] = reply
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "extractive" and "179" in answer.text and answer.citations
    assert any("No sentence of the generated answer is supported" in note for note in answer.notes)


def test_sentinel_means_abstention(llm_assistant, stub_llm):
    stub_llm["reply"] = "INSUFFICIENT_EVIDENCE"
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.abstained and answer.citations == [] and "don't seem to answer" in answer.text


def test_streaming_yields_deltas_then_the_verified_answer(llm_assistant, stub_llm):
    stub_llm["reply"] = f"{CUDA_CLAIM} [1]"
    stream = llm_assistant.ask_stream(CUDA_QUESTION)
    deltas, final = list(stream), stream.answer
    assert len(deltas) > 5 and "".join(deltas) == stub_llm["reply"]
    assert isinstance(final, Answer) and final.citations


@pytest.mark.parametrize("mode, words", [("http500", "HTTP 500"), ("http429", "HTTP 429"),
                                         ("slow", "did not answer within"), ("garbage", "unusable")])
def test_endpoint_faults_fall_back_to_the_extractive_answer(llm_assistant, mode, words, stub_llm):
    stub_llm["mode"] = mode
    answer = llm_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "extractive" and "179" in answer.text
    assert any(words in note and "extractive" in note for note in answer.notes), answer.notes


def test_dead_endpoint_falls_back_and_never_leaks_the_key(llm_assistant, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123456")
    settings = load_settings(**{**llm_assistant.settings.model_dump(exclude={"llm_api_key"}),
                                "llm_base_url": f"http://127.0.0.1:{free_port()}/v1"})
    assert settings.llm_api_key.get_secret_value() == "sk-secret-123456"  # read from the environment
    assert "sk-secret" not in settings.model_dump_json() and "sk-secret" not in repr(settings)
    llm_assistant.settings = settings
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
    return Assistant(settings, encoder=assistant.encoder)


def test_real_llm_streams_and_every_citation_is_verified(smol_assistant):
    stream = smol_assistant.ask_stream(CUDA_QUESTION)
    deltas, final = list(stream), stream.answer
    assert deltas and all(isinstance(d, str) for d in deltas)
    assert final.timings["generate"] > 0 and final.text
    # SmolLM2 is weak: whatever it wrote, each surviving [n] is a real paper with a verbatim quote, and each
    # sentence is either cited or listed as unsupported; when nothing it wrote is supported, the user gets
    # the extractive answer with a note, never an empty one.
    assert citation_problems(final, smol_assistant.index.papers) == []
    if final.backend == "openai":
        for sentence in final.unsupported:
            assert sentence in final.text
    else:
        assert final.backend == "extractive" and "179" in final.text
        assert any("No sentence of the generated answer is supported" in note for note in final.notes)


def test_killed_real_server_triggers_the_fallback(smol_assistant, llama):
    process, _ = llama
    assert not any("Cannot reach" in note for note in smol_assistant.ask(CUDA_QUESTION).notes)
    process.kill()
    process.wait()
    answer = smol_assistant.ask(CUDA_QUESTION)
    assert answer.backend == "extractive" and "179" in answer.text
    assert any("Cannot reach the LLM" in note for note in answer.notes)
