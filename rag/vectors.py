"""Paper and sentence vectors as the paper table keeps them: one float16 matrix in a file, read by row range.

Each Chroma record's vector is its paper's. A paper's sentence vectors (and their spans in the abstract)
ride in that paper's record metadata, packed as float16 bytes in base64, so they are written atomically with
the paper and a Chroma server deployment keeps them too. A serving process derives from the records one
matrix, per paper its vector followed by its sentences' vectors, saved beside the paper table under the same
content digest (`rag.table`) and read row range by row range (`RowFile`): only the rows of the candidates of a
question are read.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SENTENCE_VECTORS_KEY = "sentence_vectors"
SPANS_KEY = "spans"


def pack(vectors: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vectors, dtype=np.float16).tobytes()).decode("ascii")


def unpack(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float16).reshape(-1, dimension)


def sentence_metadata(spans: list[tuple[int, int]], vectors: np.ndarray) -> dict:
    """The metadata keys that carry a paper's sentence evidence."""
    return {SPANS_KEY: json.dumps(np.asarray(spans, dtype=int).tolist()), SENTENCE_VECTORS_KEY: pack(vectors)}


def sentences_from_metadata(metadata: dict, dimension: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    return [tuple(span) for span in json.loads(metadata[SPANS_KEY])], unpack(metadata[SENTENCE_VECTORS_KEY], dimension)


class RowFile:
    """A saved float16 matrix, read a range of rows at a time with `os.pread`. Not memory-mapped: the kernel maps
    whole cached folios around every page a mapping touches, so a mapping read at a question's scattered rows
    grew a 100k-paper serving process by 550 MiB for the 20 MiB it read. The descriptor stays valid when the
    file is unlinked or renamed, and `pread` keeps no file position, so threads may read at once."""

    def __init__(self, path: Path, dimension: int):
        self.dimension, self.row_bytes = dimension, dimension * 2
        self.descriptor = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.descriptor)

    def read(self, start: int, count: int) -> np.ndarray:
        """Rows start .. start + count - 1, float16."""
        data = os.pread(self.descriptor, count * self.row_bytes, start * self.row_bytes)
        return np.frombuffer(data, dtype=np.float16).reshape(count, self.dimension)


@dataclass
class PaperVectors:
    """Where each paper's vectors are in `matrix`: its own row, then one row per abstract sentence."""

    dimension: int
    location: dict[str, tuple[int, int]] = field(default_factory=dict)  # paper id -> (row, sentence count)
    spans: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))  # per row; (0, 0) on paper rows
    matrix: RowFile | None = None  # float16 (rows, dimension); not pickled, read from its own file
    # Each paper's own vector as the writer received it (not pickled): the paper table takes its rows from here
    # rather than from `matrix`, where reading one row per paper would page in most of the file.
    written: dict[str, np.ndarray] = field(default_factory=dict)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "matrix": None, "written": {}}

    def best_similarity(self, paper_ids: list[str], query: np.ndarray) -> dict[str, float]:
        """Per paper, the best cosine similarity of the query to its vector or any of its sentences'."""
        known = [p for p in paper_ids if p in self.location]
        if not known:
            return {}
        rows = [self.matrix.read(row, 1 + count) for row, count in (self.location[p] for p in known)]
        similarities = np.concatenate(rows).astype(np.float32) @ query
        starts = np.cumsum([0] + [len(r) for r in rows[:-1]])
        return dict(zip(known, np.maximum.reduceat(similarities, starts).tolist()))

    def paper_similarity(self, paper_ids: list[str], query: np.ndarray) -> dict[str, float]:
        """Per paper, the cosine similarity of the query to its whole-paper vector alone."""
        known = [p for p in paper_ids if p in self.location]
        if not known:
            return {}
        rows = np.vstack([self.matrix.read(self.location[p][0], 1) for p in known]).astype(np.float32)
        return dict(zip(known, (rows @ query).tolist()))

    def paper_rows(self, paper_ids: list[str]) -> np.ndarray:
        """The papers' own vectors, float32, one row each in the order given (zeros for a paper without)."""
        rows = np.zeros((len(paper_ids), self.dimension), np.float32)
        for i, paper_id in enumerate(paper_ids):
            if paper_id in self.written:
                rows[i] = self.written[paper_id]
            elif paper_id in self.location:
                rows[i] = self.matrix.read(self.location[paper_id][0], 1)[0]
        return rows

    def sentences(self, paper_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(spans, float32 vectors) of a paper's abstract sentences."""
        row, count = self.location[paper_id]
        return self.spans[row + 1:row + 1 + count], self.matrix.read(row + 1, count).astype(np.float32)


class VectorWriter:
    """Builds a PaperVectors file row by row: appended to a temporary file in `folder`, mapped when finished."""

    def __init__(self, folder: Path, dimension: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.handle = tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False, buffering=1 << 20)
        self.path = Path(self.handle.name)
        self.vectors = PaperVectors(dimension)
        self.rows = 0
        self.spans: list[np.ndarray] = []

    def add(self, paper_id: str, paper_vector: np.ndarray, spans, sentence_vectors: np.ndarray) -> None:
        rows = np.vstack([np.asarray(paper_vector).reshape(1, -1),
                          np.asarray(sentence_vectors).reshape(-1, self.vectors.dimension)])
        stored = rows.astype(np.float16)
        self.handle.write(stored.tobytes())
        self.vectors.location[paper_id] = (self.rows, len(rows) - 1)
        self.vectors.written[paper_id] = stored[0].copy()
        self.spans.append(np.vstack([np.zeros((1, 2), np.int32), np.asarray(spans, np.int32).reshape(-1, 2)]))
        self.rows += len(rows)

    def copy(self, paper_id: str, source: PaperVectors, key: str) -> None:
        """A paper's rows as another PaperVectors holds them under `key`."""
        spans, sentence_vectors = source.sentences(key)
        self.add(paper_id, source.matrix.read(source.location[key][0], 1)[0], spans, sentence_vectors)

    def finish(self, path: Path | None) -> PaperVectors:
        """Opens the written rows for reading. With a `path` the file is renamed there; without, it is unlinked
        once open (its rows stay readable until the process drops them)."""
        self.handle.close()
        self.vectors.spans = np.vstack(self.spans) if self.spans else np.zeros((0, 2), np.int32)
        self.vectors.matrix = RowFile(self.path, self.vectors.dimension)
        if path is None:
            self.path.unlink(missing_ok=True)
        else:
            os.replace(self.path, path)
        return self.vectors

    @contextmanager
    def discarded_on_error(self):
        """The temporary file goes when the rows being written are abandoned."""
        try:
            yield
        except BaseException:
            self.handle.close()
            self.path.unlink(missing_ok=True)
            raise


def open_matrix(path: Path, vectors: PaperVectors) -> PaperVectors | None:
    """`vectors` with its saved matrix opened from `path`; None when the file is missing or of another size."""
    rows = len(vectors.spans)
    try:
        if path.stat().st_size != rows * vectors.dimension * 2:
            return None
        vectors.matrix = RowFile(path, vectors.dimension)
    except OSError:
        return None
    return vectors
