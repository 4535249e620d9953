"""Reference systems scored beside ours by `rag eval --baselines` (and timed by the benchmark)."""

from __future__ import annotations

from rag.config import RagSettings
from rag.corpus import Paper
from rag.query import Question
from rag.types import Answer, Citation


class LlamaIndexQuickstart:
    """LlamaIndex's quickstart: VectorStoreIndex over the papers with the default SentenceSplitter, the same
    embedding model and an in-memory Chroma, top-k retrieval. Settings are passed explicitly, never globally."""

    def __init__(self, settings: RagSettings, papers: list[Paper]):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from rag.embedding import model_path

        self.embed_model = HuggingFaceEmbedding(model_name=str(model_path(settings)), device="cpu")
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("llamaindex_quickstart", embedding_function=None)
        store = ChromaVectorStore(chroma_collection=collection)
        documents = [Document(text=f"{p.title}\n{p.abstract}", metadata={"paper_id": p.paper_id},
                              excluded_embed_metadata_keys=["paper_id"]) for p in papers]
        self.index = VectorStoreIndex.from_documents(
            documents, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=self.embed_model,
        )

    def retrieve(self, text: str, k: int) -> list[str]:
        retriever = self.index.as_retriever(similarity_top_k=k * 3, embed_model=self.embed_model)
        return ranked_papers(retriever.retrieve(text))[:k]


def ranked_papers(nodes: list) -> list[str]:
    """The paper ids of LlamaIndex's retrieved nodes (each carries its paper's id), best first, each once."""
    return list(dict.fromkeys(node.node.metadata["paper_id"] for node in nodes))


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
