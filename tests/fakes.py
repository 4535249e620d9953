"""Fast stand-ins for the fast test tier: they run the real code path (real Chroma, real BM25, real answer
composition) in milliseconds. The real model is tested beside them, in the slow tier."""

from __future__ import annotations

import zlib

import numpy as np

DIMENSION = 384


class HashedWords:
    """A tiny deterministic encoder: each word adds to one of 384 dimensions (a hashed bag of words), so texts
    sharing words are similar. Enough to tell texts apart; not a model of meaning."""

    name = "hashed-words"

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), DIMENSION), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, zlib.crc32(word.strip(".,;:!?()\"'").encode()) % DIMENSION] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
