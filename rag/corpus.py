"""Parse Hugging Face "Daily Papers" listing pages (saved as text) and JSONL into paper records.

The listing quirks handled here are catalogued in docs/CORPUS.md. A bad entry is reported with its file
and line and skipped; every good entry of the same file is still returned.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from rag.text import LONE_SURROGATE

MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
# `Jun 10`, `Dec 24, 2024`, and either one followed by an upvote count (`Oct 1 2`, `Dec 24, 2024 2`).
DATE_LINE = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{1,2})(?:, (\d{4}))?(?: (\d+))?$")
AUTHORS_LINE = re.compile(r"^\s*\u2022\s*(\d+) authors?$")
HEADER_LINES = {
    "new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
    "byAK and the research community",
}
# Titles in the bundled pages are 30-179 characters, abstracts 1365-1920: length separates them.
MAX_TITLE_CHARS = 300
MIN_ABSTRACT_CHARS = 200
MAX_FILE_BYTES = 200 * 1024 * 1024
# Author and upvote counts in JSONL: larger (or negative) numbers are data errors, and Chroma stores int64.
MAX_COUNT = 10**9
# Problems listed one by one per file; the rest are counted in one line.
MAX_PROBLEMS_PER_FILE = 100
PAPER_URL = "https://huggingface.co/papers?q={}"

URL_PATTERN = re.compile(r"(?:https?://|www\.|github\.com/)[^\s{}<>\"'`]+", re.IGNORECASE)
URL_TRAILING_JUNK = ".,;:!?'\")]}*"
# JSON can spell a lone UTF-16 surrogate ("\ud800"), which is not text: it cannot even be hashed or stored.


@dataclass
class SourceRef:
    file: str
    line: int


@dataclass
class Paper:
    paper_id: str
    title: str
    abstract: str
    url: str
    authors: int | None = None
    org: str | None = None
    date: str | None = None  # ISO `YYYY-MM-DD`, or ISO 8601's year-less `--MM-DD` when the page omits the year
    date_text: str | None = None  # the date exactly as the page shows it
    upvotes: int | None = None
    links: list[str] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date and self.date[0].isdigit() else None

    @property
    def date_number(self) -> int | None:
        """YYYYMMDD as an int, for numeric range filters (None when the year is unknown)."""
        return int(self.date.replace("-", "")) if self.year else None

    @property
    def text_hash(self) -> str:
        """Changes only when the embedded text changes."""
        return hashlib.sha256(f"{self.title}\n{self.abstract}".encode()).hexdigest()[:16]

    @property
    def record_hash(self) -> str:
        """Changes when anything stored about the paper changes."""
        record = asdict(self)
        record.pop("sources")
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Paper:
        data = dict(data)
        data["sources"] = [SourceRef(**s) for s in data.get("sources", [])]
        return cls(**data)

    def metadata_facts(self) -> dict[str, str]:
        """The metadata an answer can cite, each as the text it is quoted as."""
        facts = {}
        if self.authors is not None:
            facts["authors"] = f"{self.authors} authors"
        if self.org:
            facts["org"] = self.org
        if self.date_text:
            facts["date"] = self.date_text
        if self.upvotes is not None:
            facts["upvotes"] = f"{self.upvotes} upvotes"
        return facts


@dataclass
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass
class ParseResult:
    papers: list[Paper]
    problems: list[Problem]
    raw_entries: int


def normalize_title(title: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def paper_id_for(title: str) -> str:
    norm = normalize_title(title)
    ascii_words = unicodedata.normalize("NFKD", norm).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_words).strip("-")[:48].rstrip("-")
    return f"{slug or 'paper'}-{hashlib.sha1(norm.encode()).hexdigest()[:8]}"


def paper_url(title: str) -> str:
    # The listings carry no arXiv id, so the link is Hugging Face's paper search for the exact title.
    return PAPER_URL.format(quote(title, safe=""))


def extract_links(abstract: str) -> list[str]:
    links = []
    for match in URL_PATTERN.finditer(abstract.replace("\\url{", " ")):
        url = match.group(0)
        while url and url[-1] in URL_TRAILING_JUNK:
            # keep a closing bracket that closes one opened inside the URL
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if url.lower().startswith(("www.", "github.com/")):
            url = "https://" + url
        if len(url) > len("https://x.y") and url not in links:
            links.append(url)
    return links


def parse_date(text: str) -> tuple[str, str, int | None] | None:
    """`Dec 24, 2024 2` -> ("2024-12-24", "Dec 24, 2024", 2); no upvote number means 0 upvotes."""
    match = DATE_LINE.match(text.strip())
    if not match:
        return None
    month, day, year, upvotes = match.groups()
    month_day = f"{MONTHS[month]:02d}-{int(day):02d}"
    iso = f"{year}-{month_day}" if year else f"--{month_day}"
    shown = f"{month} {int(day)}, {year}" if year else f"{month} {int(day)}"
    return iso, shown, int(upvotes) if upvotes else 0


def _make_paper(title: str, abstract: str, file: str, line: int, **meta) -> Paper:
    return Paper(
        paper_id=paper_id_for(title), title=title, abstract=abstract, url=meta.pop("url", None) or paper_url(title),
        links=extract_links(abstract), sources=[SourceRef(file, line)], **meta,
    )


def _decode_lines(data: bytes, file: str, problems: list[Problem]) -> list[tuple[int, str | None]]:
    """Lines numbered from 1; a line that is not UTF-8 becomes None (its entry is skipped later)."""
    lines = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append((number, raw.decode("utf-8").rstrip("\r")))
        except UnicodeDecodeError as exc:
            problems.append(Problem(file, number, f"invalid UTF-8 (byte {exc.start}); entry skipped"))
            lines.append((number, None))
    return lines


def _parse_listing(data: bytes, file: str, problems: list[Problem]) -> tuple[list[Paper], int]:
    elements = [(n, text.strip() if text is not None else None)
                for n, text in _decode_lines(data, file, problems) if text is None or text.strip()]
    i = 0
    # Header boilerplate, then the page's own date line, which looks like an entry date but is not one.
    while i < len(elements) and elements[i][1] in HEADER_LINES:
        i += 1
    if i < len(elements) and elements[i][1] is not None and DATE_LINE.match(elements[i][1]):
        i += 1

    papers, raw_entries = [], 0
    while i < len(elements):
        start, title = elements[i]
        if title is not None and (len(title) > MAX_TITLE_CHARS or title == "\u00b7" or AUTHORS_LINE.match(title)
                                  or DATE_LINE.match(title)):
            problems.append(Problem(file, start, f"expected a title, found {_preview(title)}; line skipped"))
            i += 1
            continue
        raw_entries += 1
        abstract = elements[i + 1][1] if i + 1 < len(elements) else ""
        if abstract is not None and len(abstract) < MIN_ABSTRACT_CHARS:
            problems.append(Problem(file, start, f"entry {_preview(title or '')} is truncated (no abstract follows); skipped"))
            i += 1
            continue
        i += 2
        meta: dict = {}
        undecodable = title is None or abstract is None
        # Metadata block: an author-count (or organisation) line, a lone `·`, then the date line.
        if i + 1 < len(elements) and elements[i + 1][1] == "\u00b7":
            who = elements[i][1]
            date_line = elements[i + 2][1] if i + 2 < len(elements) else None
            parsed = parse_date(date_line) if date_line else None
            if who is None or parsed is None:
                undecodable = undecodable or who is None or (i + 2 < len(elements) and date_line is None)
                if not undecodable:
                    problems.append(Problem(file, elements[i][0], f"malformed metadata for {title!r}; kept without it"))
            else:
                authors = AUTHORS_LINE.match(who)
                if authors:
                    meta["authors"] = int(authors.group(1))
                else:
                    meta["org"] = who
                meta["date"], meta["date_text"], meta["upvotes"] = parsed
            i += 3
        if undecodable:
            continue  # already reported, line by line, by _decode_lines
        papers.append(_make_paper(title, abstract, file, start, **meta))
    return papers, raw_entries


def _parse_jsonl(data: bytes, file: str, problems: list[Problem]) -> tuple[list[Paper], int]:
    papers, raw_entries = [], 0
    for number, text in _decode_lines(data, file, problems):
        if text is None or not text.strip():
            continue
        raw_entries += 1
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            if LONE_SURROGATE.search(json.dumps(record, ensure_ascii=False)):
                raise ValueError("a \\ud800-\\udfff escape that is not valid Unicode text")
            title, abstract = str(record["title"]).strip(), str(record["abstract"]).strip()
            if not title or not abstract:
                raise ValueError("empty title or abstract")
            url = record.get("url")
            if url is not None and not re.match(r"https?://\S+$", str(url)):
                problems.append(Problem(file, number, f"url {_preview(str(url))} is not an http(s) link; "
                                                      "the paper is kept with its search link instead"))
                url = None
            meta: dict = {"url": url}
            for key in ("authors", "upvotes"):
                if record.get(key) is not None:
                    meta[key] = int(record[key])
                    if not 0 <= meta[key] <= MAX_COUNT:
                        raise ValueError(f"{key} must be a count from 0 to {MAX_COUNT:,}, got {meta[key]}")
            if record.get("date"):
                meta["date"], meta["date_text"] = _jsonl_date(str(record["date"]))
        except (json.JSONDecodeError, KeyError, ValueError, TypeError, OverflowError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            problems.append(Problem(file, number, f"bad JSONL record ({reason}); skipped"))
            continue
        paper = _make_paper(title, abstract, file, number, **meta)
        if record.get("id"):
            paper.paper_id = str(record["id"])
        papers.append(paper)
    return papers, raw_entries


def _jsonl_date(text: str) -> tuple[str, str]:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a calendar date") from None
        return text, text
    parsed = parse_date(text)
    if parsed is None:
        raise ValueError(f"unrecognised date {text!r} (use YYYY-MM-DD)")
    return parsed[0], parsed[1]


def _preview(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_file(path: Path, problems: list[Problem]) -> tuple[list[Paper], int]:
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(Problem(file, None, f"file is {size >> 20} MiB, over the {MAX_FILE_BYTES >> 20} MiB limit; skipped"))
            return [], 0
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(file, None, f"cannot read: {exc.strerror or exc}"))
        return [], 0
    if b"\x00" in data[:8192]:
        problems.append(Problem(file, None, "binary file (NUL bytes), not a listing or JSONL; skipped"))
        return [], 0
    found = _CappedProblems(file)
    parse = _parse_jsonl if path.suffix.lower() in {".jsonl", ".ndjson"} else _parse_listing
    result = parse(data, file, found)
    problems.extend(found)
    if found.unlisted:
        problems.append(Problem(file, None, f"{found.unlisted:,} more problems in this file (up to line "
                                            f"{found.last_line}) not listed; is it a paper listing or JSONL?"))
    return result


class _CappedProblems(list):
    """A file's problems, the first MAX_PROBLEMS_PER_FILE of them: a 50 MB file of junk is one short report."""

    def __init__(self, file: str):
        super().__init__()
        self.file, self.unlisted, self.last_line = file, 0, None

    def append(self, problem: Problem) -> None:
        if len(self) < MAX_PROBLEMS_PER_FILE:
            super().append(problem)
        else:
            self.unlisted += 1
            self.last_line = problem.line or self.last_line


