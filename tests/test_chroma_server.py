"""Server mode: a real `chroma run` on loopback, ingest and ask through HttpClient, and a server outage."""

from __future__ import annotations

import shutil

import pytest
from helpers import CHROMA_CLI, free_port, start_chroma

from rag.assistant import Assistant
from rag.index import ChromaUnavailableError, ingest

@pytest.fixture
def chroma_server(tmp_path):
    assert CHROMA_CLI.exists() or shutil.which("chroma"), "the chroma CLI comes with the chromadb package"
    port = free_port()
    process = start_chroma(tmp_path / "chroma", port)
    yield tmp_path / "chroma", port, process
    process.kill()
    process.wait()


def test_ingest_and_ask_through_a_chroma_server(chroma_server, small_settings, encoder):
    path, port, process = chroma_server
    settings = small_settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{port}"})
    report = ingest(settings, encoder=encoder, progress=False)
    assert report.new == 314
    assert ingest(settings, progress=False).unchanged == 314
    assistant = Assistant(settings)
    answer = assistant.ask("How much faster than human-written code are LLM-generated CUDA kernels?")
    assert answer.citations[0].title.startswith("CUDA-LLM") and "179" in answer.text
    assert not (small_settings.data_dir / "chroma").exists()  # nothing went to the embedded store

    # The server goes away: a clear error, no crash; it comes back: the next question works.
    process.kill()
    process.wait()
    with pytest.raises(ChromaUnavailableError, match="chroma run"):
        assistant.ask("Which papers use Minecraft?")
    restarted = start_chroma(path, port)
    try:
        assert not assistant.ask("Which papers use Minecraft?").abstained
    finally:
        restarted.kill()
        restarted.wait()


def test_unreachable_server_is_a_clear_error(small_settings):
    settings = small_settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(ChromaUnavailableError, match="RAG_CHROMA_URL"):
        Assistant(settings).ask("anything about agents?")
