"""Hybrid retrieval: BM25 over title + abstract and dense search over Chroma, fused per paper."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from rag.config import RagSettings
from rag.corpus import Paper
from rag.index import open_collection, paper_records_stored, sentence_ids
from rag.text import sentence_spans, terms
from rag.types import Filters, Source

WORD = re.compile(r"[\w^*]+")


@dataclass
class Candidate:
    paper: Paper
    score: float  # fused score
    dense: float  # best cosine similarity of the question to any record of the paper
    bm25: float


@dataclass
class SentenceHit:
    paper_id: str
    number: int
    start: int
    end: int
    text: str
    similarity: float
    vector: np.ndarray


class PaperIndex:
    """A read view of the index: the Chroma collection plus the paper table and BM25 derived from it."""

    def __init__(self, settings: RagSettings, encoder=None):
        import bm25s

        self.settings = settings
        self.encoder = encoder  # set by the owner when it finishes loading
        self.collection = open_collection(settings)
        records = paper_records_stored(self.collection, ["documents"])["documents"]
        papers = [Paper.from_dict(json.loads(document)) for document in records]
        # Two copies of a paper can coexist for a moment during an update; either is a whole paper.
        self.papers: dict[str, Paper] = {p.paper_id: p for p in papers}
        self.order = list(self.papers)
        self.bm25 = bm25s.BM25()
        paper_terms = [terms(f"{p.title} {p.abstract}") for p in self.papers.values()]
        if self.order:
            # The title counts twice: it names what the paper is about.
            title_terms = [terms(p.title) for p in self.papers.values()]
            self.bm25.index([t + a for t, a in zip(title_terms, paper_terms)], show_progress=False)
        self.numbers = {key: np.array([np.nan if v is None else v for v in values], dtype=np.float64) for key, values in
                        (("date_number", [p.date_number for p in self.papers.values()]),
                         ("upvotes", [p.upvotes for p in self.papers.values()]),
                         ("authors", [p.authors for p in self.papers.values()]))}
        document_frequency = Counter(term for words in paper_terms for term in set(words))
        self.idf = {t: math.log(1 + len(self.order) / df) for t, df in document_frequency.items()}
        self.vocabulary = {w for p in self.papers.values() for w in WORD.findall(f"{p.title} {p.abstract}".lower())}

    def __len__(self) -> int:
        return len(self.order)

    def embed(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    def dense_scores(self, query_vector: np.ndarray, n_papers: int, filters: Filters) -> dict[str, float]:
        """Best cosine similarity per paper over its whole-paper and sentence records."""
        # About ten records per paper: ask for enough to cover n_papers distinct papers.
        n_results = min(max(n_papers * 10, 50), self.collection.count())
        if n_results == 0:
            return {}
        result = self.collection.query(
            query_embeddings=[query_vector.tolist()], n_results=n_results, where=filters.chroma_where(),
            include=["metadatas", "distances"],
        )
        scores: dict[str, float] = {}
        for meta, distance in zip(result["metadatas"][0], result["distances"][0]):
            pid = meta["paper_id"]
            if pid in self.papers:
                scores[pid] = max(scores.get(pid, -1.0), 1.0 - distance)
        return scores

    def bm25_scores(self, text: str, filters: Filters, limit: int | None = None) -> dict[str, float]:
        """BM25 score of every matching paper (or of the best `limit`), with the filters applied."""
        query_terms = terms(text)
        if not query_terms or not self.order:
            return {}
        scores = self.bm25.get_scores(query_terms)
        for key, op, bound in filters.bounds():
            values = self.numbers[key]  # NaN where unknown: no bound matches it
            scores = np.where(values >= bound if op == "$gte" else values <= bound, scores, 0.0)
        hits = np.flatnonzero(scores > 0)
        if limit is not None and len(hits) > limit:
            hits = hits[np.argpartition(-scores[hits], limit)[:limit]]
        return {self.order[i]: float(scores[i]) for i in hits}

    def search(self, text: str, *, k: int, filters: Filters | None = None,
               within: set[str] | None = None, query_vector: np.ndarray | None = None) -> list[Candidate]:
        filters = filters or Filters()
        pool = k * self.settings.candidate_multiplier
        vector = self.embed(text) if query_vector is None else query_vector
        dense = self.dense_scores(vector, pool if within is None else len(self.order), filters)
        lexical = self.bm25_scores(text, filters, limit=None if within is not None else pool)
        if within is not None:
            dense = {p: s for p, s in dense.items() if p in within}
            lexical = {p: s for p, s in lexical.items() if p in within}
        fused: dict[str, float] = {}
        for weight, scores in ((self.settings.dense_weight, dense), (self.settings.bm25_weight, lexical)):
            for rank, pid in enumerate(sorted(scores, key=scores.get, reverse=True)[:pool], start=1):
                fused[pid] = fused.get(pid, 0.0) + weight / (self.settings.rrf_k + rank)
        ranked = sorted(fused, key=lambda p: (-fused[p], p))[:k]
        return [Candidate(self.papers[p], fused[p], dense.get(p, 0.0), lexical.get(p, 0.0)) for p in ranked]

    def sentences_of(self, paper_ids: list[str], query_vector: np.ndarray | None = None) -> list[SentenceHit]:
        """Every abstract sentence of these papers, its stored vector, and its similarity to the question.
        Fetched by id for the version in the paper table, so a half-replaced paper is never mixed in."""
        ids = [i for pid in paper_ids if pid in self.papers for i in
               sentence_ids(self.papers[pid], len(sentence_spans(self.papers[pid].abstract)))]
        if not ids:
            return []
        result = self.collection.get(ids=ids, include=["metadatas", "embeddings", "documents"])
        if not result["ids"]:
            return []
        vectors = np.asarray(result["embeddings"], dtype=np.float32)
        similarities = vectors @ query_vector if query_vector is not None else np.zeros(len(vectors))
        return [SentenceHit(meta["paper_id"], meta["sentence"], meta["start"], meta["end"], text, float(similarity),
                            vector)
                for meta, text, similarity, vector in zip(result["metadatas"], result["documents"], similarities,
                                                          vectors)]


def to_sources(candidates: list[Candidate]) -> list[Source]:
    return [Source.from_paper(c.paper, c.score) for c in candidates]
