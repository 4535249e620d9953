"""The public result types: `Source`, `Citation`, `Answer`, `Filters`."""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace

from rag.config import MAX_K
from rag.corpus import Paper
from rag.errors import RagError
from rag.text import folded


class QuestionError(RagError, ValueError):
    """A question that cannot be asked (empty, too long, not text); the message says what to change."""


class FilterError(RagError, ValueError):
    """A filter value the user typed that cannot be used; the message says what to change."""


def filter_date(text: str | None, *, end: bool, label: str) -> str | None:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` to an ISO date; a year or month means its first (or last) day."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
    if not match:
        raise FilterError(f"{label} \u201c{text[:40]}\u201d is not a date: use YYYY-MM-DD, YYYY-MM or YYYY.")
    year, month, day = int(match.group(1)), match.group(2), match.group(3)
    month_n = int(month) if month else (12 if end else 1)
    try:
        last_day = calendar.monthrange(year, month_n)[1] if 1 <= month_n <= 12 else 0
        day_n = int(day) if day else (last_day if end else 1)
        return datetime.date(year, month_n, day_n).isoformat()
    except ValueError:
        raise FilterError(f"{label} \u201c{text}\u201d is not a valid date.") from None


def checked_k(k: object, default: int) -> int:
    """The number of papers to retrieve as typed by a user (None: the default), checked."""
    try:
        value = int(k) if k is not None else default
    except (TypeError, ValueError):
        raise FilterError("The number of papers (k) must be a whole number.") from None
    if not 1 <= value <= MAX_K:
        raise FilterError(f"The number of papers (k) must be between 1 and {MAX_K}.")
    return value


@dataclass
class Filters:
    """Paper filters, applied to both the dense and the BM25 side. Dates are ISO `YYYY-MM-DD`."""

    date_from: str | None = None
    date_to: str | None = None
    min_upvotes: int | None = None
    min_authors: int | None = None
    max_authors: int | None = None
    author: str | None = None  # a name, or part of one, of a listed author (case and accents ignored)

    @classmethod
    def from_inputs(cls, date_from: str | None, date_to: str | None, min_upvotes: object = None,
                    author: str | None = None) -> Filters:
        """Filters as a user types them (the app's fields, the CLI's options): dates as `YYYY[-MM[-DD]]`, a
        whole number of upvotes (0 or empty: no bound), an author's name. Raises `FilterError` saying what to
        change."""
        start = filter_date(date_from, end=False, label="From date")
        stop = filter_date(date_to, end=True, label="To date")
        if start and stop and start > stop:
            raise FilterError(f"The from date ({start}) is after the to date ({stop}).")
        upvotes = None
        if min_upvotes is not None and min_upvotes != "":
            try:
                upvotes = int(min_upvotes)
            except (TypeError, ValueError):
                raise FilterError("Minimum upvotes must be a whole number.") from None
            if upvotes < 0:
                raise FilterError("Minimum upvotes cannot be negative.")
            upvotes = upvotes or None  # 0 is no bound: papers with unknown upvotes stay in
        author = " ".join((author or "").split()) or None
        if author and len(author) < 2:
            raise FilterError("An author filter needs at least two letters of the name.")
        return cls(date_from=start, date_to=stop, min_upvotes=upvotes, author=author)

    def conditions(self) -> str:
        """The bounds in words ("dated 2024-01-01 or later and at least 5 upvotes"; "" when none)."""
        parts = []
        if self.date_from and self.date_to:
            parts.append(f"dated {self.date_from} to {self.date_to}")
        elif self.date_from:
            parts.append(f"dated {self.date_from} or later")
        elif self.date_to:
            parts.append(f"dated {self.date_to} or earlier")
        if self.min_upvotes:
            parts.append(f"at least {self.min_upvotes} upvote{'s' if self.min_upvotes != 1 else ''}")
        if self.min_authors is not None:
            parts.append(f"at least {self.min_authors} authors")
        if self.max_authors is not None:
            parts.append(f"at most {self.max_authors} authors")
        if self.author:
            parts.append(f"by an author named “{self.author}”")
        return " and ".join(parts)

    def labels(self) -> dict[str, str]:
        """A short label per active filter, keyed by field ({"date_from": "from 2024-01-01", "min_upvotes":
        "≥ 20 upvotes"}): what a chip shows; removing the field removes that filter."""
        labels = {"date_from": f"from {self.date_from}", "date_to": f"until {self.date_to}",
                  "min_upvotes": f"≥ {self.min_upvotes} upvote{'s' if self.min_upvotes != 1 else ''}",
                  "min_authors": f"≥ {self.min_authors} authors", "max_authors": f"≤ {self.max_authors} authors",
                  "author": f"author “{self.author}”"}
        return {name: label for name, label in labels.items() if getattr(self, name) is not None}

    def without(self, name: str) -> Filters:
        """These filters with one field cleared (a removed chip)."""
        return replace(self, **{name: None})

    def in_words(self) -> str:
        """The filters as a sentence ("Only papers dated … and at least 5 upvotes."; "" when none)."""
        return f"Only papers {self.conditions()}." if self.conditions() else ""

    def is_empty(self) -> bool:
        return all(v is None for v in asdict(self).values())

    def merged_with(self, other: Filters) -> Filters:
        """Explicit filters (self) win over the ones read from the question (other)."""
        mine, theirs = asdict(self), asdict(other)
        return Filters(**{k: mine[k] if mine[k] is not None else theirs[k] for k in mine})

    def admits(self, paper: Paper) -> bool:
        """Whether the paper passes every filter (a bound on a value the paper lacks does not)."""
        values = {"date_number": paper.date_number, "upvotes": paper.upvotes, "authors": paper.authors}
        for key, op, bound in self.bounds():
            value = values[key]
            if value is None or (value < bound if op == "$gte" else value > bound):
                return False
        return self.admits_author(paper)

    def admits_author(self, paper: Paper) -> bool:
        """Whether one of the paper's named authors matches `author` (always true without that filter)."""
        if not self.author:
            return True
        wanted = folded(self.author).casefold()
        return any(wanted in folded(name).casefold() for name in paper.author_names)

    def bounds(self) -> list[tuple[str, str, int]]:
        bounds = []
        if self.date_from:
            bounds.append(("date_number", "$gte", int(self.date_from.replace("-", ""))))
        if self.date_to:
            bounds.append(("date_number", "$lte", int(self.date_to.replace("-", ""))))
        if self.min_upvotes is not None:
            bounds.append(("upvotes", "$gte", self.min_upvotes))
        if self.min_authors is not None:
            bounds.append(("authors", "$gte", self.min_authors))
        if self.max_authors is not None:
            bounds.append(("authors", "$lte", self.max_authors))
        return bounds


@dataclass
class Source:
    """A retrieved paper."""

    paper_id: str
    title: str
    url: str
    score: float
    authors: int | None = None
    org: str | None = None
    date: str | None = None
    date_text: str | None = None
    upvotes: int | None = None
    abstract: str = ""
    links: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    arxiv_url: str | None = None
    author_names: list[str] = field(default_factory=list)

    @classmethod
    def from_paper(cls, paper: Paper, score: float) -> Source:
        return cls(paper_id=paper.paper_id, title=paper.title, url=paper.url, score=round(float(score), 6),
                   authors=paper.authors, org=paper.org, date=paper.date, date_text=paper.date_text,
                   upvotes=paper.upvotes, abstract=paper.abstract, links=list(paper.links), arxiv_id=paper.arxiv_id,
                   arxiv_url=paper.arxiv_url, author_names=list(paper.author_names))


@dataclass
class Citation:
    """`[number]` in the answer text: `quote` occurs verbatim in the paper's abstract at `start:end`, or is the
    metadata value named by `field` ("abstract" when quoted from the abstract; no offsets then)."""

    number: int
    paper_id: str
    title: str
    url: str
    quote: str
    field: str = "abstract"
    start: int | None = None
    end: int | None = None

    @classmethod
    def of(cls, number: int, paper: Paper, quote: str, field: str = "abstract",
           start: int | None = None) -> Citation:
        """A citation of `quote` from `paper`, located in its abstract when quoted from it: at `start` when the
        caller knows where it took the quote, else where the abstract first has it."""
        if start is None:
            start = paper.abstract.find(quote) if field == "abstract" and quote else -1
        located = (start, start + len(quote)) if start >= 0 else (None, None)
        return cls(number, paper.paper_id, paper.title, paper.url, quote, field, *located)


@dataclass
class Turn:
    """One earlier exchange of a conversation: what was asked and what was answered (if anything)."""

    question: str
    answer: str | None = None

    @classmethod
    def of(cls, turn: object) -> Turn | None:
        """A history entry as a Turn: a Turn, a {"question", "answer"} dict, an object with those attributes,
        or a bare question. None when it holds no question. History comes from callers (JSON, the UI):
        anything that is not text is read as text, or as missing."""
        if isinstance(turn, Turn):
            return turn if turn.question.strip() else None
        if isinstance(turn, str):
            question, answer = turn, None
        elif isinstance(turn, dict):
            question, answer = turn.get("question"), turn.get("answer")
        else:
            question, answer = getattr(turn, "question", None), getattr(turn, "answer", None)
        question, answer = (str(v) if v is not None and str(v).strip() else None for v in (question, answer))
        return cls(question, answer) if question else None


def turns(history: list | None) -> list[Turn]:
    """The history's turns that hold a question, oldest first."""
    return [t for t in map(Turn.of, history or []) if t is not None]


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    sources: list[Source]
    abstained: bool
    backend: str
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # answer sentences no source supports (LLM backend)
    filters: Filters = field(default_factory=Filters)  # what was searched with: the caller's and the question's
    question_filters: Filters = field(default_factory=Filters)  # the part read from the question ("from 2024")
    matching: int | None = None  # how many indexed papers `filters` admit (None when there are no filters)

    def to_dict(self) -> dict:
        return asdict(self)

    def references(self) -> list[tuple[str, str, str]]:
        """The bibliography: ("[1][2]", title, url) per cited paper, in order of first citation (a paper quoted
        twice has two numbers, one per quote)."""
        by_paper: dict[str, list[Citation]] = {}
        for citation in sorted(self.citations, key=lambda c: c.number):
            by_paper.setdefault(citation.paper_id, []).append(citation)
        return [("".join(f"[{c.number}]" for c in cited), cited[0].title, cited[0].url) for cited in by_paper.values()]

    def references_markdown(self) -> str:
        """The answer followed by a numbered bibliography, for copying."""
        lines = [self.text, ""]
        lines += [f"{numbers} {title}. {url}" for numbers, title, url in self.references()]
        return "\n".join(lines).strip() + "\n"


class AnswerStream:
    """An answer being produced: iterate for its text as it comes; `answer` is the complete, verified `Answer`
    (reading it first finishes the stream). The streamed text is a draft: with the LLM answerer, verification
    may mark or replace sentences, so show `answer.text` once it is there."""

    def __init__(self, items: Iterator[str | Answer]):
        self._items = items
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            if isinstance(item, Answer):
                self._answer = item
                return
            yield item

    @property
    def answer(self) -> Answer:
        if self._answer is None:
            for _ in self:
                pass
        return self._answer

    def text(self) -> str:
        return self.answer.text
