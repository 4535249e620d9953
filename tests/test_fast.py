"""The whole question path in seconds: the real assistant, a real embedded Chroma, real BM25 and the real
answer composition and verification over 20 papers (tests/fixtures/papers20.jsonl), with questions and
papers embedded by hashed words instead of the model (tests/fakes.py). What the model's meaning adds is
tested in the slow tier (test_ask.py, test_eval.py)."""

from __future__ import annotations

import re

import pytest
from fakes import HashedWords
from helpers import stub_llm_server

from rag import Answer, AnswerStream, Filters, QuestionError, Turn
from rag.assistant import Assistant
from rag.evaluation import citation_problems
from rag.text import terms

CUDA = "CUDA-LLM: LLMs Can Write Efficient CUDA Kernels"
LSERVE = "LServe: Efficient Long-sequence LLM Serving with Unified Sparse Attention"
LOCRET = "Locret: Enhancing Eviction in Long-Context LLM Inference with Trained Retaining Heads"


def cited(answer: Answer) -> list[str]:
    return list(dict.fromkeys(c.title for c in answer.citations))


def assert_grounded(assistant: Assistant, answer: Answer) -> None:
    """Every [n] resolves to a citation quoted verbatim, at its offsets, from the paper it names."""
    assert citation_problems(answer, assistant.index.papers) == []
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.number for c in answer.citations}
    assert all(c.start is not None for c in answer.citations if c.field == "abstract")


def test_a_fact_is_quoted_with_its_citation(fast_assistant):
    answer = fast_assistant.ask("How much faster than human-written code are the GPU kernels that LLMs generate?")
    assert not answer.abstained and cited(answer)[0] == CUDA and "179" in answer.text
    assert_grounded(fast_assistant, answer)
    assert answer.references()[0][1] == CUDA


def test_two_named_works_are_compared_each_from_its_own_paper(fast_assistant):
    answer = fast_assistant.ask("How do LServe and Locret differ?")
    lines = answer.text.splitlines()
    assert len(lines) == 2 and "LServe" in lines[0] and "Locret" in lines[1]
    assert set(cited(answer)) == {LSERVE, LOCRET}
    assert_grounded(fast_assistant, answer)


def test_a_list_question_names_several_papers(fast_assistant):
    answer = fast_assistant.ask("Which papers merge several fine-tuned models into one multi-task model?")
    assert len(cited(answer)) >= 2 and all(line.startswith("- ") for line in answer.text.splitlines())
    assert any("Merging" in title or "Breadcrumbs" in title for title in cited(answer))
    assert_grounded(fast_assistant, answer)


def test_an_off_corpus_question_is_refused_with_the_closest_papers(fast_assistant):
    answer = fast_assistant.ask("What is the boiling point of water at high altitude?")
    assert answer.abstained and answer.citations == [] and answer.sources
    assert "don't seem to answer" in answer.text


def test_filters_that_exclude_everything_say_so(fast_assistant):
    answer = fast_assistant.ask("How does StruQ defend against prompt injection?",
                                filters=Filters.from_inputs("2030", None))
    assert answer.abstained and answer.matching == 0
    assert "0 of 20 papers match the filters (dated 2030-01-01 or later)" in answer.text


def test_a_follow_up_is_answered_about_the_paper_of_the_previous_answer(fast_assistant):
    first = fast_assistant.ask("What does Locret do to the KV cache?")
    assert cited(first)[0] == LOCRET
    follow_up = fast_assistant.ask("What compression ratio does it reach?", history=[Turn(first.question, first.text)])
    assert cited(follow_up)[0] == LOCRET and re.search(r"\d+x", follow_up.text)


def test_the_stream_hands_over_lines_then_the_answer(fast_assistant):
    stream = fast_assistant.ask_stream("Which papers merge several fine-tuned models into one multi-task model?")
    assert isinstance(stream, AnswerStream)
    lines = list(stream)
    assert len(lines) >= 2 and "".join(lines) == stream.answer.text
    with pytest.raises(QuestionError):
        fast_assistant.ask_stream("  ")


