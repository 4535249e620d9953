"""The Chroma index: one record per paper, its vector the normalised mean of its title's and its abstract
sentences' vectors (each text is encoded once; measured against a separate whole-text vector in docs/EVAL.md).

A record's metadata holds the paper as JSON, its filter fields, and its abstract sentences' spans and vectors
(float16, `rag.vectors`): the record's vector is the paper's, and the sentence evidence is written in the same
record, so a paper and its evidence land together or not at all. Chroma is the single source of truth. The
paper table (BM25, the in-memory papers, their vectors and the saved sentence vectors, `rag.table`) is
derived from it, so a crash between two writes can never leave them disagreeing. Writes go in batches of whole
papers, each batch in one `add` call. Questions read the saved table only (`rag.retrieval`): the embedded
index's metadata is read from Chroma's SQLite file (`collection_metadata`), so answering imports no chromadb.

The records carry no Chroma `document`: no Chroma-side text search is used (BM25 is done by bm25s over the
paper table), and Chroma's embedded write path costs more per record with documents than with metadata.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag import table as paper_table
from rag.config import RagSettings
from rag.corpus import Paper, Problem, expand_paths, load_corpus
from rag.embedding import model_name
from rag.errors import RagError
from rag.table import DIGEST_KEY, PaperTable, content_digest, matrix_path, tables_dir
from rag.text import sentence_spans
from rag.vectors import VectorWriter, sentence_metadata, sentences_from_metadata

# Bumped when the record layout or the sentence split changes; an index in another format must be rebuilt.
INDEX_FORMAT = 6
# Papers encoded together (the progress bar moves per batch).
ENCODE_BATCH_PAPERS = 64
# Papers written in one `add` call: Chroma's cost per call is high (4,096 papers take 5.1 s in batches of 64,
# 2.7 s in batches of 512, 2.4 s in batches of 1,024, 3.3 s in one), and it rejects calls of more than a few
# thousand records.
WRITE_BATCH_PAPERS = 1024


class RagIndexError(RagError, RuntimeError):
    """Base of the index errors: each message says what to do."""


class MissingIndexError(RagIndexError):
    pass


class ModelMismatchError(RagIndexError):
    pass


class ChromaUnavailableError(RagIndexError):
    pass


@dataclass
class IngestReport:
    parsed: int = 0
    raw_entries: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    skipped: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"parsed: {self.parsed} papers ({self.raw_entries} entries)",
            f"new: {self.new}", f"updated: {self.updated}", f"unchanged: {self.unchanged}",
            f"removed: {self.removed}", f"embedded: {self.embedded}",
            f"skipped: {len(self.skipped)}",
        ]
        lines += [f"  - {problem}" for problem in self.skipped]
        lines.append(f"time: {self.seconds:.1f} s")
        return "\n".join(lines)


def chroma_client(settings: RagSettings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https", settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises several types for an unreachable server
            raise ChromaUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}). "
                "Start it (`chroma run --path DIR --port PORT`) or unset RAG_CHROMA_URL to use the embedded index."
            ) from exc
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.data_dir / "chroma"), settings=chroma_settings)


def index_location(settings: RagSettings) -> str:
    return settings.chroma_url or str(settings.data_dir / "chroma")


def collection_metadata(settings: RagSettings) -> dict | None:
    """The collection's metadata read straight from embedded Chroma's SQLite file: a millisecond, where opening
    it through chromadb costs half a second of imports, most of a cold `rag ask`. None where it cannot be read
    so (a Chroma server, no such file or collection, a layout this chromadb version does not have): the caller
    then asks Chroma, which also says what is wrong. Chroma writes its metadata in one transaction, so what is
    read is what a client would see (tested against the client in tests/test_index.py)."""
    path = settings.data_dir / "chroma" / "chroma.sqlite3"
    if settings.chroma_url or not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            found = connection.execute("SELECT id FROM collections WHERE name = ?", (settings.collection,)).fetchall()
            if len(found) != 1:
                return None
            rows = connection.execute("SELECT key, str_value, int_value, float_value, bool_value FROM "
                                      "collection_metadata WHERE collection_id = ?", found[0]).fetchall()
    except sqlite3.Error:
        return None
    return {key: next((v for v in values if v is not None), None) for key, *values in rows}


def _check_model(collection, settings: RagSettings, dimension: int | None) -> None:
    check_metadata(collection.metadata or {}, collection.name, settings, dimension)


def check_metadata(recorded: dict, name: str, settings: RagSettings, dimension: int | None = None) -> None:
    """That the index was built in this format with the configured model; else what to do about it."""
    if recorded.get("index_format") != INDEX_FORMAT:
        raise ModelMismatchError(
            f"The index at {index_location(settings)} was built by another version of this project (format "
            f"{recorded.get('index_format', 1)}, expected {INDEX_FORMAT}). Run `rag ingest --rebuild`."
        )
    expected = model_name(settings)
    if recorded.get("embedding_model") != expected or (dimension and recorded.get("embedding_dim") != dimension):
        raise ModelMismatchError(
            f"The index collection {name!r} at {index_location(settings)} was built with "
            f"{recorded.get('embedding_model')!r} ({recorded.get('embedding_dim')} dims), but the configured "
            f"model is {expected!r}. Set RAG_COLLECTION to a new name for this model, or run "
            "`rag ingest --rebuild`."
        )


# Chroma turns a large `get` into one SQL statement with a variable per record: page through instead.
GET_PAGE = 5000


def stored_papers(collection, writer: VectorWriter, key=lambda paper: paper.paper_id) -> list[Paper]:
    """Every stored paper (every stored version), read page by page; each one's vectors are added to `writer`
    under `key(paper)`."""
    papers: list[Paper] = []
    while True:
        page = collection.get(include=["metadatas", "embeddings"], limit=GET_PAGE, offset=len(papers))
        for meta, vector in zip(page["metadatas"], page["embeddings"]):
            paper = Paper.from_dict(json.loads(meta["paper"]))
            writer.add(key(paper), vector, *sentences_from_metadata(meta, writer.vectors.dimension))
            papers.append(paper)
        if len(page["ids"]) < GET_PAGE:
            return papers


def open_collection(settings: RagSettings, *, create_dimension: int | None = None, client=None):
    """The paper collection; created (recording the model) only when `create_dimension` is given."""
    client = client or chroma_client(settings)
    try:
        if create_dimension is None:
            collection = client.get_collection(settings.collection, embedding_function=None)
        else:
            collection = client.get_or_create_collection(
                settings.collection, embedding_function=None, schema=_schema(),
                metadata={"embedding_model": model_name(settings), "embedding_dim": create_dimension,
                          "index_format": INDEX_FORMAT},
            )
    except ValueError as exc:  # older chromadb spelling of "not found"
        raise _missing(settings) from exc
    except Exception as exc:
        if type(exc).__name__ in {"NotFoundError", "InvalidCollectionException"}:
            raise _missing(settings) from exc
        if settings.chroma_url:
            raise ChromaUnavailableError(
                f"The Chroma server at {settings.chroma_url} failed: {type(exc).__name__}: {exc}. "
                "Check that `chroma run` is up, then retry."
            ) from exc
        raise
    _check_model(collection, settings, create_dimension)
    return collection


def _schema():
    """Cosine space and no full-text index on documents: BM25 is done by bm25s, and at 100k papers the
    full-text index would be a large share of the disk."""
    from chromadb import FtsIndexConfig, Schema, VectorIndexConfig

    schema = Schema()
    schema.create_index(config=VectorIndexConfig(space="cosine"))
    schema.delete_index(config=FtsIndexConfig(), key="#document")
    return schema


def _missing(settings: RagSettings) -> MissingIndexError:
    return MissingIndexError(
        f"No paper index at {index_location(settings)} (collection {settings.collection!r}). "
        "Run `rag ingest` first to build it from the bundled corpus."
    )


@contextmanager
def ingest_lock(settings: RagSettings):
    """One ingest at a time per data dir; a second one waits instead of interleaving writes."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "ingest.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("Another ingest is running on this index; waiting for it to finish...", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def paper_metadata(paper: Paper, spans: list[tuple[int, int]], sentence_vectors) -> dict:
    """The paper as JSON, its sentence evidence, and its filterable fields as numbers (Chroma stores no None,
    so unknown values are left out)."""
    meta = {"paper_id": paper.paper_id, "text_hash": paper.text_hash, "record_hash": paper.record_hash,
            "paper": json.dumps(paper.to_dict(), ensure_ascii=False), **sentence_metadata(spans, sentence_vectors)}
    for key, value in (("year", paper.year), ("date_number", paper.date_number),
                       ("authors", paper.authors), ("upvotes", paper.upvotes)):
        if value is not None:
            meta[key] = value
    return meta


def record_id(paper: Paper) -> str:
    """One record per version of a paper (an update is written beside the old one, which is deleted after)."""
    return f"{paper.paper_id}#{paper.text_hash[:8]}"


def texts_to_embed(paper: Paper, spans: list[tuple[int, int]]) -> list[str]:
    """The title, then each abstract sentence (at `spans`, from `sentence_spans`)."""
    return [paper.title, *(paper.abstract[a:b] for a, b in spans)]


def paper_vector(rows: np.ndarray) -> np.ndarray:
    """A paper's vector from the vectors of its `texts_to_embed`: their normalised mean."""
    mean = rows.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def stored_table(settings: RagSettings, metadata: dict, open_chroma: Callable[[], object]) -> PaperTable:
    """The paper table of what the collection (its `metadata` as read now) holds: the saved one when its digest
    is current, else rebuilt from the paper records of `open_chroma()` (and saved when nothing changed while
    reading)."""
    digest = metadata.get(DIGEST_KEY, "")
    saved = paper_table.load_saved(settings, settings.collection, digest)
    if saved is not None:
        return saved
    collection = open_chroma()
    digest = (collection.metadata or {}).get(DIGEST_KEY, "")
    writer = VectorWriter(tables_dir(settings), _dimension(collection))
    with writer.discarded_on_error():
        # After a crash between writing an update and deleting the old version both are stored: the later
        # one read wins, in the table and in the vectors alike.
        papers = {paper.paper_id: paper for paper in stored_papers(collection, writer)}
    current = bool(digest) and content_digest(papers.values()) == digest
    vectors = writer.finish(matrix_path(settings, collection.name, digest) if current else None)
    table = PaperTable.build(papers.values(), digest, vectors)
    if current:
        paper_table.save(settings, collection.name, table)
    return table


def _dimension(collection) -> int:
    return int((collection.metadata or {})["embedding_dim"])


def ensure_index(settings: RagSettings, *, encoder=None, progress: bool = True,
                 notice: Callable[[str], None] = lambda message: None) -> IngestReport | None:
    """Build the index from the configured corpus when there is none (a first start), telling `notice` why
    first (it takes a minute or two); None when the index exists."""
    try:
        open_collection(settings)
        return None
    except MissingIndexError as exc:
        notice(f"{exc}\nBuilding it now with `rag ingest` (once; about a minute or two)...")
    return ingest(settings, encoder=encoder, progress=progress)


def ingest(settings: RagSettings, paths: list[Path] | None = None, *, prune: bool = False, rebuild: bool = False,
           encoder=None, progress: bool = True, categories: set[str] | None = None) -> IngestReport:
    """Index the papers of `paths` (default: the configured corpus). `encoder` embeds them (default: the
    configured model, loaded only when something is to be embedded). `categories` keeps only the arXiv
    snapshot's records in one of them."""
    started = time.perf_counter()
    sources = [Path(p) for p in (paths or settings.corpus_paths)]
    # The same files (by size and modification time), read with the same options into the collection the
    # last ingest of them left: nothing can have changed, and the 100k-paper source is not parsed again.
    run = {"files": source_stamps(sources), "categories": sorted(categories or []), "prune": prune}
    with ingest_lock(settings):
        from rag.embedding import model_path

        if rebuild and settings.collection in [c.name for c in chroma_client(settings).list_collections()]:
            chroma_client(settings).delete_collection(settings.collection)
        dimension = _model_dimension(model_path(settings))
        collection = open_collection(settings, create_dimension=dimension)
        digest = (collection.metadata or {}).get(DIGEST_KEY, "")
        previous = paper_table.load_sources(settings, collection.name, digest)
        if run["files"] is not None and previous is not None and previous["run"] == run:
            return replace(previous["report"], seconds=time.perf_counter() - started)
        parsed = load_corpus(sources, categories=categories, progress=progress)
        report = IngestReport(parsed=len(parsed.papers), raw_entries=parsed.raw_entries, skipped=parsed.problems)
        if _all_unchanged(paper_table.load_record_hashes(settings, collection.name, digest), parsed.papers, prune):
            report.unchanged = len(parsed.papers)
            _remember_sources(settings, collection.name, digest, run, sources, report)
            report.seconds = time.perf_counter() - started
            return report
        saved = paper_table.load_saved(settings, collection.name, digest)
        # Every stored version of every paper, and where its vectors are: from the saved table when current
        # (a file read), else from Chroma, keyed by version.
        versions: dict[str, list[Paper]] = {}
        if saved is not None:
            old_vectors, key_of = saved.vectors, (lambda paper: paper.paper_id)
            versions = {paper_id: [paper] for paper_id, paper in saved.papers.items()}
        else:
            reader, key_of = VectorWriter(tables_dir(settings), dimension), record_id
            with reader.discarded_on_error():
                for paper in stored_papers(collection, reader, key=record_id):
                    versions.setdefault(paper.paper_id, []).append(paper)
            old_vectors = reader.finish(None)
        to_embed, meta_only, stale = [], [], []
        current: dict[str, Paper] = {}  # what each parsed paper's stored version will be after this ingest
        kept: dict[str, Paper] = {}  # the stored version whose vectors a parsed paper keeps
        for paper in parsed.papers:
            found = versions.get(paper.paper_id, [])
            # Two versions exist only after a crash between writing an update and deleting the old one:
            # compare with the one matching the current text and drop the others.
            old = next((p for p in found if p.text_hash == paper.text_hash), found[0] if found else None)
            if len(found) > 1 and old.text_hash == paper.text_hash:
                stale.append(paper)
            if old is None:
                report.new += 1
                to_embed.append(paper)
            elif old.record_hash == paper.record_hash:
                report.unchanged += 1
                paper = kept[paper.paper_id] = old  # the stored copy stays as it is
            else:
                report.updated += 1
                if old.text_hash == paper.text_hash:
                    meta_only.append(paper)
                    kept[paper.paper_id] = old
                else:
                    to_embed.append(paper)
            current[paper.paper_id] = paper
        keep = {p.paper_id for p in parsed.papers}
        gone = [paper_id for paper_id in versions if paper_id not in keep] if prune else []
        if saved is not None and not (to_embed or meta_only or stale or gone):
            _remember_sources(settings, collection.name, digest, run, sources, report)
            report.seconds = time.perf_counter() - started
            return report
        # From here until the new digest is recorded, readers rebuild from Chroma rather than trust a saved table.
        _record_digest(collection, "")
        for paper in stale:
            _delete_other_versions(collection, paper)
        writer = VectorWriter(tables_dir(settings), dimension)
        with writer.discarded_on_error():
            if to_embed:
                encoder = encoder or _corpus_encoder(settings)
                _embed_and_write(collection, to_embed, set(versions), encoder, writer, progress)
                report.embedded = len(to_embed)
            for start in range(0, len(meta_only), WRITE_BATCH_PAPERS):
                batch = meta_only[start:start + WRITE_BATCH_PAPERS]
                collection.update(ids=[record_id(p) for p in batch], metadatas=[
                    paper_metadata(p, *old_vectors.sentences(key_of(kept[p.paper_id]))) for p in batch])
            for start in range(0, len(gone), 500):
                collection.delete(where={"paper_id": {"$in": gone[start:start + 500]}})
            report.removed = len(gone)
            # Papers not parsed this time (and not pruned) stay as stored.
            kept |= {paper_id: found[-1] for paper_id, found in versions.items()
                     if paper_id not in current and paper_id not in gone}
            for paper_id, old in kept.items():
                writer.copy(paper_id, old_vectors, key_of(old))
        stored = {paper_id: found[-1] for paper_id, found in versions.items() if paper_id not in gone} | current
        digest = content_digest(stored.values())
        table = PaperTable.build(stored.values(), digest, writer.finish(matrix_path(settings, collection.name, digest)))
        paper_table.save(settings, collection.name, table, remove_others=True)
        _record_digest(collection, table.digest)
        _remember_sources(settings, collection.name, table.digest, run, sources, report)
    report.seconds = time.perf_counter() - started
    return report


def source_stamps(paths: list[Path]) -> list[tuple[str, int, int]] | None:
    """(file, size, modification time in ns) of every file the paths expand to; None when one is missing."""
    problems: list[Problem] = []
    files = expand_paths(paths, problems)
    try:
        stamps = [(str(f.resolve()), (stat := f.stat()).st_size, stat.st_mtime_ns) for f in files]
    except OSError:
        return None
    return None if problems else stamps


def _remember_sources(settings: RagSettings, collection_name: str, digest: str, run: dict, sources: list[Path],
                      report: IngestReport) -> None:
    """What this ingest read, under the digest it leaves, unless a file changed while it was read."""
    if run["files"] is not None and source_stamps(sources) == run["files"]:
        unchanged = IngestReport(parsed=report.parsed, raw_entries=report.raw_entries, unchanged=report.parsed,
                                 skipped=report.skipped)
        paper_table.save_sources(settings, collection_name, digest, {"run": run, "report": unchanged})


def _all_unchanged(stored: dict[str, str] | None, papers: list[Paper], prune: bool) -> bool:
    """Whether every paper is stored as it is (and, with `prune`, nothing else is), by the record hashes of
    the current saved table: the common re-ingest, decided without reading the table."""
    if stored is None or any(stored.get(p.paper_id) != p.record_hash for p in papers):
        return False
    return not prune or len(stored) == len({p.paper_id for p in papers})


def _record_digest(collection, digest: str) -> None:
    """Chroma replaces a collection's metadata as a whole: the model and format keys are written back with it."""
    metadata = {key: value for key, value in (collection.metadata or {}).items() if key != DIGEST_KEY}
    collection.modify(metadata={**metadata, DIGEST_KEY: digest})


def _delete_other_versions(collection, paper: Paper) -> None:
    collection.delete(where={"$and": [{"paper_id": paper.paper_id}, {"text_hash": {"$ne": paper.text_hash}}]})


def _model_dimension(path: Path) -> int:
    """Read from the model's config so an unchanged re-ingest never loads the model."""
    config = json.loads((path / "config.json").read_text())
    return int(config.get("hidden_size") or config["d_model"])


def _corpus_encoder(settings: RagSettings):
    from rag.embedding import corpus_encoder

    return corpus_encoder(settings)


def _embed_and_write(collection, papers: list[Paper], replaced: set[str], encoder, vectors: VectorWriter,
                     progress: bool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    def write(batch: list[Paper], spans_of: list, embedded: list) -> None:
        # One add per batch is one transaction: every paper in it lands whole or not at all.
        collection.add(ids=[record_id(p) for p in batch], embeddings=[e[0] for e in embedded],
                       metadatas=[paper_metadata(p, spans, e[1:]) for p, spans, e in zip(batch, spans_of, embedded)])
        # Old versions go only after the new ones are in, so a crash in between leaves a whole paper.
        for paper in batch:
            if paper.paper_id in replaced:
                _delete_other_versions(collection, paper)

    bar = tqdm(total=len(papers), unit="paper", desc="embedding", disable=not progress, file=sys.stderr)
    # A write of up to WRITE_BATCH_PAPERS goes on while the next papers are encoded; one write at a time keeps the
    # order and the memory bounded.
    with ThreadPoolExecutor(1) as writer:
        pending, batch, spans_of, embedded = None, [], [], []
        for start in range(0, len(papers), ENCODE_BATCH_PAPERS):
            encoding = papers[start:start + ENCODE_BATCH_PAPERS]
            spans = [sentence_spans(p.abstract) for p in encoding]
            texts = [texts_to_embed(p, paper_spans) for p, paper_spans in zip(encoding, spans)]
            encoded = encoder.encode([text for paper_texts in texts for text in paper_texts])
            bounds = np.cumsum([0] + [len(t) for t in texts])
            # Per paper: its vector, then its sentences' (the title's own vector is only part of the mean).
            rows = [np.vstack([paper_vector(encoded[a:b]), encoded[a + 1:b]]) for a, b in zip(bounds[:-1], bounds[1:])]
            for paper, paper_spans, paper_rows in zip(encoding, spans, rows):
                vectors.add(paper.paper_id, paper_rows[0], paper_spans, paper_rows[1:])
            batch, spans_of, embedded = batch + encoding, spans_of + spans, embedded + rows
            bar.update(len(encoding))
            if len(batch) >= WRITE_BATCH_PAPERS or start + ENCODE_BATCH_PAPERS >= len(papers):
                if pending:
                    pending.result()
                pending = writer.submit(write, batch, spans_of, embedded)
                batch, spans_of, embedded = [], [], []
        if pending:
            pending.result()
    bar.close()
