"""The bench's stand-in for the model: cached vectors in the order asked, misses encoded once."""

from __future__ import annotations

import numpy as np
from fakes import HashedWords

from benchmarks import bench


def test_the_vector_cache_returns_each_texts_vector_and_encodes_only_what_it_lacks(monkeypatch):
    model = HashedWords()
    encoded: list[list[str]] = []

    class Counting:
        def encode(self, texts):
            encoded.append(list(texts))
            return model.encode(texts)

    monkeypatch.setattr("rag.embedding.corpus_encoder", lambda settings: Counting())
    cache = bench.CachedEncoder({bench._key("kiln glaze"): model.encode(["kiln glaze"])[0]})
    texts = ["raku firing", "kiln glaze", "raku firing", "stoneware"]
    vectors = cache.encode(texts)
    assert encoded == [["raku firing", "stoneware"]] and cache.misses == 2
    assert np.allclose(vectors, model.encode(texts))
    assert np.allclose(cache.encode(["stoneware", "kiln glaze"]), model.encode(["stoneware", "kiln glaze"]))
    assert len(encoded) == 1  # everything was cached by then