def test_the_llm_answer_is_verified_against_the_sources(fast_settings, fast_assistant):
    """A real HTTP round trip to a stub endpoint: the supported claim keeps its citation, the invented one is
    flagged, and a dead endpoint falls back to the extractive answer with a note."""
    with stub_llm_server() as llm:
        settings = fast_settings.model_copy(update={"answerer": "openai", "llm_base_url": llm["url"],
                                                    "llm_model": "stub", "llm_timeout_s": 2.0})
        assistant = Assistant(settings, encoder=fast_assistant.encoder)
        claim = "the automatically generated kernels can outperform general human-written code by a factor of up " \
                "to 179times in execution speeds"
        llm["reply"] = f"Meanwhile, {claim} [1]. The kernels also cure insomnia in cats [1]."
        answer = assistant.ask("How much faster than human-written code are the GPU kernels that LLMs generate?")
        assert answer.backend == "openai" and cited(answer) == [CUDA] and "179" in answer.text
        assert any("insomnia" in sentence for sentence in answer.unsupported)
        assert llm["requests"] and "CUDA" in str(llm["requests"][0]["body"]["messages"])
        # The support bar is a setting: at a similarity no paraphrase reaches, nothing generated is supported.
        strict = Assistant(settings.model_copy(update={"llm_support_threshold": 0.999}), encoder=assistant.encoder)
        unsupported = strict.ask("How much faster than human-written code are the GPU kernels that LLMs generate?")
        assert unsupported.backend == "extractive" and any("No sentence of the generated answer is supported" in n
                                                           for n in unsupported.notes)
        llm["mode"] = "http500"
        fallback = assistant.ask("How much faster than human-written code are the GPU kernels that LLMs generate?")
        assert fallback.backend == "extractive" and any("HTTP 500" in note for note in fallback.notes)


def test_the_chroma_internal_that_reloading_relies_on_is_still_there(fast_settings):
    """Reloading after another process's ingest drops embedded Chroma's cached view of the folder through a
    private registry (chroma-core/chroma#3792 has no public way): if an upgrade removes it, this fails."""
    from chromadb.api.shared_system_client import SharedSystemClient

    from rag.assistant import _forget_embedded_chroma
    from rag.index import index_location

    Assistant(fast_settings, encoder=HashedWords()).index  # opens the folder through a client
    assert index_location(fast_settings) in SharedSystemClient._identifier_to_system
    _forget_embedded_chroma(fast_settings)
    assert index_location(fast_settings) not in SharedSystemClient._identifier_to_system


def test_default_assistants_are_one_per_settings_and_keys_are_told_apart(fast_settings):
    from pydantic import SecretStr

    from rag.assistant import default_assistant

    assert default_assistant(fast_settings) is default_assistant(fast_settings.model_copy())
    with_key = fast_settings.model_copy(update={"llm_api_key": SecretStr("sk-one")})
    other_key = fast_settings.model_copy(update={"llm_api_key": SecretStr("sk-two")})
    assert default_assistant(with_key) is not default_assistant(other_key)


def test_a_list_question_is_searched_again_with_the_top_papers_telling_words(fast_assistant):
    index = fast_assistant.index
    question = "Which papers cut the memory of long-context LLM inference?"
    plain = index.search(question, k=5)
    expanded = index.search(question, k=5, expand=True)
    top = [c.paper.paper_id for c in plain[:index.settings.feedback_papers]]
    words = index.feedback_terms(question, top)
    # The words come from the top papers (Locret's and LServe's KV cache), none of them the question's own.
    assert {"kv", "cach"} <= set(words) and not set(words) & set(terms(question))
    # The papers the words came from keep their places; the scores still fall down the ranking.
    assert [c.paper.paper_id for c in expanded[:len(top)]] == top
    assert all(a.score >= b.score for a, b in zip(expanded, expanded[1:]))
    defended = "Which papers defend against attacks on language models?"
    assert [c.paper.paper_id for c in index.search(defended, k=5, expand=True)] != \
        [c.paper.paper_id for c in index.search(defended, k=5)]


def test_the_rag_command_starts_without_the_heavy_libraries():
    """`import rag` and `import rag.cli` load none of them (names are imported on first use), so that `rag ask`
    can set the collector aside before they load and `rag --help` needs none."""
    import subprocess
    import sys

    code = ("import sys, rag, rag.cli; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'chromadb', 'numpy', 'onnxruntime', 'pydantic', 'torch', 'httpx'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
