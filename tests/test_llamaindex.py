"""The LlamaIndex adapters (rag.integrations.llamaindex) over the real index: our retriever inside LlamaIndex's
own query engines (with MockLLM, and with the real llama.cpp server for CitationQueryEngine), and our query
engine against `Assistant.ask`."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict

import pytest
from helpers import llama_server
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import CitationQueryEngine, RetrieverQueryEngine

from rag.integrations.llamaindex import PapersQueryEngine, PapersRetriever
from rag.llm_server import MODEL_ALIAS
from rag.types import Filters

CUDA_QUESTION = "How much faster are LLM-written CUDA kernels?"
ANSWERED_QUESTION = "How much faster than human-written code are the GPU kernels that LLMs generate?"
CUDA_TITLE = "CUDA-LLM: LLMs Can Write Efficient CUDA Kernels"
JANUS_QUESTION = "How many prompts was Janus tested on?"
JANUS_TITLE = "Aligning to Thousands of Preferences via System Message Generalization"  # dated 2024-05-28
# CUDA-LLM's page gives no year, so this bound leaves it out (with every other undated paper).
SINCE = "2024-01-01"
METADATA_KEYS = {"paper_id", "title", "url", "date", "upvotes", "authors", "arxiv_url"}


def within_bound(node) -> bool:
    return (node.node.metadata["date"] or "") >= SINCE  # a year-less "--MM-DD" or None sorts before any year


def test_the_library_and_the_cli_do_not_import_llama_index():
    # `rag ask` starts in a fraction of a second; LlamaIndex costs seconds to import and is loaded only on use.
    code = "import sys, rag, rag.cli; print(sorted(m for m in sys.modules if m.startswith('llama_index')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_retriever_gives_one_node_per_paper_scored_by_our_retrieval(assistant):
    nodes = PapersRetriever(assistant=assistant, k=5).retrieve(CUDA_QUESTION)
    sources = assistant.retrieve(CUDA_QUESTION, k=5)
    assert [n.node.node_id for n in nodes] == [s.paper_id for s in sources]
    assert [n.score for n in nodes] == [s.score for s in sources]
    top = nodes[0].node
    paper = assistant.index.papers[top.node_id]
    assert top.get_content() == f"{CUDA_TITLE}\n{paper.abstract}"
    assert top.metadata == {"paper_id": paper.paper_id, "title": CUDA_TITLE, "url": paper.url, "date": paper.date,
                            "upvotes": paper.upvotes, "authors": paper.authors, "arxiv_url": paper.arxiv_url}
    assert all(set(n.node.metadata) == METADATA_KEYS for n in nodes)


@pytest.mark.slow
def test_retriever_applies_filters(assistant):
    unfiltered = PapersRetriever(assistant=assistant, k=10).retrieve(CUDA_QUESTION)
    filtered = PapersRetriever(assistant=assistant, k=10, filters=Filters(date_from=SINCE)).retrieve(CUDA_QUESTION)
    assert not all(within_bound(n) for n in unfiltered)  # the bound has papers to leave out
    assert filtered and all(within_bound(n) for n in filtered)


@pytest.mark.slow
def test_retriever_query_engine_reads_our_papers(assistant):
    retriever = PapersRetriever(assistant=assistant, k=3)
    response = RetrieverQueryEngine.from_args(retriever, llm=MockLLM()).query(CUDA_QUESTION)
    retrieved = [s.paper_id for s in assistant.retrieve(CUDA_QUESTION, k=3)]
    assert [n.node.node_id for n in response.source_nodes] == retrieved
    # MockLLM answers with its prompt: the papers reached the LLM with their readable metadata, not their ids.
    assert CUDA_TITLE in response.response and "url: https://" in response.response
    assert "paper_id:" not in response.response


@pytest.mark.slow
def test_citation_query_engine_with_the_real_llm_cites_our_papers(assistant):
    openai_like = pytest.importorskip("llama_index.llms.openai_like",
                                      reason="needs `pip install llama-index-llms-openai-like`")
    retriever = PapersRetriever(assistant=assistant, k=3)
    retrieved = {n.node.node_id for n in retriever.retrieve(CUDA_QUESTION)}
    with llama_server() as (_, base_url):
        # context_window below the server's 4096 tokens: LlamaIndex counts with a different tokenizer.
        llm = openai_like.OpenAILike(model=MODEL_ALIAS, api_base=base_url, api_key="unused", is_chat_model=True,
                                     context_window=3000, max_tokens=64, timeout=120)
        response = CitationQueryEngine(retriever=retriever, llm=llm).query(CUDA_QUESTION)
    assert response.response.strip()
    # The engine re-chunks each paper into numbered sources: every chunk keeps its paper's metadata.
    assert {n.node.metadata["paper_id"] for n in response.source_nodes} == retrieved
    assert [n.node.get_content().split("\n")[0] for n in response.source_nodes] == [
        f"Source {number}:" for number in range(1, len(response.source_nodes) + 1)]


@pytest.mark.slow
def test_query_engine_gives_our_cited_answer(assistant):
    response = PapersQueryEngine(assistant=assistant).query(ANSWERED_QUESTION)
    answer = assistant.ask(ANSWERED_QUESTION)
    assert response.response == answer.text
    assert response.metadata["abstained"] is False and response.metadata["notes"] == answer.notes
    citations = sorted(answer.citations, key=lambda c: c.number)
    assert response.metadata["citations"] == [asdict(c) for c in answer.citations]
    cited = list(dict.fromkeys(c.paper_id for c in citations))
    assert cited and [n.node.node_id for n in response.source_nodes] == cited
    assert CUDA_TITLE in [n.node.metadata["title"] for n in response.source_nodes]
    quotes = [(n.node.node_id, q["number"], q["quote"])
              for n in response.source_nodes for q in n.node.metadata["quotes"]]
    assert sorted(quotes, key=lambda q: q[1]) == [(c.paper_id, c.number, c.quote) for c in citations]


@pytest.mark.slow
def test_query_engine_applies_filters(assistant):
    since = PapersQueryEngine(assistant=assistant, filters=Filters(date_from=SINCE)).query(JANUS_QUESTION)
    before = PapersQueryEngine(assistant=assistant, filters=Filters(date_to="2023-12-31")).query(JANUS_QUESTION)
    assert [n.node.metadata["title"] for n in since.source_nodes] == [JANUS_TITLE]
    # Before 2024 Janus is filtered out: the engine says the papers do not answer, and cites nothing newer.
    assert before.metadata["abstained"] and before.source_nodes == []
    assert JANUS_TITLE not in str(before)


@pytest.mark.slow
def test_query_engine_abstains_without_sources(assistant):
    response = PapersQueryEngine(assistant=assistant).query("What is a good recipe for carbonara?")
    assert response.metadata["abstained"] is True
    assert response.source_nodes == [] and response.metadata["citations"] == []
    assert response.response.strip()
