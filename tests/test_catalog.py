"""rag.catalog: the corpus overview, the filtered and searched paper list, papers per month (no index needed)."""

from __future__ import annotations

from rag import catalog
from rag.corpus import Paper
from rag.types import Filters


def paper(title: str, date: str | None = None, upvotes: int | None = None, abstract: str = "An abstract.",
          author_names: tuple[str, ...] = ()) -> Paper:
    return Paper(paper_id=title.lower().replace(" ", "-"), title=title, abstract=abstract,
                 url=f"https://example.org/{title}", date=date, upvotes=upvotes, author_names=list(author_names))


PAPERS = [
    paper("Tree search agents", "2024-05-02", 30, "Best-first search for web agents.", ("Jing Yu Koh",)),
    paper("Retrieval for QA", "2023-11-20", 5, "Retrieval-augmented generation over Wikipedia."),
    paper("Diffusion for video", "2024-05-30", None, "Video generation with diffusion.", ("Zoë Müller",)),
    paper("Undated listing", "--06-10", 2, "A paper whose listing shows no year."),
]


def test_overview_counts_papers_and_date_range():
    found = catalog.overview(PAPERS)
    assert (found.papers, found.first_date, found.last_date, found.undated) == (4, "2023-11-20", "2024-05-30", 1)
    assert found.in_words() == "4 papers, dated 2023-11-20 to 2024-05-30 (1 without a year)"
    assert catalog.overview([]).in_words() == "0 papers"


def test_matching_applies_filters_and_every_search_word_newest_first():
    assert [p.title for p in catalog.matching(PAPERS)] == [
        "Diffusion for video", "Tree search agents", "Retrieval for QA", "Undated listing"]
    assert [p.title for p in catalog.matching(PAPERS, Filters(date_from="2024-01-01"))] == [
        "Diffusion for video", "Tree search agents"]
    assert [p.title for p in catalog.matching(PAPERS, Filters(min_upvotes=5))] == [
        "Tree search agents", "Retrieval for QA"]
    assert [p.title for p in catalog.matching(PAPERS, search="SEARCH web")] == ["Tree search agents"]
    assert [p.title for p in catalog.matching(PAPERS, search="zoe muller")] == ["Diffusion for video"]
    assert catalog.matching(PAPERS, Filters(min_upvotes=100)) == []
    assert catalog.matching(PAPERS, search="search retrieval") == []


def test_per_month_fills_gaps_between_the_first_and_last_month():
    months = catalog.per_month(PAPERS)
    assert months[0] == ("2023-11", 1) and months[-1] == ("2024-05", 2)
    assert [m for m, _ in months] == ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    assert sum(n for _, n in months) == 3  # the undated paper has no month
    assert catalog.per_month([]) == []


def test_question_about_names_the_paper():
    assert catalog.question_about(PAPERS[0]) == "What does the paper \u201cTree search agents\u201d propose?"
