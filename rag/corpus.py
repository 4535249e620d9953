"""Parse paper sources into paper records: Hugging Face "Daily Papers" listing pages (saved as text), the
Hugging Face daily papers API's JSON, the arXiv metadata snapshot's JSON Lines, and our own JSONL. The format
is told from the content, not the file name.

The listing quirks handled here are catalogued in docs/CORPUS.md. A bad entry is reported with its file
and line and skipped; every good entry of the same file is still returned.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
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
# JSONL files larger than this show a progress bar while they are read.
PROGRESS_BYTES = 8 * 1024 * 1024
SOURCE_SUFFIXES = {".txt", ".json", ".jsonl", ".ndjson"}
# Fields only the arXiv metadata snapshot's records have.
ARXIV_FIELDS = {"categories", "versions", "authors_parsed", "update_date"}
PAPER_URL = "https://huggingface.co/papers?q={}"
HF_PAPER_URL = "https://huggingface.co/papers/{}"
ARXIV_URL = "https://arxiv.org/abs/{}"
# New-style (2401.01234, 2401.01234v2) and old-style (cs/0112017) arXiv ids.
ARXIV_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")

URL_PATTERN = re.compile(r"(?:https?://|www\.|github\.com/)[^\s{}<>\"'`]+", re.IGNORECASE)
URL_TRAILING_JUNK = ".,;:!?'\")]}*"


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
    arxiv_id: str | None = None  # from the Hugging Face API or the arXiv snapshot; listing pages have none
    author_names: list[str] = field(default_factory=list)  # where the source names them

    @property
    def arxiv_url(self) -> str | None:
        return ARXIV_URL.format(self.arxiv_id) if self.arxiv_id else None

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
        """Changes when anything stored about the paper changes (fields left empty are not part of it, so a
        paper's hash did not change when fields were added)."""
        # A shallow copy: the other fields are strings, numbers and lists of strings (asdict's deep copy of
        # every paper was a tenth of a 10k-paper ingest's write path).
        record = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sources"}
        for name in ("arxiv_id", "author_names"):
            if not record[name]:
                record.pop(name)
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


def paper_url(title: str, arxiv_id: str | None = None) -> str:
    """The paper's Hugging Face page; without an arXiv id (the listings carry none), Hugging Face's paper
    search for the exact title."""
    return HF_PAPER_URL.format(arxiv_id) if arxiv_id else PAPER_URL.format(quote(title, safe=""))


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
    url = meta.pop("url", None) or paper_url(title, meta.get("arxiv_id"))
    return Paper(paper_id=paper_id_for(title), title=title, abstract=abstract, url=url,
                 links=extract_links(abstract), sources=[SourceRef(file, line)], **meta)


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


def _jsonl_lines(path: Path, file: str, problems: list[Problem], progress: bool) -> Iterator[tuple[int, str | None]]:
    """The file's lines, read one at a time (an arXiv snapshot is gigabytes); undecodable ones as None."""
    size = path.stat().st_size
    bar = None
    if progress and size > PROGRESS_BYTES:
        from tqdm import tqdm

        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"reading {path.name}")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if bar is not None:
                bar.update(len(raw))
            try:
                yield number, raw.rstrip(b"\n").decode("utf-8").rstrip("\r")
            except UnicodeDecodeError as exc:
                problems.append(Problem(file, number, f"invalid UTF-8 (byte {exc.start}); entry skipped"))
                yield number, None
    if bar is not None:
        bar.close()


def _parse_jsonl(lines: Iterable[tuple[int, str | None]], file: str, problems: list[Problem],
                 categories: set[str] | None = None) -> tuple[list[Paper], int]:
    """Our JSONL (`title`, `abstract`, optional `authors` count, `date`, `upvotes`, `url`, `id`) and the arXiv
    snapshot's records (told apart by their `categories`/`versions` fields), line by line."""
    papers, raw_entries = [], 0
    for number, text in lines:
        if text is None or not text.strip():
            continue
        raw_entries += 1
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            _require_text(record)
            if ARXIV_FIELDS & record.keys():
                paper = _arxiv_paper(record, file, number, categories)
                if paper is not None:
                    papers.append(paper)
                continue
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
                    meta[key] = _count(record[key], key)
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


