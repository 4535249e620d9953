"""`ask` and `retrieve`: question in, cited answer out. Everything is passed explicitly; the only state is
the loaded index, cached per settings and reloaded when the index changes underneath."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import httpx

from rag import extractive, generative
from rag.config import RagSettings, load_settings
from rag.embedding import Encoder, query_encoder
from rag.evidence import Retrieved, gather, scope, search
from rag.index import ChromaUnavailableError, index_location
from rag.query import Question, analyse, clean_question
from rag.retrieval import Candidate, PaperIndex, to_sources
from rag.types import Answer, AnswerStream, Filters, Source, Turn


class Assistant:
    def __init__(self, settings: RagSettings | None = None, *, encoder: Encoder | None = None):
        """`encoder` embeds questions; without one it is built from the settings when the index first loads
        (pass another assistant's `encoder` to share a loaded model)."""
        self.settings = settings or load_settings()
        self._lock = threading.Lock()
        self._index: PaperIndex | None = None
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
        if self._index is None:
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
                    # The encoder loads on the second core while the paper table loads: most of a cold start.
                    loading = self._encoder if self._encoder is not None else pool.submit(query_encoder, self.settings)
                    index = PaperIndex(self.settings, loading)
                    self._encoder = index.encoder
                self._index = index
            return self._index

    def _candidates(self, question: Question, k: int, filters: Filters | None) -> Retrieved:
        # A search reads only the loaded paper table, never Chroma: another process's writes cannot break it.
        return search(question, self.index, k, filters)

    def parse(self, question: object, history: list[Turn] | None = None) -> Question:
        """What the question asks, its names spelled as the indexed titles spell them. Bad input fails here
        before the index loads."""
        text = clean_question(question, self.settings.max_question_chars)
        return analyse(text, max_chars=self.settings.max_question_chars, history=history,
                       spellings=self.index.table.lead_spellings)

    def retrieve(self, question: str, *, k: int = 10, filters: Filters | None = None,
                 history: list[Turn] | None = None) -> list[Source]:
        parsed = self.parse(question, history)
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
        parsed = self.parse(question, history)
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
            parsed = retrieved.question  # a which-paper question several papers answer asks for them all
            index = self.index  # the view the candidates came from, when the search had to reload it
            timings["retrieve"] = time.perf_counter() - mark
            mark = time.perf_counter()
            evidence = gather(retrieved, index, k or self.settings.top_k, self.settings)
            active = retrieved.filters
            matching = None if active.is_empty() else index.count_matching(active)
            evidence.scope = scope(retrieved, index, k or self.settings.top_k, matching)
        draft = extractive.answer(parsed, evidence, index.table,
                                  threshold=self.settings.abstain_threshold,
                                  max_sentences=self.settings.answer_max_sentences, weights=self.settings.composer)
        notes = draft.notes + ([evidence.scope] if evidence.scope and evidence.scope not in draft.text else [])
        top = evidence.candidates
        timings["answer"] = time.perf_counter() - mark
        # An answer from the listings alone has the papers it names as its sources (none for the collection's
        # size), not what the question's words happen to retrieve.
        sources = evidence.ranked if parsed.from_listings else retrieved.candidates
        answer = Answer(question=parsed.text, text=draft.text, citations=draft.citations,
                        sources=to_sources(sources), abstained=draft.abstained, backend="extractive",
                        notes=notes, filters=active, question_filters=parsed.filters, matching=matching)
        # The evidence gate is shared: where the extractive answerer abstains, no LLM is asked either.
        if self.settings.answerer == "openai" and not draft.abstained and not parsed.from_listings:
            answer = yield from self._generate(parsed, top, history, answer, timings)
        else:
            # The extractive answer is verified whole; it is handed over line by line (a part, a list item).
            yield from re.findall(r"[^\n]*\n*", answer.text)[:-1] or [answer.text]
        timings["total"] = time.perf_counter() - started
        yield replace(answer, timings={name: round(value, 4) for name, value in timings.items()})

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
            verified = generative.verify("".join(pieces), top, self.index, self.settings, parts)
        except generative.LLMUnavailable as exc:
            timings["generate"] = time.perf_counter() - mark
            return replace(fallback, notes=[*fallback.notes, f"{exc} Showing the extractive answer instead."])
        timings["generate"] = time.perf_counter() - mark
        if verified.abstained:
            text = extractive.abstention(top).text
            return replace(fallback, text=text, citations=[], abstained=True, backend="openai", unsupported=[])
        if not verified.citations:
            # Nothing the model wrote is supported by a source: the extractive answer is the better one.
            return replace(fallback, notes=[*fallback.notes, "No sentence of the generated answer is supported by "
                                            "the sources; showing the extractive answer instead."])
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
    """The assistant behind the module-level `ask`, `ask_stream` and `retrieve`: one per distinct settings
    (default: `load_settings()`), created on first use and kept for the process, so its loaded index and model
    serve every later call. Build an `Assistant` yourself to pass collaborators or to control its lifetime."""
    settings = settings or load_settings()
    # The dump masks the API key: two settings differing only in their key must not share an assistant.
    key = settings.model_dump_json() + repr(settings.llm_api_key.get_secret_value() if settings.llm_api_key else None)
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