def expand_paths(paths: list[Path], problems: list[Problem]) -> list[Path]:
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in {".txt", ".jsonl", ".ndjson"})
            if not found:
                problems.append(Problem(str(path), None, "folder has no .txt or .jsonl files"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(str(path), None, "no such file or folder"))
    return files


def merge_duplicates(papers: list[Paper], problems: list[Problem]) -> list[Paper]:
    """One paper per normalized title: metadata from whichever copy has it, every source remembered."""
    merged: dict[str, Paper] = {}
    for paper in papers:
        key = normalize_title(paper.title)
        kept = merged.get(key)
        if kept is None:
            merged[key] = paper
            continue
        kept.sources.extend(paper.sources)
        if paper.abstract != kept.abstract:
            problems.append(Problem(paper.sources[0].file, paper.sources[0].line,
                                    f"duplicate of {kept.title!r} with a different abstract; first copy kept"))
        if kept.url == paper_url(kept.title):
            kept.url = paper.url
        for name in ("authors", "org", "date", "date_text", "upvotes"):
            mine, theirs = getattr(kept, name), getattr(paper, name)
            if mine is None:
                setattr(kept, name, theirs)
            elif theirs is not None and theirs != mine:
                problems.append(Problem(paper.sources[0].file, paper.sources[0].line,
                                        f"duplicate of {kept.title!r} says {name}={theirs!r}, "
                                        f"first copy says {mine!r}; first kept"))
    return list(merged.values())


def load_corpus(paths: list[Path]) -> ParseResult:
    problems: list[Problem] = []
    papers, raw_entries = [], 0
    for path in expand_paths([Path(p) for p in paths], problems):
        found, entries = parse_file(path, problems)
        papers.extend(found)
        raw_entries += entries
    return ParseResult(merge_duplicates(papers, problems), problems, raw_entries)
