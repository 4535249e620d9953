"""LlamaIndex adapters: our hybrid retrieval as a retriever, our verified, cited answers as a query engine.

    from llama_index.core.query_engine import RetrieverQueryEngine
    from rag.integrations.llamaindex import PapersQueryEngine, PapersRetriever

    nodes = PapersRetriever(k=5).retrieve("How much faster are LLM-written CUDA kernels?")  # one node per paper
    response = PapersQueryEngine().query("How much faster are LLM-written CUDA kernels?")  # our cited answer
    engine = RetrieverQueryEngine.from_args(PapersRetriever(k=5), llm=your_llm)  # or any LLM writes it

Nothing here reads or sets LlamaIndex's global `Settings`: the assistant (index, encoder, answerer) is passed
in or built from our own settings.
"""

from __future__ import annotations

from dataclasses import asdict

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.assistant import Assistant
from rag.config import RagSettings, load_settings
from rag.corpus import Paper
from rag.types import Answer, Filters

# Metadata an LLM or an embedding model should not read: the title is already the node's first line, the id
# and the quotes (a copy of the answer's evidence) are for the caller.
HIDDEN_METADATA = ["paper_id", "title", "quotes"]


def paper_node(paper: Paper, score: float | None, **extra_metadata: object) -> NodeWithScore:
    """A paper as one node: title and abstract as its text, the paper's id as the node's. Every node has the
    same metadata keys; an unknown date, upvote count or author count is None."""
    metadata = {"paper_id": paper.paper_id, "title": paper.title, "url": paper.url, "date": paper.date,
                "upvotes": paper.upvotes, "authors": paper.authors, "arxiv_url": paper.arxiv_url, **extra_metadata}
    node = TextNode(id_=paper.paper_id, text=f"{paper.title}\n{paper.abstract}", metadata=metadata,
                    excluded_llm_metadata_keys=HIDDEN_METADATA, excluded_embed_metadata_keys=HIDDEN_METADATA)
    return NodeWithScore(node=node, score=score)


def cited_nodes(answer: Answer, papers: dict[str, Paper]) -> list[NodeWithScore]:
    """One node per cited paper, in order of first citation, with its quotes; scored by retrieval where the
    paper was retrieved (a paper the question names can be cited without being among the top k)."""
    quotes: dict[str, list[dict]] = {}
    for citation in sorted(answer.citations, key=lambda c: c.number):
        quotes.setdefault(citation.paper_id, []).append(
            {"number": citation.number, "quote": citation.quote, "field": citation.field})
    scores = {source.paper_id: source.score for source in answer.sources}
    return [paper_node(papers[paper_id], scores.get(paper_id), quotes=paper_quotes)
            for paper_id, paper_quotes in quotes.items()]


class PapersRetriever(BaseRetriever):
    """Hybrid (BM25 + dense) retrieval over the indexed papers: one node per paper, best first, scored by the
    fused retrieval score. A given `assistant` is used as is (its settings win over `settings`)."""

    def __init__(self, settings: RagSettings | None = None, *, k: int = 10, filters: Filters | None = None,
                 assistant: Assistant | None = None) -> None:
        super().__init__()
        self.assistant = assistant or Assistant(settings or load_settings())
        self.k = k
        self.filters = filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        sources = self.assistant.retrieve(query_bundle.query_str, k=self.k, filters=self.filters)
        papers = self.assistant.index.papers
        return [paper_node(papers[source.paper_id], source.score) for source in sources]


class PapersQueryEngine(CustomQueryEngine):
    """`Assistant.ask` as a query engine: the response is our verified, cited answer text; the source nodes are
    the cited papers, each with its quotes (`metadata["quotes"]`: number, quote, field); the response metadata
    holds `abstained`, `notes` and `citations`. `k` None: the settings' top_k. A given `assistant` is used as
    is (its settings win over `settings`)."""

    assistant: Assistant
    k: int | None = None
    filters: Filters | None = None

    def __init__(self, settings: RagSettings | None = None, *, k: int | None = None, filters: Filters | None = None,
                 assistant: Assistant | None = None) -> None:
        super().__init__(assistant=assistant or Assistant(settings or load_settings()), k=k, filters=filters)

    def custom_query(self, query_str: str) -> Response:
        answer = self.assistant.ask(query_str, k=self.k, filters=self.filters)
        return Response(response=answer.text, source_nodes=cited_nodes(answer, self.assistant.index.papers),
                        metadata={"abstained": answer.abstained, "notes": list(answer.notes),
                                  "citations": [asdict(citation) for citation in answer.citations]})
