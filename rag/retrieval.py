"""Hybrid retrieval: BM25 over title + abstract and dense search, fused per paper.

BM25 and an exact scan of every paper's own vector (the paper table's `paper_matrix`) find the candidates; each
candidate's dense score is then the best similarity of the question to its paper vector or any of its sentence
vectors, read from the saved matrix of the paper table (`rag.vectors`). Chroma stores the records the
table is derived from; no ANN index is loaded to answer a question."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rag.allocator import reuse_freed_memory
from rag.config import RagSettings
from rag.corpus import Paper
from rag.embedding import Encoder
from rag.index import check_metadata, chroma_client, collection_metadata, open_collection, stored_table
from rag.names import in_title_words, mentions, mentions_form
from rag.table import DIGEST_KEY, title_lead
from rag.text import folded, terms
from rag.types import Filters, Source


# A name mentioned by more papers than this (and in the title of none or several) is a term, not a work's name.
GENERIC_MENTIONS = 3
GENERIC = "generic"
# This many papers nearest by their own vector are taken per paper wanted: their sentence vectors re-rank them.
NEAREST_PER_PAPER = 3
# A large table's projected scan keeps this many times the papers wanted for its exact re-scoring: at 100k papers
# it holds 99.98% of the exact scan's nearest (docs/BENCHMARKS.md, thirteenth pass).
SHORTLIST_PER_WANTED = 4
# Questions embedded at once on the threads beside the ones searching (`PaperIndex.embed_soon`).
EMBEDDING_THREADS = 4


@dataclass
class Candidate:
    paper: Paper
    score: float  # fused score
    dense: float  # best cosine similarity of the question to the paper's vector or any of its sentences'
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
    """A read view of the index: the Chroma collection plus the paper table derived from it."""

    def __init__(self, settings: RagSettings, encoder: Encoder | Future[Encoder] | None = None):
        """`encoder` embeds questions (`embed`): an encoder, or one still loading (a Future, so that the model
        loads while the view opens); a view used only with query vectors computed elsewhere needs none."""
        self.settings = settings
        self._encoder = encoder
        reuse_freed_memory()  # a serving process: each question's temporary arrays are reused, not mapped again
        # The embedded index's metadata is read without chromadb; Chroma itself is opened only where needed (a
        # server, a table to rebuild from its records): a question reads the saved paper table, not Chroma.
        metadata = collection_metadata(settings)
        if metadata is None:
            metadata = self.collection.metadata or {}  # checked as Chroma opened it
        else:
            check_metadata(metadata, settings.collection, settings)
        self.table = stored_table(settings, metadata, lambda: self.collection)

    @cached_property
    def client(self):
        """The Chroma client (created on first use: a server's digest check, or opening the collection)."""
        return chroma_client(self.settings)

    @cached_property
    def collection(self):
        """The Chroma collection (opened on first use; raises MissingIndexError when there is none)."""
        return open_collection(self.settings, client=self.client)

    @property
    def encoder(self) -> Encoder | None:
        if isinstance(self._encoder, Future):
            self._encoder = self._encoder.result()
        return self._encoder

    @property
    def papers(self) -> Mapping[str, Paper]:
        return self.table.papers

    @property
    def title_leads(self) -> Mapping[str, tuple[str, ...]]:
        return self.table.title_leads

    def __len__(self) -> int:
        return len(self.table.order)

    def stored_digest(self) -> str:
        """The collection's content digest as stored now (another process may have changed it)."""
        metadata = collection_metadata(self.settings)
        if metadata is None:
            metadata = self.client.get_collection(self.settings.collection).metadata or {}
        return metadata.get(DIGEST_KEY, "")

    def embed(self, text: str) -> np.ndarray:
        return self.encoder.encode([text])[0]

    @cached_property
    def _embedding_threads(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(EMBEDDING_THREADS, thread_name_prefix="rag-embed")

    def embed_soon(self, text: str) -> Future:
        """The text's embedding, computed on another thread while the caller goes on (BM25 needs none)."""
        return self._embedding_threads.submit(self.embed, text)

    def dense_scores(self, query_vector: np.ndarray, n_papers: int, filters: Filters) -> dict[str, float]:
        """The papers whose own vectors are nearest the question (a few times `n_papers`, so that a paper found
        by one sentence more than by its whole text still gets in), each scored over its paper and sentence
        vectors. Every admitted paper is scored (no ANN index to load): exactly, or in a large table on the paper
        vectors' projection first (`PaperTable.paper_projection`), the best of which are then scored exactly."""
        if not len(self):
            return {}
        admitted = self._within_bounds(filters)
        wanted = min(max(n_papers * NEAREST_PER_PAPER, 50), len(admitted))
        projection = self.table.paper_projection
        if projection is None:
            rows = None
            similarities = np.where(admitted, self.table.paper_matrix @ query_vector, -np.inf)
        else:
            basis, projected = projection
            coarse = np.where(admitted, projected @ (query_vector @ basis), -np.inf)
            kept = min(wanted * SHORTLIST_PER_WANTED, len(coarse))
            rows = np.argpartition(-coarse, kept - 1)[:kept]
            similarities = np.where(admitted[rows], self.table.paper_matrix[rows] @ query_vector, -np.inf)
        nearest = np.argpartition(-similarities, wanted - 1)[:wanted]
        nearest = nearest[similarities[nearest] > -np.inf]
        ids = {self.table.order[i] for i in (nearest if rows is None else rows[nearest]).tolist()}
        return self.dense_scores_within(query_vector, ids)

    def dense_scores_within(self, query_vector: np.ndarray, paper_ids: set[str]) -> dict[str, float]:
        """Best cosine similarity per paper (of those indexed) over its paper and sentence vectors."""
        return self.table.vectors.best_similarity(sorted(p for p in paper_ids if p in self.papers), query_vector)

    def bm25_scores(self, text: str, filters: Filters, limit: int | None = None) -> dict[str, float]:
        """BM25 score of every matching paper (or of the best `limit`), with the filters applied."""
        query_terms = terms(text)
        if not query_terms or not self.table.order:
            return {}
        scores = np.where(self._within_bounds(filters), self.table.bm25_scores(query_terms), 0.0)
        hits = np.flatnonzero(scores > 0)
        if limit is not None and len(hits) > limit:
            hits = hits[np.argpartition(-scores[hits], limit)[:limit]]
        return {self.table.order[i]: float(scores[i]) for i in hits}

    def search(self, text: str, *, k: int, filters: Filters | None = None,
               within: set[str] | None = None, query_vector: np.ndarray | Future | None = None,
               expand: bool = False) -> list[Candidate]:
        """The k best papers by reciprocal-rank fusion of dense and BM25 rankings; `expand` adds the top papers'
        telling words to the BM25 query (for a question whose answer spans several papers)."""
        filters = filters or Filters()
        pool = k * self.settings.candidate_multiplier
        # The question is embedded while BM25 scores it: at 100k papers 0.8 ms of a 16 ms search.
        pending = self.embed_soon(text) if query_vector is None else query_vector
        if filters.author:  # names are not in Chroma's metadata: the papers they admit are searched within
            authored = {pid for pid, paper in self.papers.items() if filters.admits_author(paper)}
            within = authored if within is None else within & authored
        if within is None:
            lexical = self.bm25_scores(text, filters, limit=pool)
            vector = _ready(pending)
            # Every candidate of either retriever is scored densely, so the dense ranking is over all of them.
            dense = self.dense_scores(vector, pool, filters)
            dense |= self.dense_scores_within(vector, set(lexical) - set(dense))
        else:
            vector = _ready(pending)
            dense = self.dense_scores_within(vector, within)
            lexical = {p: s for p, s in self.bm25_scores(text, filters).items() if p in within}
        fused = self._fuse(self._dense_ranking(dense, vector), lexical, pool)
        if expand and within is None and self.settings.feedback_terms:
            # A list question's other qualifying papers share the words of the ones found first, not only the
            # question's: the top papers' most telling words, weighted down, join the BM25 query (pseudo-relevance
            # feedback).
            top = sorted(fused, key=lambda p: (-fused[p], p))[:self.settings.feedback_papers]
            extra = self.feedback_terms(text, top)
            added = self.bm25_scores(" ".join(extra), filters, limit=pool)
            weight = self.settings.feedback_weight
            lexical = {p: lexical.get(p, 0.0) + weight * added.get(p, 0.0) for p in set(lexical) | set(added)}
            dense |= self.dense_scores_within(vector, set(lexical) - set(dense))
            # The papers the feedback came from keep their places; the expanded query ranks the rest.
            expanded = self._fuse(self._dense_ranking(dense, vector), lexical, pool)
            rest = sorted((p for p in expanded if p not in top), key=lambda p: (-expanded[p], p))
            floor = fused[top[-1]] if top else 0.0
            fused = {p: fused[p] for p in top} | {p: min(expanded[p], floor) for p in rest}
            ranked = (top + rest)[:k]
        else:
            ranked = sorted(fused, key=lambda p: (-fused[p], p))[:k]
        return [Candidate(self.papers[p], fused[p], dense.get(p, 0.0), lexical.get(p, 0.0)) for p in ranked]

    def feedback_terms(self, text: str, paper_ids: list[str]) -> list[str]:
        """The words that most distinguish these papers (term frequency times idf), other than the text's own."""
        asked = set(terms(text))
        weights: Counter[str] = Counter()
        for pid in paper_ids:
            counts = Counter(terms(f"{self.papers[pid].title} {self.papers[pid].abstract}"))
            length = counts.total()
            for term in counts.keys() - asked:
                weights[term] += counts[term] / length * self.table.idf.get(term, 0.0)
        return sorted(weights, key=lambda t: (-weights[t], t))[:self.settings.feedback_terms]

    def _dense_ranking(self, dense: dict[str, float], vector: np.ndarray) -> dict[str, float]:
        """What the dense side ranks papers by: their best paper-or-sentence similarity (`dense`), blended with
        their whole-paper vector's. A paper is ranked on what it is about as a whole, not on one sentence."""
        share = self.settings.paper_vector_share
        if not share:
            return dense
        whole = self.table.vectors.paper_similarity(list(dense), vector)
        return {p: (1 - share) * best + share * whole.get(p, best) for p, best in dense.items()}

    def _fuse(self, dense: dict[str, float], lexical: dict[str, float], pool: int) -> dict[str, float]:
        fused: dict[str, float] = {}
        for weight, scores in ((self.settings.dense_weight, dense), (self.settings.bm25_weight, lexical)):
            for rank, pid in enumerate(sorted(scores, key=scores.get, reverse=True)[:pool], start=1):
                fused[pid] = fused.get(pid, 0.0) + weight / (self.settings.rrf_k + rank)
        return fused

    def find_named(self, name: str, ranked: list[Candidate], vector: np.ndarray) -> Candidate | str | None:
        """The paper a work's name points to: among the few papers that mention the name (a retrieved one
        first), the one whose title names it, else the one whose abstract does. When many papers mention it,
        only a paper whose title leads with it ("LServe: …"); otherwise `GENERIC` (LLM, GPT-4o: a term, not
        one work's name). None when no paper mentions it."""
        lexical = self.bm25_scores(name, Filters(), limit=GENERIC_MENTIONS * 4)
        retrieved = {c.paper.paper_id: c for c in ranked}
        # "Agent Q": BM25 on "agent" alone may rank the paper titled "Agent Q: …" far down; its title finds it.
        led = self.table.title_leads.get(folded(name).lower().strip("!"), ())
        ordered = list(dict.fromkeys([*retrieved, *led, *sorted(lexical, key=lambda p: -lexical[p])]))
        mentioning = [p for p in ordered if mentions(name, f"{self.papers[p].title}\n{self.papers[p].abstract}")]

        def candidate(pid: str) -> Candidate:
            if pid in retrieved:
                return retrieved[pid]
            return Candidate(self.papers[pid], 0.0, self.dense_scores_within(vector, {pid}).get(pid, 0.0),
                             lexical.get(pid, 0.0))

        if not mentioning:
            # "Secrets of RLHF Part I": the name's words in order in one title, with its other words between.
            titled = [p for p in ordered if in_title_words(name, self.papers[p].title)]
            if len(titled) == 1:
                return candidate(titled[0])
            # "InfoPower": the name the capitals of "INFOrmation Prioritization through EmPOWERment" spell (among
            # the papers the question retrieves: the rest of its words find the paper).
            spelled = [p for p in ordered if folded(name).lower() in title_acronyms(self.papers[p].title)]
            if len(spelled) == 1:
                return candidate(spelled[0])
            # "The Meta AI study …": an organisation its listing names (read for the retrieved papers only).
            listed = [c for c in ranked if c.paper.org and mentions(name, c.paper.org)]
            return listed[0] if listed else None
        titled = [p for p in mentioning if mentions(name, self.papers[p].title)]
        if len(mentioning) > GENERIC_MENTIONS:
            # A name many papers use belongs only to the paper that introduces it: "DPO: …", not "Unpacking DPO".
            titled = [p for p in titled if title_lead(self.papers[p].title) == folded(name).lower().strip("!")]
            if len(titled) != 1:
                return GENERIC
        return candidate((titled or mentioning)[0])

    def _within_bounds(self, filters: Filters) -> np.ndarray:
        """Per paper (in table order), whether it meets the filters' numeric bounds."""
        admitted = np.ones(len(self.table.order), dtype=bool)
        for key, op, bound in filters.bounds():
            values = self.table.numbers[key]  # NaN where unknown: no bound admits it
            admitted &= values >= bound if op == "$gte" else values <= bound
        return admitted

    def ranked_by(self, column: str, filters: Filters, lowest: bool, n: int) -> tuple[list[Candidate], int, int]:
        """The `n` admitted papers with the highest (or lowest) value in a listing column (`PaperTable.numbers`:
        upvotes, authors, date_number), how many admitted papers have a value at all, and how many share the
        best one."""
        values = self.table.numbers[column]
        rows = np.flatnonzero(self._admitted(filters) & ~np.isnan(values))
        if not len(rows):
            return [], 0, 0
        # Ties keep the table's order, so the same question always names the same papers.
        rows = rows[np.argsort(values[rows] if lowest else -values[rows], kind="stable")]
        tied = int((values[rows] == values[rows[0]]).sum())
        return ([Candidate(self.papers[self.table.order[i]], 0.0, 0.0, 0.0) for i in rows[:n].tolist()], len(rows),
                tied)

    def count_matching(self, filters: Filters) -> int:
        """How many indexed papers the filters admit."""
        return int(self._admitted(filters).sum())

    def _admitted(self, filters: Filters) -> np.ndarray:
        """Per paper (in table order), whether the filters admit it: its numeric bounds and its author."""
        admitted = self._within_bounds(filters)
        if filters.author:
            admitted &= np.array([filters.admits_author(self.papers[p]) for p in self.table.order], dtype=bool)
        return admitted

    def mentioning(self, name: str, vector: np.ndarray, filters: Filters, limit: int) -> list[Candidate]:
        """Papers that mention the name (at most `limit`, most BM25-relevant to it first), within the filters."""
        lexical = self.bm25_scores(name, filters, limit=limit * 4)
        ids = [p for p in sorted(lexical, key=lambda p: -lexical[p])
               if mentions_form(name, f"{self.papers[p].title}\n{self.papers[p].abstract}")
               and filters.admits_author(self.papers[p])][:limit]
        dense = self.dense_scores_within(vector, set(ids))
        return [Candidate(self.papers[p], 0.0, dense.get(p, 0.0), lexical[p]) for p in ids]

    def sentences_of(self, paper_ids: list[str], query_vector: np.ndarray | None = None) -> list[SentenceHit]:
        """Every abstract sentence of these papers, its stored vector, and its similarity to the question.
        Read from the paper table's vectors, derived from the same records as its papers, so a half-replaced
        paper is never mixed in."""
        hits = []
        for pid in paper_ids:
            if pid not in self.papers:
                continue
            spans, vectors = self.table.vectors.sentences(pid)
            similarities = vectors @ query_vector if query_vector is not None else np.zeros(len(vectors))
            abstract = self.papers[pid].abstract
            hits += [SentenceHit(pid, number, start, end, abstract[start:end], float(similarity), vector)
                     for number, ((start, end), similarity, vector)
                     in enumerate(zip(spans.tolist(), similarities, vectors))]
        return hits


def title_acronyms(title: str) -> set[str]:
    """What consecutive runs of two or more capitals in the title spell, lower-cased, when two runs or more
    join into five letters or more: {"infopower", "powerrl", "infopowerrl"} for "INFOrmation Prioritization
    through EmPOWERment in Visual Model-Based RL"."""
    runs = re.findall(r"[A-Z]{2,}", folded(title))
    return {"".join(runs[i:j]).lower() for i in range(len(runs)) for j in range(i + 2, len(runs) + 1)
            if len("".join(runs[i:j])) >= 5}


def _ready(vector: np.ndarray | Future) -> np.ndarray:
    return vector.result() if isinstance(vector, Future) else vector


def to_sources(candidates: list[Candidate]) -> list[Source]:
    return [Source.from_paper(c.paper, c.score) for c in candidates]
