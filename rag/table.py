"""The paper table: every stored paper, with the BM25 index, term statistics, filter columns and the paper and
sentence vectors (`rag.vectors`) derived from it.

Chroma is the source of truth; the table is rebuilt from it when needed. Rebuilding reads every paper record
and analyses every abstract (about a minute at 100k papers), so a built table is also saved to disk under the
collection's *content digest*: a hash of every stored paper's record hash, which `rag ingest` records in the
collection's metadata when its writes complete (and clears before it starts writing). A saved table is used only
when its digest is the collection's current one; no digest (an ingest running or interrupted), a missing or
unreadable file all mean a rebuild from Chroma. Re-running an unchanged ingest or restarting the app is then a
file read. The table is a pickle, its papers a file of one pickle each and its vectors a raw float16 matrix
beside it (the papers memory-mapped, the vectors read by row range): like the Chroma folder beside them, the
data dir is trusted.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import math
import mmap
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np

from rag.config import RagSettings
from rag.corpus import Paper
from rag.names import acronym_expansions, lead_spellings, title_name
from rag.text import folded, terms
from rag.vectors import PaperVectors, open_matrix

logger = logging.getLogger(__name__)
# Bumped when the pickled layout changes: files of another layout are ignored and rebuilt.
TABLE_FORMAT = 9
DIGEST_KEY = "content_digest"
WORD = re.compile(r"[\w^*]+")
# Papers kept decoded by a `PaperStore`: a question reads a few dozen.
PAPERS_CACHED = 2048
# From this many papers on, the dense scan ranks every paper on a projection of its vector first, then a
# shortlist exactly (`PaperIndex.dense_scores`); below it the exact scan of every paper takes about a millisecond.
PROJECTED_FROM_PAPERS = 20_000
PROJECTION_DIMENSIONS = 192
T = TypeVar("T")


def title_lead(title: str) -> str:
    """The name a title leads with ("LServe" of "LServe: Efficient …"), lower-cased; "" when it has none."""
    return folded(title_name(title)).lower()


def content_digest(papers: Iterable[Paper]) -> str:
    """Identifies what is stored, not how it got there: the same papers give the same digest."""
    digest = hashlib.sha256()
    for paper_id, record_hash in sorted((p.paper_id, p.record_hash) for p in papers):
        digest.update(f"{paper_id}:{record_hash}\n".encode())
    return digest.hexdigest()[:32]


class PaperStore(Mapping[str, Paper]):
    """The papers of a saved table, each read from the table's papers file when asked for. At 100k papers
    the papers as Python objects were the largest part of a serving process (about 300 MiB); a question reads
    a few dozen of them. The file is memory-mapped: the system keeps what is read in its page cache, shared
    between processes, and evicts it under pressure."""

    def __init__(self, order: list[str], offsets: np.ndarray):
        self.order = order
        self.offsets = offsets  # row -> start of its pickled paper in the file; one more for the end
        self._rows = {paper_id: row for row, paper_id in enumerate(order)}
        self._blob: mmap.mmap | bytes | None = None
        self._read = functools.lru_cache(maxsize=PAPERS_CACHED)(self._load)

    def __getstate__(self) -> dict:
        return {"order": self.order, "offsets": self.offsets}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["order"], state["offsets"])

    def attach(self, path: Path) -> bool:
        """Maps the papers file; False when it is missing or not the size the offsets say."""
        try:
            with open(path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size != int(self.offsets[-1]):
                    return False
                self._blob = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if len(self.order) else b""
        except OSError:
            return False
        return True

    def _load(self, row: int) -> Paper:
        return pickle.loads(self._blob[int(self.offsets[row]):int(self.offsets[row + 1])])

    def __getitem__(self, paper_id: str) -> Paper:
        return self._read(self._rows[paper_id])

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self.order)

    def __len__(self) -> int:
        return len(self.order)


def write_atomically(path: Path, write: Callable[[BinaryIO], T]) -> T:
    """What `write` returns after writing to a temporary file beside `path`, renamed to `path` once complete,
    so a reader never sees half a file; the temporary file goes on any failure."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False)
    try:
        with handle:
            result = write(handle)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return result


