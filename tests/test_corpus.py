"""The listing parser against the bundled pages and against each quirk of the format (docs/CORPUS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT
from rag.corpus import detect_format, extract_links, load_corpus, paper_id_for, paper_url, parse_date

CORPUS = PROJECT_ROOT / "data" / "corpus"
ABSTRACT = "We study a thing. " * 20  # 360 characters: long enough to be an abstract
HEADER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\nNov 28\n\n"


@pytest.fixture(scope="module")
def bundled():
    return load_corpus([CORPUS])


def by_title(result, title):
    return next(p for p in result.papers if p.title == title)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_bundled_corpus_yields_314_unique_papers_from_331_entries(bundled):
    assert bundled.raw_entries == 331
    assert len(bundled.papers) == 314
    assert bundled.problems == []
    assert len({p.paper_id for p in bundled.papers}) == 314


def test_page_date_in_header_is_not_an_entry_date(tmp_path):
    result = load_corpus([write(tmp_path, "a.txt", HEADER + f"Paper One\n\n{ABSTRACT}")])
    (paper,) = result.papers
    assert paper.title == "Paper One" and paper.date is None
    assert "Nov 28" not in {p.title for p in result.papers}


def test_entries_without_metadata_keep_unknown_fields(bundled):
    paper = by_title(bundled, "Mini-o3: Scaling Up Reasoning Patterns and Interaction Turns for Visual Search")
    assert (paper.authors, paper.date, paper.upvotes, paper.org) == (None, None, None, None)
    assert sum(p.date is None for p in bundled.papers) == 152


def test_upvotes_appended_to_date_line():
    assert parse_date("Oct 1 2") == ("--10-01", "Oct 1", 2)
    assert parse_date("Dec 24, 2024 2") == ("2024-12-24", "Dec 24, 2024", 2)
    # No number means no upvotes: 0, not unknown.
    assert parse_date("Jun 10") == ("--06-10", "Jun 10", 0)
    assert parse_date("Nov 3, 2015") == ("2015-11-03", "Nov 3, 2015", 0)


def test_upvote_and_date_counts_match_the_pages(bundled):
    dated = [p for p in bundled.papers if p.date]
    assert len(dated) == 162
    assert sum(1 for p in dated if p.upvotes) == 49
    assert sum(1 for p in dated if p.year is None) == 66  # the short `Mon D` form has no year


def test_year_less_dates_sort_and_filter_apart(bundled):
    paper = by_title(bundled, "CUDA-LLM: LLMs Can Write Efficient CUDA Kernels")
    assert (paper.date, paper.date_text, paper.year, paper.date_number) == ("--06-10", "Jun 10", None, None)
    dated = [p for p in bundled.papers if p.year]
    assert dated and all(p.date_number == int(p.date.replace("-", "")) for p in dated)


def test_org_line_replaces_author_count(bundled):
    orgs = {p.title: p.org for p in bundled.papers if p.org}
    assert len(orgs) == 4
    paper = by_title(bundled, "Reinforcement Learning Improves Traversal of Hierarchical Knowledge in LLMs")
    assert paper.org == "AI-at-Meta Meta AI" and paper.authors is None and paper.date is not None


def test_one_authors_is_parsed(tmp_path):
    text = HEADER + f"Solo\n\n{ABSTRACT}\n\n  • 1 authors\n·\nMar 2, 2022"
    (paper,) = load_corpus([write(tmp_path, "a.txt", text)]).papers
    assert paper.authors == 1 and paper.date == "2022-03-02"


def test_duplicates_merge_metadata_and_remember_every_source(bundled):
    paper = next(p for p in bundled.papers if p.title.startswith("Online Intrinsic Rewards"))
    files = {Path(s.file).name[:3] for s in paper.sources}
    assert files == {"000", "001", "003"}
    assert paper.authors is not None  # metadata only exists in the 000 copy
    assert sum(len(p.sources) > 1 for p in bundled.papers) == 16


def test_conflicting_duplicate_metadata_is_reported_and_first_kept(tmp_path):
    one = HEADER + f"Twin\n\n{ABSTRACT}\n\n  • 3 authors\n·\nMar 2, 2022"
    two = HEADER + f"Twin\n\n{ABSTRACT}\n\n  • 4 authors\n·\nMar 2, 2022"
    result = load_corpus([write(tmp_path, "a.txt", one), write(tmp_path, "b.txt", two)])
    (paper,) = result.papers
    assert paper.authors == 3
    assert any("authors=4" in str(p) and "b.txt" in str(p) for p in result.problems)


def test_abstract_links_are_cleaned():
    text = ("Code at https://github.com/thu-coai/SPaR. See \\url{https://x.org/a} and {https://y.org/b}, "
            "also github.com/gblackout/Reason-in-the-Wild, and (https://site.io/page).")
    assert extract_links(text) == [
        "https://github.com/thu-coai/SPaR", "https://x.org/a", "https://y.org/b",
        "https://github.com/gblackout/Reason-in-the-Wild", "https://site.io/page",
    ]
    assert extract_links("site https://amirkasaei.com/carinox/{this URL} end") == ["https://amirkasaei.com/carinox/"]


def test_bundled_links_have_no_glued_punctuation(bundled):
    links = [link for p in bundled.papers for link in p.links]
    assert len(links) > 80
    assert all(link.startswith(("http://", "https://")) for link in links)
    assert not [link for link in links if link[-1] in ".,;:)}'\""]


def test_odd_titles_survive_verbatim(bundled):
    titles = {p.title for p in bundled.papers}
    for fragment in ("TÜLU 3", "τ^2-Bench", "Med-R^3", "FaSTA^*", "ReST-MCTS*", "Hogwild!", "Who's the MVP?",
                     "NEVIS'22", "Proposer-Agent-Evaluator(PAE)", "WHEN TO ACT, WHEN TO WAIT"):
        assert any(fragment in t for t in titles), fragment


def test_ids_are_stable_and_urls_search_the_exact_title():
    assert paper_id_for("TÜLU 3: Pushing") == paper_id_for("  tülu 3:   pushing ")
    assert paper_id_for("A") != paper_id_for("B")
    assert paper_url("Hogwild! Inference") == "https://huggingface.co/papers?q=Hogwild%21%20Inference"


def test_invalid_utf8_skips_only_that_entry(tmp_path):
    bad = HEADER.encode() + b"Good One\n\n" + ABSTRACT.encode() + b"\n\nBad \xff\xfe Title\n\n" + ABSTRACT.encode() \
        + b"\n\nGood Two\n\n" + ABSTRACT.encode()
    result = load_corpus([write(tmp_path, "bad.txt", bad)])
    assert [p.title for p in result.papers] == ["Good One", "Good Two"]
    assert any("bad.txt:15" in str(p) and "UTF-8" in str(p) for p in result.problems)


def test_truncated_entry_is_reported_with_file_and_line(tmp_path):
    text = HEADER + f"Complete\n\n{ABSTRACT}\n\nCut Short\n\nNext Title\n\n{ABSTRACT}"
    result = load_corpus([write(tmp_path, "t.txt", text)])
    assert [p.title for p in result.papers] == ["Complete", "Next Title"]
    assert any(str(p).startswith(f"{tmp_path / 't.txt'}:15") and "truncated" in str(p) for p in result.problems)


def test_binary_and_missing_files_are_reported(tmp_path):
    binary = write(tmp_path, "blob.txt", b"\x00\x01\x02" * 100)
    good = write(tmp_path, "good.txt", HEADER + f"Fine\n\n{ABSTRACT}")
    result = load_corpus([binary, good, tmp_path / "nope.txt"])
    assert [p.title for p in result.papers] == ["Fine"]
    messages = [str(p) for p in result.problems]
    assert any("blob.txt" in m and "binary" in m for m in messages)
    assert any("nope.txt" in m and "no such file" in m for m in messages)


def test_garbage_lines_are_reported_and_skipped(tmp_path):
    text = HEADER + "·\n\n" + "x" * 500 + f"\n\nReal Paper\n\n{ABSTRACT}"
    result = load_corpus([write(tmp_path, "g.txt", text)])
    assert [p.title for p in result.papers] == ["Real Paper"]
    assert len(result.problems) == 2


def test_jsonl_records_and_bad_lines(tmp_path):
    lines = [
        json.dumps({"title": "J One", "abstract": ABSTRACT, "authors": 3, "date": "2024-05-01", "upvotes": 7,
                    "url": "https://arxiv.org/abs/1"}),
        "{not json",
        json.dumps({"title": "No abstract"}),
        json.dumps({"title": "J Two", "abstract": ABSTRACT, "date": "Dec 24, 2024", "id": "custom-id"}),
        json.dumps({"title": "Evil", "abstract": ABSTRACT, "url": "javascript:alert(1)"}),
    ]
    result = load_corpus([write(tmp_path, "p.jsonl", "\n".join(lines))])
    one, two, evil = result.papers
    assert (one.authors, one.date, one.upvotes, one.url) == (3, "2024-05-01", 7, "https://arxiv.org/abs/1")
    assert (two.paper_id, two.date) == ("custom-id", "2024-12-24")
    assert evil.url == paper_url("Evil")  # a javascript: link never reaches a page
    assert sorted(p.line for p in result.problems) == [2, 3, 5]
    assert "http(s)" in str(result.problems[-1])


# --- other formats: the Hugging Face daily papers API and the arXiv metadata snapshot -----------------------

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
HF_API = FIXTURES / "hf_daily_papers.json"
ARXIV = FIXTURES / "arxiv_snapshot.jsonl"
LOCRET = "Locret: Enhancing Eviction in Long-Context LLM Inference with Trained Retaining Heads"


def test_formats_are_told_by_content_not_by_file_name(tmp_path):
    assert detect_format(b'\n  [{"title": "x"}]') == "hf-api" and detect_format(b'{"id": "1"}\n') == "jsonl"
    assert detect_format(b"\xef\xbb\xbfnew\n\nDaily Papers") == "listing"
    renamed = write(tmp_path, "snapshot.txt", ARXIV.read_bytes())  # an arXiv slice saved under another name
    api_renamed = write(tmp_path, "daily.data", HF_API.read_bytes())
    result = load_corpus([renamed, api_renamed])
    assert {p.arxiv_id for p in result.papers} >= {"2410.01805", "2501.01234", "2411.04321"}


def test_hf_api_papers_have_ids_links_authors_and_upvotes():
    result = load_corpus([HF_API])
    quokka = by_title(result, "Quokka Attention: Learned Block Routing for Long-Context Sparse Attention")
    assert quokka.arxiv_id == "2501.01234" and quokka.url == "https://huggingface.co/papers/2501.01234"
    assert quokka.arxiv_url == "https://arxiv.org/abs/2501.01234"
    assert quokka.author_names == ["Ana Lima", "Kenji Sato"] and quokka.authors == 2
    assert (quokka.upvotes, quokka.date) == (31, "2025-01-06")
    # The item without an abstract is reported by its position and skipped; the others load.
    assert [str(p) for p in result.problems] == [f"{HF_API}: item 3: bad paper (missing field 'summary'); skipped"]
    assert result.raw_entries == 3 and len(result.papers) == 2


def test_arxiv_snapshot_records_keep_names_dates_and_report_bad_lines():
    result = load_corpus([ARXIV])
    budgets = by_title(result, "Gradient Budgets: Allocating Optimizer Steps Across Tasks in Multi-Task Fine-Tuning")
    assert budgets.author_names == ["Lena Park", "Tomas Novak"] and budgets.date == "2024-11-06"
    locret = next(p for p in result.papers if p.arxiv_id == "2410.01805")
    assert locret.author_names[:2] == ["Yuxiang Huang", "Binhang Yuan"] and locret.date == "2024-10-02"
    assert "\n" not in locret.title and "  " not in locret.abstract  # the snapshot's line breaks are undone
    lines = sorted((p.line, p.message) for p in result.problems)
    assert [line for line, _ in lines] == [3, 5] and "not an arXiv id" in lines[1][1]


def test_categories_keep_only_the_snapshot_records_asked_for():
    kept = load_corpus([ARXIV, HF_API], categories={"cs.CL", "cs.LG"})
    titles = {p.title for p in kept.papers}
    assert not any(t.startswith("Pixel Quokkas") for t in titles)  # cs.CV only
    assert any(t.startswith("Gradient Budgets") for t in titles)  # cs.LG and stat.ML
    assert any(t.startswith("Quokka Attention") for t in titles)  # the API's papers have no categories: kept


def test_one_paper_seen_in_three_formats_is_one_paper_with_the_real_link():
    result = load_corpus([CORPUS, HF_API, ARXIV])
    copies = [p for p in result.papers if p.arxiv_id == "2410.01805" or p.title == LOCRET]
    assert len(copies) == 1  # the snapshot's title ("{LLM}", line breaks) differs: merged by the arXiv id
    locret = copies[0]
    assert locret.paper_id == paper_id_for(LOCRET) and locret.url == "https://huggingface.co/papers/2410.01805"
    assert {Path(s.file).name for s in locret.sources} >= {HF_API.name, ARXIV.name}
    assert locret.upvotes == 12 and locret.authors == 5
    assert len(result.papers) == 314 + 3  # Quokka Attention, Pixel Quokkas, Gradient Budgets


def test_a_large_snapshot_is_read_line_by_line(tmp_path, monkeypatch):
    import rag.corpus

    record = json.loads(ARXIV.read_text().splitlines()[-2])  # Gradient Budgets
    lines = [json.dumps({**record, "id": f"2411.{10000 + n}", "title": f"{record['title']} {n}"}) for n in range(2000)]
    lines[1500] = "{not json"
    path = write(tmp_path, "slice.jsonl", "\n".join(lines) + "\n")
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("a JSONL file is not read whole"))
    result = rag.corpus.load_corpus([path])
    assert len(result.papers) == 1999 and [p.line for p in result.problems] == [1501]
