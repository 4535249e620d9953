"""`ask` and `retrieve`: question in, cited answer out. Everything is passed explicitly; the only state is
the loaded index, cached per settings and reloaded when the index changes underneath."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx
import numpy as np

from rag import extractive, generative
from rag import names as names_of
from rag.config import RagSettings, load_settings
from rag.embedding import Encoder, query_encoder
from rag.index import ChromaUnavailableError, index_location
from rag.query import Question, analyse
from rag.retrieval import Candidate, PaperIndex, to_sources
from rag.text import folded
from rag.types import Answer, AnswerStream, Filters, Source, Turn

# The extractive answerer reads sentences from this many of the top papers.
ANSWER_PAPERS = 6
# A list question with a condition ("… on ALFWorld") also reads up to this many papers that mention it.
CONDITION_PAPERS = 12
# How much of a previous answer is searched for the names of its papers.
PREVIOUS_ANSWER_CHARS = 600


@dataclass
class Retrieved:
    candidates: list[Candidate]  # the ranked papers
    vector: np.ndarray  # the search text's embedding (with the history for a follow-up)
    answer_vector: np.ndarray  # the user's own words' embedding, what the answer is scored against
    previous: list[Candidate] | None  # the papers the previous answer named, for a follow-up about them
    filters: Filters  # the filters searched with: the caller's, over those read from the question


class Assistant:
    def __init__(self, settings: RagSettings | None = None, *, encoder: Encoder | None = None):
        """`encoder` embeds questions; without one it is built from the settings when the index first loads
        (pass another assistant's `encoder` to share a loaded model)."""
        self.settings = settings or load_settings()
        self._lock = threading.Lock()
        self._index: PaperIndex | None = None
        self._stale = False  # set when a search failed on a view that another process's writes invalidated
        self._encoder = encoder

    @property
    def encoder(self) -> Encoder:
        """The question encoder (loads the index, and the encoder with it, when not loaded yet)."""
        return self.index.encoder

    @contextmanager
    def _chroma_errors(self):
        """A Chroma server that went away is an error the user can act on; the next question reconnects."""
        try:
            yield
        except httpx.HTTPError as exc:
            self._index = None
            raise ChromaUnavailableError(
                f"Lost the connection to the Chroma server at {index_location(self.settings)} "
                f"({type(exc).__name__}). Check that `chroma run` is up; the next question reconnects."
            ) from exc

    def _changed_underneath(self) -> bool:
        """True when an ingest has completed since the view was loaded (its content digest differs). While an
        ingest is still writing (no digest) the loaded view keeps answering."""
        if self._index is None or self._stale:
            return True
        try:
            stored = self._index.stored_digest()
        except Exception:  # the collection is gone (`rag ingest --rebuild`): reopening says what happened
            return True
        return bool(stored) and stored != self._index.table.digest

    @property
    def index(self) -> PaperIndex:
        """The loaded index, reloaded when another process has changed the collection."""
        with self._lock, self._chroma_errors():
            if self._changed_underneath():
                if self._index is not None:
                    _forget_embedded_chroma(self.settings)
                with ThreadPoolExecutor(1) as pool:
                    # The encoder loads on the second core while Chroma opens: most of a cold start.
                    encoder = pool.submit(query_encoder, self.settings) if self._encoder is None else None
                    index = PaperIndex(self.settings)
                    self._encoder = encoder.result() if encoder else self._encoder
                index.encoder = self._encoder
                self._index, self._stale = index, False
            return self._index

    def _candidates(self, question: Question, k: int, filters: Filters | None) -> Retrieved:
        try:
            return self._search(question, k, filters)
        except Exception:
            if self.settings.chroma_url:
                raise
            # Embedded Chroma's in-memory view can go stale under another process's writes (an ingest running
            # while the app answers: "Error finding id", or records without metadata). Reload through a fresh
            # view and try once more; a real error fails again and is raised.
            with self._lock:
                self._stale = True
            return self._search(question, k, filters)

    def _search(self, question: Question, k: int, filters: Filters | None) -> Retrieved:
        index = self.index
        active = (filters or Filters()).merged_with(question.filters)
        vector = index.embed(question.search_text)
        # A follow-up is retrieved with its history but answered for the user's own words.
        answer_vector = index.embed(question.text) if question.previous_question else vector
        previous = self._previous_papers(question, index, answer_vector)
        within = None
        if question.restrict_to_previous and question.previous_question:
            # "Which of those …": the papers the previous answer named (else those its question retrieves).
            within = {c.paper.paper_id for c in previous or index.search(question.previous_question, k=k, filters=active)}
        candidates = index.search(question.search_text, k=k, filters=active, within=within, query_vector=vector)
        return Retrieved(candidates, vector, answer_vector, previous, active)

    def _evidence(self, parsed: Question, retrieved: Retrieved, index: PaperIndex, k: int) -> extractive.Evidence:
        """The papers and sentences the answer is composed from: the top papers (all k for a list question),
        the paper of each named work (looked up by name when retrieval missed it) and, for a follow-up about
        the previous answer, only the papers that answer named."""
        candidates, vector, answer_vector, previous, active = (retrieved.candidates, retrieved.vector,
                                                               retrieved.answer_vector, retrieved.previous,
                                                               retrieved.filters)
        if previous is not None:
            ids = {c.paper.paper_id for c in previous}
            if parsed.excludes_previous:
                candidates = [c for c in candidates if c.paper.paper_id not in ids]
            else:
                dense = index.dense_scores_within(vector, ids)
                candidates = sorted((Candidate(c.paper, c.score, dense.get(c.paper.paper_id, 0.0), c.bm25)
                                     for c in previous), key=lambda c: -c.dense)
        top = candidates[:k if parsed.wants_several or parsed.restrict_to_previous else ANSWER_PAPERS]
        names, works = self._works(parsed.text, top, index, answer_vector)
        # Works are looked up by name in the whole index: the filters still decide which may answer.
        works = {name: c for name, c in works.items() if c is None or active.admits(c.paper)}
        sides = [c for c in self._sides(parsed, works, index, answer_vector) if active.admits(c.paper)]
        pool: dict[str, Candidate] = {}
        # A follow-up about the previous answer's papers reads only those; elsewhere named works join the pool.
        about_previous = previous is not None and not parsed.excludes_previous
        extra = [] if about_previous else sides + [c for c in works.values() if c is not None]
        if parsed.wants_several and not parsed.restrict_to_previous and not about_previous:
            # "Name every paper that runs experiments on ALFWorld": every paper mentioning it is a candidate,
            # retrieved or not.
            for name in extractive.list_conditions(parsed, names, index.table.vocabulary):
                extra += index.mentioning(name, answer_vector, active, CONDITION_PAPERS)
        for candidate in top + extra:
            pool.setdefault(candidate.paper.paper_id, candidate)
        hits = index.sentences_of(list(pool), answer_vector)
        part_vectors = ([answer_vector] if len(parsed.parts) == 1
                        else list(index.encoder.encode([p.text for p in parsed.parts])))
        return extractive.Evidence(list(pool.values()), hits, part_vectors, works, names, previous, sides)

    @staticmethod
    def _works(text: str, ranked: list[Candidate], index: PaperIndex, vector) -> tuple[list[str], dict]:
        """Every name in the question, and the named works: name -> its paper, or None for a name no paper
        mentions (specific enough to matter, such as Toolformer or Orca 2). A multi-word name found as a whole
        replaces its words."""
        vocabulary = index.table.vocabulary
        phrases = names_of.phrase_names(text)
        works: dict[str, Candidate | None] = {}
        covered: set[str] = set()
        for phrase in phrases:
            found = index.find_named(phrase, ranked, vector)
            if isinstance(found, Candidate) or (found is None and not names_of.has_connector(phrase)):
                works[phrase] = found if isinstance(found, Candidate) else None
                covered |= set(phrase.split())
        singles = [n for n in names_of.question_names(text, index.title_leads)
                   if n not in covered and not any(n in phrase for phrase in works)]
        for name in singles:
            found = index.find_named(name, ranked, vector)
            if isinstance(found, Candidate):
                works[name] = found
            elif found is None and names_of.is_specific(name, vocabulary):
                works[name] = None
        return list(works) + [n for n in singles if n not in works], works

    @staticmethod
    def _sides(parsed: Question, works: dict, index: PaperIndex, vector) -> list[Candidate]:
        """The two papers an across-paper metadata question ("which came first, A or B?") sets apart: each side
        by the work it names, else by retrieving its own words."""
        if not parsed.metadata_fields or parsed.mixes_metadata:
            return []
        titled = {n: c for n, c in works.items() if c is not None and names_of.mentions(n, c.paper.title)}
        if not parsed.orders:  # "AgentRxiv vs MetaGPT: how many authors each?": the two named papers
            papers = list({c.paper.paper_id: c for c in titled.values()}.values())
            return papers if len(papers) == 2 and extractive.side_by_side(parsed, titled) else []
        descriptions = parsed.sides
        if not descriptions and len({c.paper.paper_id for c in titled.values()}) == 1:
            name = next(iter(titled))  # "Was A listed before the paper on X?": A, and the rest of the question
            descriptions = [name, re.sub(re.escape(name), " ", parsed.text)]
        sides: list[Candidate] = []
        for description in descriptions:
            taken = {c.paper.paper_id for c in sides}
            named = [c for n, c in titled.items() if names_of.mentions(n, description) and c.paper.paper_id not in taken]
            found = named or [c for c in index.search(description, k=len(taken) + 1) if c.paper.paper_id not in taken]
            if found:
                sides.append(found[0])
        return sides if len(sides) == 2 else []

    def _previous_papers(self, parsed: Question, index: PaperIndex, vector) -> list[Candidate] | None:
        """The papers the previous answer named, by title (or its lead, "LServe") or by a work's name that a
        title carries, for "which of those …" follow-ups and ones about "it"; None when the question is not
        about them or none can be found."""
        if not parsed.previous_question or not parsed.previous_answer:
            return None
        if not (parsed.restrict_to_previous or parsed.excludes_previous or parsed.refers_to_previous):
            return None
        retrieved = index.search(parsed.previous_question, k=10, query_vector=index.embed(parsed.previous_question))
        answer_text = folded(parsed.previous_answer)
        named = [c for c in retrieved if names_of.mentions(c.paper.title.split(":")[0], answer_text)]
        # The answer's first lines name its papers; later names are what they quote (benchmarks, baselines).
        _, works = self._works(parsed.previous_answer[:PREVIOUS_ANSWER_CHARS], retrieved, index, vector)
        for name, found in works.items():
            if found is not None and names_of.mentions(name, found.paper.title) and found not in named:
                named.append(found)
        return list({c.paper.paper_id: c for c in named}.values()) or None

    def retrieve(self, question: str, *, k: int = 10, filters: Filters | None = None,
                 history: list[Turn] | None = None) -> list[Source]:
        parsed = analyse(question, max_chars=self.settings.max_question_chars, history=history)
        with self._chroma_errors():
            retrieved = self._candidates(parsed, k, filters)
        return to_sources(retrieved.candidates)

    def ask(self, question: str, *, k: int | None = None, filters: Filters | None = None,
            history: list[Turn] | None = None) -> Answer:
        return self.ask_stream(question, k=k, filters=filters, history=history).answer

    def ask_stream(self, question: str, *, k: int | None = None, filters: Filters | None = None,
                   history: list[Turn] | None = None) -> AnswerStream:
        """The answer as it is produced: iterate for text, then read `.answer`. Bad input (an empty question,
        bad filters) raises here, before any text."""
        parsed = analyse(question, max_chars=self.settings.max_question_chars, history=history)
        return AnswerStream(self._answer_items(parsed, k, filters, history))

    def _answer_items(self, parsed: Question, k: int | None, filters: Filters | None,
                      history: list[Turn] | None) -> Iterator[str | Answer]:
        """Text deltas, then the complete, verified `Answer` as the last item."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        index = self.index
        timings["load"] = time.perf_counter() - started
        mark = time.perf_counter()
        with self._chroma_errors():
            retrieved = self._candidates(parsed, k or self.settings.top_k, filters)
            index = self.index  # the view the candidates came from, when the search had to reload it
            timings["retrieve"] = time.perf_counter() - mark
            mark = time.perf_counter()
            evidence = self._evidence(parsed, retrieved, index, k or self.settings.top_k)
            active = retrieved.filters
            matching = None if active.is_empty() else index.count_matching(active)
            evidence.scope = self._scope(retrieved, index, k or self.settings.top_k, matching)
        draft = extractive.answer(parsed, evidence, index.table,
                                  threshold=self.settings.abstain_threshold,
                                  max_sentences=self.settings.answer_max_sentences)
        if evidence.scope and evidence.scope not in draft.text:
            draft.notes.append(evidence.scope)
        top = evidence.candidates
        timings["answer"] = time.perf_counter() - mark
        answer = Answer(question=parsed.text, text=draft.text, citations=draft.citations,
                        sources=to_sources(retrieved.candidates), abstained=draft.abstained, backend="extractive",
                        notes=draft.notes, filters=active, question_filters=parsed.filters, matching=matching)
        # The evidence gate is shared: where the extractive answerer abstains, no LLM is asked either.
        if self.settings.answerer == "openai" and not draft.abstained:
            answer = yield from self._generate(parsed, top, history, answer, timings)
        else:
            # The extractive answer is verified whole; it is handed over line by line (a part, a list item).
            yield from re.findall(r"[^\n]*\n*", answer.text)[:-1] or [answer.text]
        timings["total"] = time.perf_counter() - started
        answer.timings = {name: round(value, 4) for name, value in timings.items()}
        yield answer

    @staticmethod
    def _scope(retrieved: Retrieved, index: PaperIndex, k: int, matching: int | None) -> str | None:
        """Where the filters (given, or read from the question) leave fewer papers than asked for, how many
        they leave ("0 of 314 papers match the filters (dated 2024-01-01 or later and at least 20 upvotes).")."""
        active = retrieved.filters
        if matching is None or len(retrieved.candidates) >= k:
            return None
        advice = " Clear or widen them to search every paper." if matching < k else ""
        return f"{matching} of {len(index)} papers match the filters ({active.conditions()}).{advice}"

    def _generate(self, parsed: Question, top: list[Candidate], history: list[Turn] | None, fallback: Answer,
                  timings: dict[str, float]) -> Iterator[str]:
        """Streams the LLM's text; returns the verified Answer, or the extractive one with a note on failure."""
        mark = time.perf_counter()
        parts = [p.text for p in parsed.parts]
        messages = generative.build_messages(parsed.text, top, history, self.settings.llm_context_chars, parts)
        pieces: list[str] = []
        reciting = False
        try:
            for delta in generative.stream_completion(self.settings, messages):
                pieces.append(delta)
                # Once the model recites its instructions, nothing more is streamed (verify withholds it).
                reciting = reciting or generative.repeats_instructions("".join(pieces), top)
                if not reciting:
                    yield delta
            verified = generative.verify("".join(pieces), top, self.index, parts)
        except generative.LLMUnavailable as exc:
            fallback.notes.append(f"{exc} Showing the extractive answer instead.")
            timings["generate"] = time.perf_counter() - mark
            return fallback
        timings["generate"] = time.perf_counter() - mark
        if verified.abstained:
            text = extractive.abstention(top).text
            return replace(fallback, text=text, citations=[], abstained=True, backend="openai", unsupported=[])
        if not verified.citations:
            # Nothing the model wrote is supported by a source: the extractive answer is the better one.
            fallback.notes.append("No sentence of the generated answer is supported by the sources; showing the "
                                  "extractive answer instead.")
            return fallback
        notes = list(fallback.notes)
        if verified.uncovered:
            notes.append("The generated answer does not cover: " + "; ".join(f"“{p}”" for p in verified.uncovered)
                         + ".")
        if verified.withheld:
            notes.append(f"{verified.withheld} sentence(s) of the generated answer repeated the assistant's "
                         "instructions and were withheld.")
        if verified.unsupported:
            notes.append(f"{len(verified.unsupported)} sentence(s) of the generated answer have no supporting "
                         "source and are marked unsupported.")
        return replace(fallback, text=verified.text, citations=verified.citations, abstained=False,
                       backend="openai", unsupported=verified.unsupported, notes=notes)


def _forget_embedded_chroma(settings: RagSettings) -> None:
    """Embedded Chroma keeps one in-memory view of a folder per process (HNSW segments included) and does
    not see another process's writes: after a `rag ingest` in another process, queries fail with "Error
    finding id" until restart (chroma-core/chroma#3792). Dropping the cached view makes the next client read
    the folder afresh; clients already open keep theirs for the questions in flight."""
    if settings.chroma_url:
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(index_location(settings), None)


_assistants: dict[str, Assistant] = {}
_assistants_lock = threading.Lock()


def default_assistant(settings: RagSettings | None = None) -> Assistant:
    settings = settings or load_settings()
    key = settings.model_dump_json()
    with _assistants_lock:
        if key not in _assistants:
            _assistants[key] = Assistant(settings)
        return _assistants[key]


def ask(question: str, *, k: int | None = None, filters: Filters | None = None, history: list[Turn] | None = None,
        settings: RagSettings | None = None) -> Answer:
    """Answer a question from the indexed papers, every claim cited; see `Answer`."""
    return default_assistant(settings).ask(question, k=k, filters=filters, history=history)


def retrieve(question: str, *, k: int = 10, filters: Filters | None = None,
             settings: RagSettings | None = None) -> list[Source]:
    """The k most relevant papers (hybrid BM25 + dense, one result per paper)."""
    return default_assistant(settings).retrieve(question, k=k, filters=filters)


def ask_stream(question: str, *, k: int | None = None, filters: Filters | None = None,
               history: list[Turn] | None = None, settings: RagSettings | None = None) -> AnswerStream:
    """Like `ask`, streamed: iterate for text, then read `.answer`."""
    return default_assistant(settings).ask_stream(question, k=k, filters=filters, history=history)
