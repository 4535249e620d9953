"""The public result types: `Source`, `Citation`, `Answer`, `Filters`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rag.corpus import Paper


class QuestionError(ValueError):
    """A question that cannot be asked (empty, too long, not text); the message says what to change."""


@dataclass
class Filters:
    """Paper filters, applied to both the dense and the BM25 side. Dates are ISO `YYYY-MM-DD`."""

    date_from: str | None = None
    date_to: str | None = None
    min_upvotes: int | None = None
    min_authors: int | None = None
    max_authors: int | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in asdict(self).values())

    def merged_with(self, other: Filters) -> Filters:
        """Explicit filters (self) win over the ones read from the question (other)."""
        mine, theirs = asdict(self), asdict(other)
        return Filters(**{k: mine[k] if mine[k] is not None else theirs[k] for k in mine})

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

    def chroma_where(self, kind: str | None = None) -> dict | None:
        clauses = [{key: {op: value}} for key, op, value in self.bounds()]
        if kind:
            clauses.append({"kind": kind})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


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

    @classmethod
    def from_paper(cls, paper: Paper, score: float) -> Source:
        return cls(paper_id=paper.paper_id, title=paper.title, url=paper.url, score=round(float(score), 6),
                   authors=paper.authors, org=paper.org, date=paper.date, date_text=paper.date_text,
                   upvotes=paper.upvotes, abstract=paper.abstract, links=list(paper.links))


@dataclass
class Citation:
    """`[number]` in the answer text: `quote` occurs verbatim in the paper's abstract, or is the metadata
    value named by `field` ("abstract" when quoted from the abstract)."""

    number: int
    paper_id: str
    title: str
    url: str
    quote: str
    field: str = "abstract"


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