def _arxiv_paper(record: dict, file: str, number: int, categories: set[str] | None) -> Paper | None:
    """One record of the arXiv metadata snapshot (`id`, `title`, `abstract`, `authors`, `categories`,
    `update_date`, `versions`); None when its categories are not among those wanted."""
    if categories and not categories & set(str(record.get("categories", "")).split()):
        return None
    arxiv_id, title, abstract = _arxiv_entry(record["id"], record["title"], record["abstract"])
    if record.get("authors_parsed"):
        names = [" ".join(p for p in (parts[1:2] + parts[:1]) if p) for parts in record["authors_parsed"]]
    else:
        names = [n.strip() for n in re.split(r",\s*|\s+and\s+", str(record.get("authors", ""))) if n.strip()]
    date = _arxiv_date(record)
    return _make_paper(title, abstract, file, number, arxiv_id=arxiv_id, author_names=names,
                       authors=len(names) or None, date=date, date_text=date)


def _arxiv_entry(arxiv_id: object, title: object, abstract: object) -> tuple[str, str, str]:
    """An arXiv-identified entry's id, title and abstract, line breaks undone; ValueError when one is unusable."""
    arxiv_id = str(arxiv_id).strip()
    if not ARXIV_ID.match(arxiv_id):
        raise ValueError(f"id {_preview(arxiv_id)} is not an arXiv id")
    title, abstract = " ".join(str(title).split()), " ".join(str(abstract).split())
    if not title or not abstract:
        raise ValueError("empty title or abstract")
    return arxiv_id, title, abstract


def _count(value: object, key: str) -> int | None:
    """An author or upvote count: a whole number from 0 to MAX_COUNT, or None when absent."""
    if value is None:
        return None
    count = int(value)
    if not 0 <= count <= MAX_COUNT:
        raise ValueError(f"{key} must be a count from 0 to {MAX_COUNT:,}, got {count}")
    return count


def _require_text(record: object) -> None:
    # JSON can spell a lone UTF-16 surrogate ("\ud800"), which is not text: it cannot even be hashed or stored.
    if LONE_SURROGATE.search(json.dumps(record, ensure_ascii=False)):
        raise ValueError("a \\ud800-\\udfff escape that is not valid Unicode text")


def _arxiv_date(record: dict) -> str | None:
    """The first version's date ("Mon, 2 Apr 2007 19:18:42 GMT"), else `update_date`."""
    versions = record.get("versions") or []
    if versions and isinstance(versions[0], dict) and versions[0].get("created"):
        try:
            return email.utils.parsedate_to_datetime(versions[0]["created"]).date().isoformat()
        except (TypeError, ValueError):
            pass
    update = str(record.get("update_date") or "")
    return _jsonl_date(update)[0] if update else None


def _parse_hf_api(data: bytes, file: str, problems: list[Problem]) -> tuple[list[Paper], int]:
    """The Hugging Face daily papers API (`GET /api/daily_papers`): a JSON list of items with `title`,
    `publishedAt` and `paper` (`id`: the arXiv id, `summary`, `authors`: [{`name`}], `upvotes`)."""
    try:
        items = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(file, getattr(exc, "lineno", None), f"not a JSON list of papers ({exc}); skipped"))
        return [], 0
    if not isinstance(items, list):
        problems.append(Problem(file, None, "JSON that is not a list of papers; skipped"))
        return [], 0
    papers = []
    for position, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
                raise ValueError("no `paper` object")
            _require_text(item)
            paper = item["paper"]
            arxiv_id, title, abstract = _arxiv_entry(paper["id"], item.get("title") or paper["title"],
                                                     paper["summary"])
            names = [str(a["name"]).strip() for a in paper.get("authors") or [] if isinstance(a, dict) and a.get("name")]
            upvotes = _count(paper.get("upvotes"), "upvotes")
            published = str(item.get("publishedAt") or paper.get("publishedAt") or "")[:10]
            date = _jsonl_date(published)[0] if published else None
        except (KeyError, ValueError, TypeError, OverflowError) as exc:
            reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            problems.append(Problem(file, None, f"item {position}: bad paper ({reason}); skipped"))
            continue
        papers.append(_make_paper(title, abstract, file, position, arxiv_id=arxiv_id, author_names=names,
                                  authors=len(names) or None, upvotes=upvotes, date=date, date_text=date))
    return papers, len(items)


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


