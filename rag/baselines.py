"""Reference systems scored beside ours by `rag eval --baselines` and timed by `benchmarks/bench.py`."""

from __future__ import annotations

from collections.abc import Callable

from rag.config import RagSettings
from rag.corpus import Paper
from rag.errors import RagError
from rag.query import Question
from rag.types import Answer, Citation


def quickstart_embedding(settings: RagSettings):
    """The configured embedding model as LlamaIndex loads it (on the CPU, from the same local folder)."""
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    except ImportError as exc:
        raise RagError("The LlamaIndex baseline needs the bench extra: `pip install -e '.[bench]'`.") from exc

    from rag.embedding import model_path

    return HuggingFaceEmbedding(model_name=str(model_path(settings)), device="cpu")


def build_quickstart(papers: list[Paper], collection, embed_model,
                     cached_vector: Callable[[str], list[float] | None] | None = None):
    """LlamaIndex's quickstart over the papers: title + abstract as `Document`s (the paper id as metadata, kept
    out of the embedded text), its default `SentenceSplitter`, a `VectorStoreIndex` into `collection` (a Chroma
    collection). `cached_vector(text)` may give a node its vector (the benchmark's synthetic sizes, whose
    vectors are cached); the others are embedded by `embed_model`. Settings are passed, never set globally."""
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    documents = [Document(text=f"{p.title}\n{p.abstract}", metadata={"paper_id": p.paper_id},
                          excluded_embed_metadata_keys=["paper_id"], excluded_llm_metadata_keys=["paper_id"])
                 for p in papers]
    nodes = SentenceSplitter().get_nodes_from_documents(documents)
    if cached_vector is not None:
        for node in nodes:
            node.embedding = cached_vector(node.get_content())
    store = ChromaVectorStore(chroma_collection=collection)
    return VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                            embed_model=embed_model)


def open_quickstart(collection, embed_model):
    """A quickstart index built earlier into `collection`."""
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    return VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection), embed_model=embed_model)


def ranked_papers(nodes: list) -> list[str]:
    """The paper ids of LlamaIndex's retrieved nodes (each carries its paper's id), best first, each once."""
    return list(dict.fromkeys(node.node.metadata["paper_id"] for node in nodes))


class LlamaIndexQuickstart:
    """The quickstart (`build_quickstart`) over the papers in an in-memory Chroma, top-k retrieval."""

    def __init__(self, settings: RagSettings, papers: list[Paper]):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.embed_model = quickstart_embedding(settings)
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("llamaindex_quickstart", embedding_function=None)
        self.index = build_quickstart(papers, collection, self.embed_model)

    def retrieve(self, text: str, k: int) -> list[str]:
        retriever = self.index.as_retriever(similarity_top_k=k * 3, embed_model=self.embed_model)
        return ranked_papers(retriever.retrieve(text))[:k]


def top_sentences_answer(assistant, question: Question, n_papers: int = 3, n_sentences: int = 2) -> Answer:
    """The 2 sentences most similar to the question from the top-3 abstracts, each cited; never abstains."""
    index = assistant.index
    vector = index.embed(question.search_text)
    candidates = index.search(question.search_text, k=n_papers, query_vector=vector)
    hits = index.sentences_of([c.paper.paper_id for c in candidates], vector)
    best = sorted(hits, key=lambda h: -h.similarity)[:n_sentences]
    citations: list[Citation] = []
    parts = []
    for hit in best:
        paper = index.papers[hit.paper_id]
        number = next((c.number for c in citations if c.paper_id == hit.paper_id), None)
        if number is None:
            number = len(citations) + 1
            citations.append(Citation(number, paper.paper_id, paper.title, paper.url, hit.text))
        parts.append(f"{hit.text} [{number}]")
    return Answer(question=question.text, text=" ".join(parts), citations=citations, sources=[],
                  abstained=False, backend="baseline-top2")
