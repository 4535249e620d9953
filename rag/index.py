"""The Chroma index: one record per paper plus one per abstract sentence, all mapping back to `paper_id`.

Chroma is the single source of truth. The BM25 index and the in-memory paper table are derived from it,
so a crash between two writes can never leave them disagreeing. Writes go paper by paper, each paper's
records in one `add` call, so a reader never sees half a paper.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from rag.config import RagSettings
from rag.corpus import Paper, Problem, load_corpus
from rag.embedding import model_name
from rag.text import sentence_spans

# Bumped when the record layout changes; an index in another layout must be rebuilt.
INDEX_FORMAT = 2
KIND_PAPER = "paper"
KIND_SENTENCE = "sentence"
# Chroma rejects very large writes; this many papers (about 10 records each) go in one call.
WRITE_BATCH_PAPERS = 64


class RagIndexError(RuntimeError):
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


def _check_model(collection, settings: RagSettings, dimension: int | None) -> None:
    recorded = collection.metadata or {}
    if recorded.get("index_format") != INDEX_FORMAT:
        raise ModelMismatchError(
            f"The index at {index_location(settings)} was built by another version of this project (format "
            f"{recorded.get('index_format', 1)}, expected {INDEX_FORMAT}). Run `rag ingest --rebuild`."
        )
    expected = model_name(settings)
    if recorded.get("embedding_model") != expected or (dimension and recorded.get("embedding_dim") != dimension):
        raise ModelMismatchError(
            f"The index collection {collection.name!r} at {index_location(settings)} was built with "
            f"{recorded.get('embedding_model')!r} ({recorded.get('embedding_dim')} dims), but the configured "
            f"model is {expected!r}. Set RAG_COLLECTION to a new name for this model, or run "
            "`rag ingest --rebuild`."
        )


# Chroma turns a large `get` into one SQL statement with a variable per record: page through instead.
GET_PAGE = 5000


def paper_records_stored(collection, include: list[str]) -> dict[str, list]:
    """Every whole-paper record (`ids` and the `include`d fields), read page by page."""
    result: dict[str, list] = {"ids": [], **{name: [] for name in include}}
    while True:
        page = collection.get(where={"kind": KIND_PAPER}, include=include, limit=GET_PAGE, offset=len(result["ids"]))
        for name in result:
            result[name].extend(page[name])
        if len(page["ids"]) < GET_PAGE:
            return result


def open_collection(settings: RagSettings, *, create_dimension: int | None = None):
    """The paper collection; created (recording the model) only when `create_dimension` is given."""
    client = chroma_client(settings)
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


def paper_metadata(paper: Paper) -> dict:
    """Filterable fields as numbers; Chroma stores no None, so unknown values are left out."""
    meta = {"paper_id": paper.paper_id, "text_hash": paper.text_hash}
    for key, value in (("year", paper.year), ("date_number", paper.date_number),
                       ("authors", paper.authors), ("upvotes", paper.upvotes)):
        if value is not None:
            meta[key] = value
    return meta


def sentence_ids(paper: Paper, count: int) -> list[str]:
    """Record ids of a paper's sentences: fetched by id, which stays fast however large the collection."""
    return [f"{paper.paper_id}#{paper.text_hash[:8]}#s{number}" for number in range(count)]


def paper_records(paper: Paper) -> tuple[list[str], list[str], list[dict], list[str]]:
    """(ids, documents, metadatas, texts to embed) for one paper. The whole-paper record's document is the
    paper as JSON (the paper table is rebuilt from these); its vector is of the title and abstract."""
    base = paper_metadata(paper)
    spans = sentence_spans(paper.abstract)
    ids = [f"{paper.paper_id}#{paper.text_hash[:8]}#paper", *sentence_ids(paper, len(spans))]
    documents = [json.dumps(paper.to_dict())] + [paper.abstract[start:end] for start, end in spans]
    metadatas = [{**base, "kind": KIND_PAPER, "record_hash": paper.record_hash}]
    metadatas += [{**base, "kind": KIND_SENTENCE, "sentence": number, "start": start, "end": end}
                  for number, (start, end) in enumerate(spans)]
    return ids, documents, metadatas, [f"{paper.title}\n{paper.abstract}", *documents[1:]]


