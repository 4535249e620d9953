"""HTML for the chat app (app.py): pure functions from the library's results to escaped HTML.

Everything shown comes from paper records or the user, so every string goes through `html.escape` before it
is put into HTML, and links go only to a paper's own url, its arXiv page or the links found in its abstract,
and only when they are http(s). Each answer carries its own sources, with ids unique to its turn, so its
`[n]` keep working while it is on screen.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pandas as pd

from rag import catalog
from rag.corpus import Paper
from rag.text import CITATION_MARK
from rag.types import Answer, Citation, Filters, Source

# A question longer than this is shortened in the chat bubble (the library still sees all of it).
SHOWN_QUESTION_CHARS = 600
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
PAPER_COLUMNS = ["Title", "Date", "Authors", "Upvotes"]
# The Papers table holds at most this many rows (the newest): a large corpus is narrowed by search or filters.
TABLE_ROWS = 1000
BULLETS = ("- ", "* ", "\u2022 ")


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """The url when it is a plain http(s) link, else None (no javascript:, data:, relative or odd urls)."""
    if not url or not isinstance(url, str) or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def link(url: str | None, text: str, *, cls: str | None = None) -> str:
    """An external link opening in a new tab, or just the escaped text when the url is not safe."""
    target = safe_url(url)
    if target is None:
        return esc(text)
    attrs = f' class="{esc(cls)}"' if cls else ""
    return f'<a href="{esc(target)}" target="_blank" rel="noopener noreferrer"{attrs}>{esc(text)}</a>'


def chips(filters: Filters) -> str:
    return " ".join(f'<span class="rag-chip">{esc(label)}</span>' for label in filters.labels().values())


# --------------------------------------------------------------------------------------------------------
# Answer text
# --------------------------------------------------------------------------------------------------------

def _inline(text: str, citations: dict[int, Citation] | None, turn: str | None) -> str:
    """Escaped text with its [n] markers: links to this turn's quote #<turn>-src-n, or plain while streaming."""
    out, last = [], 0
    for match in CITATION_MARK.finditer(text):
        number = int(match.group(1))
        if turn is None:
            marker = f'<span class="rag-cite">[{number}]</span>'
        elif number in (citations or {}):
            marker = f'<a class="rag-cite" href="#{turn}-src-{number}">[{number}]</a>'
        else:
            continue  # a bracketed number quoted from an abstract, not a citation: leave it as text
        out.append(esc(text[last:match.start()]))
        out.append(marker)
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def render_text(text: str, citations: dict[int, Citation] | None = None, turn: str | None = None) -> str:
    """Answer text as HTML: paragraphs, "- " lines as a list, [n] as citation links. Text is never HTML."""
    blocks: list[str] = []
    items: list[str] = []

    def flush_items() -> None:
        if items:
            blocks.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(BULLETS) or stripped in {"-", "*", "\u2022"}:
            if stripped[2:]:  # a bullet whose text has not arrived yet is not shown
                items.append(_inline(stripped[2:], citations, turn))
            continue
        flush_items()
        if stripped:
            blocks.append(f"<p>{_inline(stripped, citations, turn)}</p>")
    flush_items()
    return "".join(blocks)


def render_streaming(text: str) -> str:
    body = render_text(text) or '<p class="rag-pending">Searching the papers\u2026</p>'
    return f'<div class="rag-answer rag-streaming">{body}</div>'


def render_error(message: str) -> str:
    return f'<div class="rag-answer"><div class="rag-notice rag-error" role="alert">{esc(message)}</div></div>'


def render_index_problem(problem: str) -> str:
    return (f'<div id="rag-index-warning" role="alert"><strong>The paper index is not available.</strong> '
            f"{esc(problem)}<br>Build it with <code>rag ingest</code> and restart the app.</div>")


def render_question(question: str) -> str:
    shown = question if len(question) <= SHOWN_QUESTION_CHARS else question[:SHOWN_QUESTION_CHARS]
    cut = len(question) - len(shown)
    tail = f'<span class="rag-question-cut">\u2026 ({cut:,} more characters)</span>' if cut else ""
    shown = UNPRINTABLE.sub("\ufffd", shown)  # NUL, control characters and lone surrogates are not HTML text
    return f'<div class="rag-question">{esc(shown)}{tail}</div>'