def detect_format(head: bytes) -> str:
    """"hf-api" (a JSON list), "jsonl" (a JSON object per line: ours or the arXiv snapshot) or "listing" (a
    saved listing page), from the file's first bytes."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return {b"[": "hf-api", b"{": "jsonl"}.get(start, "listing")


def parse_file(path: Path, problems: list[Problem], categories: set[str] | None = None,
               progress: bool = False) -> tuple[list[Paper], int]:
    file = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8192)
        size = path.stat().st_size
    except OSError as exc:
        problems.append(Problem(file, None, f"cannot read: {exc.strerror or exc}"))
        return [], 0
    if b"\x00" in head:
        problems.append(Problem(file, None, "binary file (NUL bytes), not a listing or JSONL; skipped"))
        return [], 0
    found = _CappedProblems(file)
    kind = detect_format(head)
    try:
        if kind == "jsonl":  # streamed: no size limit
            result = _parse_jsonl(_jsonl_lines(path, file, found, progress), file, found, categories)
        elif size > MAX_FILE_BYTES:
            problems.append(Problem(file, None, f"file is {size >> 20} MiB, over the {MAX_FILE_BYTES >> 20} MiB limit; skipped"))
            return [], 0
        else:
            parse = _parse_hf_api if kind == "hf-api" else _parse_listing
            result = parse(path.read_bytes(), file, found)
    except OSError as exc:
        problems.append(Problem(file, None, f"cannot read: {exc.strerror or exc}"))
        return [], 0
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
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES)
            if not found:
                problems.append(Problem(str(path), None, "folder has no .txt, .json or .jsonl files"))
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            problems.append(Problem(str(path), None, "no such file or folder"))
    return files


def merge_duplicates(papers: list[Paper], problems: list[Problem]) -> list[Paper]:
    """One paper per arXiv id where both copies have one, else per normalized title: metadata from whichever
    copy has it, every source remembered."""
    merged: dict[str, Paper] = {}  # normalized title -> paper
    by_arxiv_id: dict[str, Paper] = {}
    for paper in papers:
        key = normalize_title(paper.title)
        kept = by_arxiv_id.get(paper.arxiv_id) if paper.arxiv_id else None
        kept = kept or merged.get(key)
        if kept is None:
            merged[key] = paper
            if paper.arxiv_id:
                by_arxiv_id[paper.arxiv_id] = paper
            continue
        kept.sources.extend(paper.sources)
        if " ".join(paper.abstract.split()) != " ".join(kept.abstract.split()):
            problems.append(Problem(paper.sources[0].file, paper.sources[0].line,
                                    f"duplicate of {kept.title!r} with a different abstract; first copy kept"))
        if not kept.arxiv_id and paper.arxiv_id:
            kept.arxiv_id = paper.arxiv_id
            by_arxiv_id[paper.arxiv_id] = kept
        if kept.url == paper_url(kept.title):  # a search link gives way to a real one
            kept.url = paper.url if paper.url != paper_url(paper.title) else paper_url(kept.title, kept.arxiv_id)
        if not kept.author_names and paper.author_names:
            kept.author_names = paper.author_names
        for name in ("authors", "org", "date", "date_text", "upvotes"):
            mine, theirs = getattr(kept, name), getattr(paper, name)
            if mine is None:
                setattr(kept, name, theirs)
            elif theirs is not None and theirs != mine:
                problems.append(Problem(paper.sources[0].file, paper.sources[0].line,
                                        f"duplicate of {kept.title!r} says {name}={theirs!r}, "
                                        f"first copy says {mine!r}; first kept"))
    return list(merged.values())


def load_corpus(paths: list[Path], categories: set[str] | None = None, progress: bool = False) -> ParseResult:
    """Every paper of the files (folders: their .txt, .json and .jsonl files), duplicates merged. `categories`
    keeps only the arXiv snapshot's records in one of them (other formats have none and are kept)."""
    problems: list[Problem] = []
    papers, raw_entries = [], 0
    for path in expand_paths([Path(p) for p in paths], problems):
        found, entries = parse_file(path, problems, categories, progress)
        papers.extend(found)
        raw_entries += entries
    return ParseResult(merge_duplicates(papers, problems), problems, raw_entries)
