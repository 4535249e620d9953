"""The corpus as a catalogue: what it covers, its papers under filters and a text search, and a question about
one paper. Plain functions over the indexed papers (`assistant.index.papers.values()`), for the app's Papers
tab and header."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rag.corpus import Paper
from rag.text import folded
from rag.types import Filters


@dataclass
class Overview:
    """What the corpus covers: how many papers, and the first and last date among those that show a year."""

    papers: int
    first_date: str | None
    last_date: str | None
    undated: int  # papers whose listing shows no year

    def in_words(self) -> str:
        """"314 papers, dated 2023-03-01 to 2025-06-30 (12 without a year)"."""
        words = f"{self.papers:,} paper{'s' if self.papers != 1 else ''}"
        if self.first_date:
            words += f", dated {self.first_date} to {self.last_date}"
        if self.undated:
            words += f" ({self.undated} without a year)"
        return words


def overview(papers: Iterable[Paper]) -> Overview:
    papers = list(papers)
    dates = sorted(p.date for p in papers if p.year)
    return Overview(len(papers), dates[0] if dates else None, dates[-1] if dates else None,
                    len(papers) - len(dates))


def _searchable(paper: Paper) -> str:
    return folded(" ".join([paper.title, paper.abstract, *paper.author_names, paper.org or ""])).casefold()


def matching(papers: Iterable[Paper], filters: Filters | None = None, search: str = "") -> list[Paper]:
    """The papers the filters admit whose title, abstract or authors contain every word of `search` (case
    and accents ignored), newest first; papers without a year last."""
    filters = filters or Filters()
    words = folded(search or "").casefold().split()
    found = [p for p in papers if filters.admits(p) and all(w in _searchable(p) for w in words)]
    return sorted(found, key=lambda p: (p.date_number or 0, p.title), reverse=True)


def per_month(papers: Iterable[Paper]) -> list[tuple[str, int]]:
    """("YYYY-MM", how many papers) for every month from the first to the last dated paper, gaps as 0."""
    counts = Counter(p.date[:7] for p in papers if p.year)
    if not counts:
        return []
    year, month = map(int, min(counts).split("-"))
    months = []
    while (label := f"{year:04d}-{month:02d}") <= max(counts):
        months.append((label, counts.get(label, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def question_about(paper: Paper) -> str:
    """A question that asks the assistant what a paper is about, naming it by its title."""
    return f"What does the paper \u201c{paper.title}\u201d propose?"