def render_filters_used(answer: Answer, total: int, limited: bool) -> str:
    """The filters the answer was searched with, as chips (dashed: read from the question), and how many
    papers they admit (a limiting count is the library's note instead)."""
    if answer.filters.is_empty():
        return ""
    shown = []
    for name, label in answer.filters.labels().items():
        asked = getattr(answer.question_filters, name) == getattr(answer.filters, name)
        shown.append(f'<span class="rag-chip rag-chip-question" title="read from your question">{esc(label)}</span>'
                     if asked else f'<span class="rag-chip">{esc(label)}</span>')
    count = "" if limited or answer.matching is None else f" ({answer.matching:,} of {total:,} papers)"
    cls = "rag-filters-used rag-limited" if limited else "rag-filters-used"
    return f'<div class="{cls}">Searched with {" ".join(shown)}{esc(count)}</div>'


def render_answer(answer: Answer, turn: str, *, total: int, limited: bool = False) -> str:
    """A finished answer: its filters, text with citations, notes, and its own sources. `limited`: the filters
    left fewer papers than were asked for."""
    citations = {c.number: c for c in answer.citations}
    parts = ['<div class="rag-answer">', render_filters_used(answer, total, limited)]
    text = render_text(answer.text, citations, turn)
    if answer.abstained:
        parts.append(f'<div class="rag-notice rag-abstain" role="status"><strong>No answer found.</strong>{text}'
                     "</div>")
    else:
        parts.append(text)
    for note in answer.notes:
        parts.append(f'<div class="rag-notice rag-note" role="note">{esc(note)}</div>')
    if answer.unsupported:
        items = "".join(f"<li>{esc(sentence)}</li>" for sentence in answer.unsupported)
        parts.append('<div class="rag-notice rag-unsupported" role="note"><strong>Not supported by the '
                     f'sources</strong> (left out of the answer or unverified):<ul>{items}</ul></div>')
    parts.append(render_evidence(answer, turn))
    parts.append("</div>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------------------
# Sources: each answer's own list, under it
# --------------------------------------------------------------------------------------------------------

def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(abstract: str, citations: list[Citation]) -> str:
    """The escaped abstract with each cited quote (at its offsets) wrapped in <mark>."""
    spans = [(c.start, c.end) for c in citations if c.start is not None and c.end is not None]
    out, last = [], 0
    for start, end in _merge(spans):
        out.append(esc(abstract[last:start]))
        out.append(f"<mark>{esc(abstract[start:end])}</mark>")
        last = end
    out.append(esc(abstract[last:]))
    return "".join(out)


def meta_line(item: Source | Paper) -> str:
    """Date, authors (or organisation) and upvotes, where the listing gives them."""
    facts = []
    if item.date_text or item.date:
        facts.append(item.date_text or item.date)
    if item.author_names:
        names = ", ".join(item.author_names[:3]) + (" et al." if len(item.author_names) > 3 else "")
        facts.append(names)
    elif item.authors is not None:
        facts.append(f"{item.authors} author{'s' if item.authors != 1 else ''}")
    if item.org:
        facts.append(item.org)
    if item.upvotes is not None:
        facts.append(f"{item.upvotes} upvote{'s' if item.upvotes != 1 else ''}")
    return '<span class="src-meta">' + esc(" \u00b7 ".join(facts) or "date not listed") + "</span>"


def paper_links(item: Source | Paper) -> str:
    """The entry's page and, when the paper has an id, its arXiv page."""
    links = [link(item.url, "Paper page")] if safe_url(item.url) else []
    if safe_url(item.arxiv_url):
        links.append(link(item.arxiv_url, f"arXiv {item.arxiv_id}"))
    return '<span class="src-links">' + " \u00b7 ".join(links) + "</span>" if links else ""


def abstract_block(item: Source | Paper, citations: list[Citation], *, open_: bool = False) -> str:
    """The full abstract, folded, with the cited quotes highlighted, and the links found in it."""
    found = [url for url in item.links if safe_url(url)]
    extra = ('<div class="src-found">Links in the abstract: ' + ", ".join(link(u, u) for u in found) + "</div>"
             if found else "")
    return (f'<details class="src-abstract"{" open" if open_ else ""}><summary>Full abstract</summary>'
            f'<p>{highlight(item.abstract, citations)}</p>{extra}</details>')


def _quote(citation: Citation, turn: str) -> str:
    fact = "" if citation.field == "abstract" else f' <span class="src-field">(listed {esc(citation.field)})</span>'
    return (f'<blockquote class="src-quote" id="{turn}-src-{citation.number}"><span class="src-num">'
            f"[{citation.number}]</span> {esc(citation.quote)}{fact}</blockquote>")


def source_item(source: Source, citations: list[Citation], turn: str) -> str:
    quotes = "".join(_quote(c, turn) for c in citations)
    return (f'<li class="src-item" data-paper-id="{esc(source.paper_id)}"><div class="src-head">'
            f'{link(source.url, source.title, cls="src-title")}</div><div class="src-sub">{meta_line(source)}'
            f"{paper_links(source)}</div>{quotes}{abstract_block(source, citations)}</li>")


def render_evidence(answer: Answer, turn: str) -> str:
    """The answer's sources: each cited paper with its quotes, then the other retrieved papers, folded (after
    an abstention, the closest papers, open)."""
    by_paper: dict[str, list[Citation]] = {}
    for citation in sorted(answer.citations, key=lambda c: c.number):
        by_paper.setdefault(citation.paper_id, []).append(citation)
    sources = {s.paper_id: s for s in answer.sources}
    cited = [source_item(sources.get(pid) or Source(pid, cs[0].title, cs[0].url, 0.0), cs, turn)
             for pid, cs in by_paper.items()]
    rest = [source_item(s, [], turn) for s in answer.sources if s.paper_id not in by_paper]
    parts = ['<div class="rag-evidence">']
    if cited:
        parts.append(f'<div class="rag-evidence-head">Sources</div><ol class="src-list">{"".join(cited)}</ol>')
    if rest and cited:
        parts.append(f'<details class="rag-more"><summary>Also retrieved: {len(rest)} more '
                     f'paper{"s" if len(rest) != 1 else ""}</summary><ul class="src-list">{"".join(rest)}</ul></details>')
    elif rest:
        parts.append(f'<div class="rag-evidence-head">Closest papers</div><ul class="src-list">{"".join(rest)}</ul>')
    parts.append("</div>")
    return "".join(parts) if cited or rest else ""


# --------------------------------------------------------------------------------------------------------
# Filters, header and the Papers tab
# --------------------------------------------------------------------------------------------------------

def render_paper(paper: Paper) -> str:
    """A paper picked in the Papers tab: title, facts, links and the whole abstract."""
    return (f'<article class="rag-paper" data-paper-id="{esc(paper.paper_id)}"><div class="src-head">'
            f'{link(paper.url, paper.title, cls="src-title")}</div><div class="src-sub">{meta_line(paper)}'
            f'{paper_links(paper)}</div>{abstract_block(paper, [], open_=True)}</article>')


def render_filter_summary(filters: Filters | None, problem: str | None, shown: int, total: int) -> str:
    """The Papers tab's line: how many papers the filters and search leave, and the filters as chips."""
    if problem:
        return f'<div class="rag-notice rag-error" role="alert">{esc(problem)}</div>'
    active = chips(filters) if filters and not filters.is_empty() else ""
    cut = f" (the table lists the newest {TABLE_ROWS:,}; search to narrow)" if shown > TABLE_ROWS else ""
    return f'<div class="rag-papers-count">{shown:,} of {total:,} papers {active}{cut}</div>'


def paper_rows(papers: list[Paper]) -> pd.DataFrame:
    """The Papers tab's table (the first TABLE_ROWS papers): a year-less date is shown as the listing gives it."""
    rows = [[p.title, p.date if p.year else f"{p.date_text} (no year)" if p.date_text else "not listed", p.authors,
             p.upvotes] for p in papers[:TABLE_ROWS]]
    return pd.DataFrame(rows, columns=PAPER_COLUMNS).astype({"Authors": "Int64", "Upvotes": "Int64"})


def month_counts(papers: list[Paper]) -> pd.DataFrame:
    """Papers per month, for the bar plot."""
    return pd.DataFrame(catalog.per_month(papers), columns=["month", "papers"])


def upvotes_by_date(papers: list[Paper]) -> pd.DataFrame:
    """Each dated paper's upvotes, for the scatter plot (a paper without a year or upvotes has no point)."""
    points = [(p.date, p.upvotes, p.title) for p in papers if p.year and p.upvotes is not None]
    return pd.DataFrame(points, columns=["date", "upvotes", "title"]).astype({"date": "datetime64[ns]"})


def chat_messages(turns: list[dict]) -> list[dict]:
    """The chat's messages from the session's turns (a turn without a question shows only its reply)."""
    messages = []
    for turn in turns:
        if turn.get("user") is not None:
            messages.append({"role": "user", "content": turn["user"]})
        messages.append({"role": "assistant", "content": turn["bot"]})
    return messages