def ingest(settings: RagSettings, paths: list[Path] | None = None, *, prune: bool = False, rebuild: bool = False,
           encoder=None, progress: bool = True) -> IngestReport:
    started = time.perf_counter()
    parsed = load_corpus(paths or settings.corpus_paths)
    report = IngestReport(parsed=len(parsed.papers), raw_entries=parsed.raw_entries, skipped=parsed.problems)
    with ingest_lock(settings):
        from rag.embedding import model_path

        if rebuild and settings.collection in [c.name for c in chroma_client(settings).list_collections()]:
            chroma_client(settings).delete_collection(settings.collection)
        dimension = _model_dimension(model_path(settings))
        collection = open_collection(settings, create_dimension=dimension)
        versions: dict[str, list[dict]] = {}
        for meta in paper_records_stored(collection, ["metadatas"])["metadatas"]:
            versions.setdefault(meta["paper_id"], []).append(meta)
        stored = set(versions)
        to_embed, meta_only = [], []
        for paper in parsed.papers:
            found = versions.get(paper.paper_id, [])
            # Two versions exist only after a crash between writing an update and deleting the old one:
            # compare with the one matching the current text and drop the others.
            old = next((m for m in found if m["text_hash"] == paper.text_hash), found[0] if found else None)
            if len(found) > 1 and old["text_hash"] == paper.text_hash:
                collection.delete(where={"$and": [{"paper_id": paper.paper_id},
                                                  {"text_hash": {"$ne": paper.text_hash}}]})
            if old is None:
                report.new += 1
                to_embed.append(paper)
            elif old["record_hash"] == paper.record_hash:
                report.unchanged += 1
            else:
                report.updated += 1
                (meta_only if old["text_hash"] == paper.text_hash else to_embed).append(paper)
        if to_embed:
            encoder = encoder or _corpus_encoder(settings)
            _embed_and_write(collection, to_embed, stored, encoder, progress)
            report.embedded = len(to_embed)
        for paper in meta_only:
            _update_metadata(collection, paper)
        if prune:
            keep = {p.paper_id for p in parsed.papers}
            gone = [pid for pid in stored if pid not in keep]
            for start in range(0, len(gone), 500):
                collection.delete(where={"paper_id": {"$in": gone[start:start + 500]}})
            report.removed = len(gone)
    report.seconds = time.perf_counter() - started
    return report


def _model_dimension(path: Path) -> int:
    """Read from the model's config so an unchanged re-ingest never loads the model."""
    config = json.loads((path / "config.json").read_text())
    return int(config.get("hidden_size") or config["d_model"])


def _corpus_encoder(settings: RagSettings):
    from rag.embedding import corpus_encoder

    return corpus_encoder(settings)


def _embed_and_write(collection, papers: list[Paper], replaced: set[str], encoder, progress: bool) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    def write(batch: list[Paper], records: list, vectors) -> None:
        ids, documents, metadatas, _ = ([item for r in records for item in r[part]] for part in range(4))
        # One add per batch is one transaction: every paper in it lands whole or not at all.
        collection.add(ids=ids, documents=documents, metadatas=metadatas, embeddings=vectors)
        # Old versions go only after the new ones are in, so a crash in between leaves a whole paper.
        for paper in batch:
            if paper.paper_id in replaced:
                collection.delete(where={"$and": [{"paper_id": paper.paper_id},
                                                  {"text_hash": {"$ne": paper.text_hash}}]})
        bar.update(len(batch))

    bar = tqdm(total=len(papers), unit="paper", desc="embedding", disable=not progress, file=sys.stderr)
    # Batch n is written while batch n+1 is encoded; one write at a time keeps the order and the memory bounded.
    with ThreadPoolExecutor(1) as writer:
        pending = None
        for start in range(0, len(papers), WRITE_BATCH_PAPERS):
            batch = papers[start:start + WRITE_BATCH_PAPERS]
            records = [paper_records(p) for p in batch]
            vectors = encoder.encode([text for r in records for text in r[3]])
            if pending:
                pending.result()
            pending = writer.submit(write, batch, records, vectors)
        if pending:
            pending.result()
    bar.close()


def _update_metadata(collection, paper: Paper) -> None:
    ids, documents, metadatas, _ = paper_records(paper)
    # The text is unchanged, so are the vectors; they are passed back because Chroma would otherwise embed the
    # new documents with its own (downloading) default model.
    stored = collection.get(ids=ids, include=["embeddings"])
    vectors = dict(zip(stored["ids"], stored["embeddings"]))
    collection.update(ids=ids, documents=documents, metadatas=metadatas, embeddings=[vectors[i] for i in ids])