def write_papers(path: Path, papers: Mapping[str, Paper], order: list[str]) -> np.ndarray:
    """Writes each paper pickled, in `order`, to `path`; their offsets."""
    def write(handle: BinaryIO) -> np.ndarray:
        offsets = np.zeros(len(order) + 1, dtype=np.int64)
        for row, paper_id in enumerate(order):
            record = pickle.dumps(papers[paper_id], protocol=pickle.HIGHEST_PROTOCOL)
            handle.write(record)
            offsets[row + 1] = offsets[row] + len(record)
        return offsets

    return write_atomically(path, write)


def _pickled(content: object) -> Callable[[BinaryIO], None]:
    return lambda handle: pickle.dump(content, handle, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class PaperTable:
    digest: str
    papers: Mapping[str, Paper]  # a dict while built, a `PaperStore` once saved or loaded
    order: list[str]  # BM25 row -> paper_id
    # bm25s's index as plain arrays, so that loading the table needs neither bm25s nor the scipy it imports
    # (0.1 s of a cold `rag ask`): per term, the papers it occurs in and their score (CSC; Lucene variant).
    bm25_scores_by_term: dict[str, np.ndarray | int]
    bm25_term_ids: dict[str, int]
    numbers: dict[str, np.ndarray]  # filter columns in `order`, NaN where unknown
    idf: dict[str, float]
    max_idf: float
    vocabulary: set[str]  # every lower-cased word of every title and abstract, accents folded
    # The names titles lead with ("magma" of "Magma: …"), lower-cased, and the papers whose titles lead with each:
    # a name of a question finds its paper by its title even when the name's words are too common for BM25.
    title_leads: dict[str, tuple[str, ...]]
    # The same names as their titles spell them, by their letters and digits ("webrl" -> "WebRL"): a question's
    # name typed otherwise is respelled (`names.respelled`).
    lead_spellings: dict[str, str]
    # Each acronym the papers spell out somewhere, with its words ("SOTA" -> "state of the art"): a paper that
    # writes the words meets a condition the question names by the acronym.
    acronyms: dict[str, str]
    vectors: PaperVectors
    # Each paper's own vector (float32, in `order`): questions are scored against all of them exactly, which at
    # 100k papers is a few milliseconds and needs no ANN index in the serving process (`PaperIndex.dense_scores`).
    paper_matrix: np.ndarray

    @classmethod
    def build(cls, papers: Iterable[Paper], digest: str, vectors: PaperVectors) -> PaperTable:
        import bm25s

        by_id = {p.paper_id: p for p in papers}
        order = list(by_id)
        # Terms become integer ids as they are read: 100k papers' terms as Python strings would take gigabytes.
        term_ids: dict[str, int] = {}
        documents: list[np.ndarray] = []
        distinct: list[np.ndarray] = []
        vocabulary: set[str] = set()
        for paper in by_id.values():
            text = f"{paper.title} {paper.abstract}"
            vocabulary.update(WORD.findall(folded(text).lower()))
            # The title counts twice: it names what the paper is about.
            ids = np.array([term_ids.setdefault(t, len(term_ids)) for t in terms(paper.title) + terms(text)],
                           dtype=np.int32)
            documents.append(ids)
            distinct.append(np.unique(ids))
        bm25_scores_by_term, bm25_term_ids = {}, {}
        if order:
            bm25 = bm25s.BM25()
            bm25.index((documents, dict(term_ids)), show_progress=False)  # bm25s adds its own "" term
            bm25_scores_by_term, bm25_term_ids = bm25.scores, bm25.vocab_dict
        document_frequency = np.bincount(np.concatenate(distinct or [np.zeros(0, np.int32)]), minlength=len(term_ids))
        idf = {term: math.log(1 + len(order) / df) for term, df in zip(term_ids, document_frequency.tolist())}
        numbers = {key: np.array([np.nan if getattr(p, key) is None else getattr(p, key) for p in by_id.values()],
                                 dtype=np.float64) for key in ("date_number", "upvotes", "authors")}
        title_leads: dict[str, tuple[str, ...]] = {}
        for paper_id, paper in by_id.items():
            if lead := title_lead(paper.title):
                title_leads[lead] = (*title_leads.get(lead, ()), paper_id)
        paper_matrix = vectors.paper_rows(order)
        vectors.written.clear()  # held by `paper_matrix` now
        spellings = lead_spellings([p.title for p in by_id.values()], (p.abstract for p in by_id.values()))
        expansions = acronym_expansions(p.abstract for p in by_id.values())
        return cls(digest, by_id, order, bm25_scores_by_term, bm25_term_ids, numbers, idf,
                   max(idf.values(), default=1.0), vocabulary, title_leads, spellings, expansions, vectors,
                   paper_matrix)

    @functools.cached_property
    def folded_titles(self) -> dict[str, str]:
        """Each paper's title, lower-cased and accents folded: where a comparison's side typed as a title's words
        is looked up (`evidence._titled`)."""
        return {paper_id: folded(p.title).lower() for paper_id, p in self.papers.items()}

    @functools.cached_property
    def acronym_of(self) -> dict[str, str]:
        """`acronyms` the other way round ("big bench hard" -> "BBH"): a paper that writes only the acronym meets a
        condition the question spells out."""
        return {words: acronym for acronym, words in self.acronyms.items()}

    @functools.cached_property
    def paper_projection(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(basis, projected rows): the paper vectors on their `PROJECTION_DIMENSIONS` leading principal
        directions (uncentred, which keeps dot products best), for a cheap first ranking of every paper; None below
        `PROJECTED_FROM_PAPERS`. Computed on first use, not saved: 0.3 s and 77 MB at 100k papers (docs/
        BENCHMARKS.md, thirteenth pass)."""
        matrix = self.paper_matrix
        if len(matrix) < PROJECTED_FROM_PAPERS:
            return None
        _, directions = np.linalg.eigh((matrix.T @ matrix).astype(np.float64))
        basis = np.ascontiguousarray(directions[:, ::-1][:, :PROJECTION_DIMENSIONS], dtype=np.float32)
        return basis, matrix @ basis

    def bm25_scores(self, query_terms: list[str]) -> np.ndarray:
        """Every paper's BM25 score (in `order`) for the terms, as bm25s's `get_scores` computes it but summed
        with `np.bincount`: bm25s's `np.add.at` took about 20 ms per question at 100k papers."""
        ids = np.asarray([self.bm25_term_ids[t] for t in query_terms if t in self.bm25_term_ids], dtype=np.int64)
        if not len(ids):
            return np.zeros(len(self.order))
        matrix = self.bm25_scores_by_term
        spans = zip(matrix["indptr"][ids].tolist(), matrix["indptr"][ids + 1].tolist())
        papers, scores = zip(*((matrix["indices"][a:b], matrix["data"][a:b]) for a, b in spans))
        return np.bincount(np.concatenate(papers), weights=np.concatenate(scores), minlength=len(self.order))


def tables_dir(settings: RagSettings) -> Path:
    return settings.data_dir / "tables"


def table_path(settings: RagSettings, collection_name: str, digest: str) -> Path:
    return tables_dir(settings) / f"{collection_name}-{digest}-v{TABLE_FORMAT}.pkl"


def hashes_path(settings: RagSettings, collection_name: str, digest: str) -> Path:
    """Each stored paper's record hash: all an unchanged re-ingest needs to read."""
    return tables_dir(settings) / f"{collection_name}-{digest}-v{TABLE_FORMAT}.hashes"


def _cached(path: Path) -> object | None:
    """The object saved at `path`, or None: a missing, truncated or foreign file is only a cache miss (what it
    holds is rebuilt from Chroma)."""
    if not path.exists():
        return None
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception:
        return None


def load_record_hashes(settings: RagSettings, collection_name: str, digest: str) -> dict[str, str] | None:
    """Paper id -> record hash of the table saved under this digest, or None (none saved or unreadable)."""
    hashes = _cached(hashes_path(settings, collection_name, digest)) if digest else None
    return hashes if isinstance(hashes, dict) else None


def sources_path(settings: RagSettings, collection_name: str, digest: str) -> Path:
    """What the ingest that left this digest read: its source files' sizes and modification times, its options
    and its report (`rag.index.ingest` skips parsing when they are the same again)."""
    return tables_dir(settings) / f"{collection_name}-{digest}-v{TABLE_FORMAT}.sources"


def load_sources(settings: RagSettings, collection_name: str, digest: str) -> dict | None:
    sources = _cached(sources_path(settings, collection_name, digest)) if digest else None
    return sources if isinstance(sources, dict) else None


def save_sources(settings: RagSettings, collection_name: str, digest: str, sources: dict) -> None:
    """Written like the table (a temporary file renamed); a failure only costs the next ingest a parse."""
    path = sources_path(settings, collection_name, digest)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, _pickled(sources))
    except OSError as exc:
        logger.warning("Could not save %s (%s); the next unchanged ingest parses its sources again.", path, exc)


def matrix_path(settings: RagSettings, collection_name: str, digest: str) -> Path:
    """The table's vectors (`PaperVectors.matrix`), written by `rag.vectors.VectorWriter`."""
    return tables_dir(settings) / f"{collection_name}-{digest}-v{TABLE_FORMAT}.f16"


def papers_path(settings: RagSettings, collection_name: str, digest: str) -> Path:
    """The table's papers, one pickle each (`PaperStore`), written by `save`."""
    return tables_dir(settings) / f"{collection_name}-{digest}-v{TABLE_FORMAT}.papers"


def load_saved(settings: RagSettings, collection_name: str, digest: str) -> PaperTable | None:
    """The table saved under this digest with its papers mapped and its vectors open, or None (none saved, unreadable,
    another layout, or its papers or matrix missing)."""
    table = _cached(table_path(settings, collection_name, digest)) if digest else None
    if not isinstance(table, PaperTable) or table.digest != digest or not isinstance(table.papers, PaperStore):
        return None
    if not table.papers.attach(papers_path(settings, collection_name, digest)):
        return None
    return table if open_matrix(matrix_path(settings, collection_name, digest), table.vectors) else None


def save(settings: RagSettings, collection_name: str, table: PaperTable, *, remove_others: bool = False) -> None:
    """Written to temporary files and renamed, so a reader never loads half a table (the papers file first,
    then the table that points into it); its matrix is already at
    `matrix_path` (a table is saved after it). Only the writer (ingest, under its lock) removes the
    collection's other tables: a reader saving an older table must not delete the newer one. A failure to
    write is only a warning: the table is a cache, rebuilt from Chroma when missing."""
    path = table_path(settings, collection_name, table.digest)
    papers_file = papers_path(settings, collection_name, table.digest)
    hashes = {paper_id: paper.record_hash for paper_id, paper in table.papers.items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = PaperStore(table.order, write_papers(papers_file, table.papers, table.order))
        if not store.attach(papers_file):
            raise OSError(f"{papers_file} changed while it was written")
        write_atomically(path, _pickled(dataclasses.replace(table, papers=store)))
        write_atomically(hashes_path(settings, collection_name, table.digest), _pickled(hashes))
    except OSError as exc:
        for target in (path, hashes_path(settings, collection_name, table.digest), papers_file,
                       matrix_path(settings, collection_name, table.digest)):
            target.unlink(missing_ok=True)
        logger.warning("Could not save the paper table to %s (%s); it will be rebuilt from Chroma when needed.",
                       path, exc)
        return
    table.papers = store  # from here on read from the file, as a process loading the table does
    if remove_others:
        keep = {path, matrix_path(settings, collection_name, table.digest), papers_file,
                hashes_path(settings, collection_name, table.digest),
                sources_path(settings, collection_name, table.digest)}
        for suffix in ("pkl", "f16", "hashes", "sources", "papers"):
            for old in path.parent.glob(f"{collection_name}-*.{suffix}"):
                if old not in keep:
                    old.unlink(missing_ok=True)
