"""Shared fixtures: the real embedding model and a real Chroma index of the bundled corpus, built once (the
slow tier), and a 20-paper index embedded with hashed words (the fast tier: `pytest -m "not slow"`)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from pathlib import Path

import pytest
from fakes import HashedWords

from rag.assistant import Assistant
from rag.config import load_settings
from rag.embedding import corpus_encoder
from rag.index import ingest


# A test that uses any of these needs the real model (loading it, or the 314-paper index built with it, takes
# a minute or more): it belongs to the slow tier, marked here so that no test can forget it.
SLOW_FIXTURES = {"encoder", "built_settings", "assistant", "ui_url", "client"}
PAPERS_20 = Path(__file__).parent / "fixtures" / "papers20.jsonl"


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure: a missing real component (browser, server, ONNX model) must not let
    the suite shrink unnoticed. Elsewhere a skip stays a skip, listed by `-rs`."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run every test: {report.longrepr}"


@pytest.fixture(scope="session")
def encoder():
    return corpus_encoder(load_settings())


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory, encoder):
    """Settings pointing at a fresh index of the bundled 314 papers."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("index"))
    report = ingest(settings, encoder=encoder, progress=False)
    assert report.new == 314
    return settings


@pytest.fixture(scope="session")
def assistant(built_settings):
    return Assistant(built_settings)


@pytest.fixture
def small_settings(tmp_path):
    """Settings for a private, initially empty index."""
    return load_settings(data_dir=tmp_path / "index")


@pytest.fixture(scope="module")
def ui_url(assistant):
    """The chat app on a free loopback port, over the shared index."""
    import app
    from helpers import launch

    demo = app.build_app(assistant)
    yield launch(demo)
    demo.close()


@pytest.fixture
def client(ui_url):
    from gradio_client import Client

    return Client(ui_url, verbose=False)


@pytest.fixture(scope="session")
def fast_settings(tmp_path_factory):
    """Settings for a 20-paper index (tests/fixtures/papers20.jsonl) embedded with hashed words."""
    settings = load_settings(data_dir=tmp_path_factory.mktemp("fast-index"), corpus_paths=[PAPERS_20])
    assert ingest(settings, encoder=HashedWords(), progress=False).new == 20
    return settings


@pytest.fixture(scope="session")
def fast_assistant(fast_settings):
    """The real assistant over the 20-paper index, its questions embedded with the same hashed words."""
    return Assistant(fast_settings, encoder=HashedWords())
