"""The chat UI (app.py): rendering, the API through gradio_client, `python app.py`, and real headless Chromium.

The server tests use the real index of the bundled corpus (`built_settings` from conftest.py). The browser
tests need the system Chromium and playwright-core (see docs/UI.md):

    apt-get install -y chromium
    npm ci --prefix tests/browser
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import app  # noqa: E402
from helpers import free_port, launch, tags_of, text_of, visible  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.config import PROJECT_ROOT, load_settings  # noqa: E402
from rag.index import ingest  # noqa: E402
from rag.types import Answer, Citation, Source  # noqa: E402

# Gradio's queue calls pandas APIs that pandas 3 deprecates; not this project's warnings.
pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
BROWSER_DIR = PROJECT_ROOT / "tests" / "browser"
DRIVER = PROJECT_ROOT / "tests" / "ui_browser.mjs"
XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_ABSTRACT = (
    "We study <script>alert(2)</script> how markup in paper records is displayed by chat interfaces. "
    "This abstract is about the zebrafish renderer benchmark, which measures <b>bold</b> claims and "
    "[a markdown link](javascript:alert(3)) inside abstracts. The zebrafish renderer benchmark shows that "
    "escaping every field keeps a chat interface inert, and it reports 42 injection attempts blocked. "
    "Code is at https://example.org/zebrafish-renderer and more at javascript:alert(4) for reference."
)
QUESTION = "Which papers use tree search for language model agents?"
RENDERED_TAGS = {"div", "p", "ul", "li", "a", "span", "strong", "mark", "h3", "article", "details", "summary",
                 "blockquote"}
RENDERED_ATTRS = {"class", "id", "href", "title", "target", "rel", "role", "data-paper-id"}


# --------------------------------------------------------------------------------------------------------
# Helpers and fixtures
# --------------------------------------------------------------------------------------------------------

def ask(client, question, date_from="", date_to="", min_upvotes=None, k=8):
    """One turn through the /ask endpoint: (textbox, chat messages, sources HTML, copy markdown)."""
    return client.predict(question, date_from, date_to, min_upvotes, k, api_name="/ask")


@pytest.fixture(scope="module")
def xss_settings(tmp_path_factory, encoder):
    """A private index holding a paper whose title and abstract are markup, and whose url is javascript:."""
    folder = tmp_path_factory.mktemp("xss")
    corpus = folder / "hostile.jsonl"
    papers = [
        {"title": XSS_TITLE, "abstract": XSS_ABSTRACT, "url": "javascript:alert(5)", "date": "2024-05-01",
         "upvotes": 3, "authors": 2},
        {"title": "A plain paper about graph neural networks", "abstract": "Graph neural networks learn on graphs "
         "by passing messages between neighbouring nodes, layer after layer. " * 4, "date": "2023-01-02"},
    ]
    corpus.write_text("\n".join(json.dumps(p) for p in papers) + "\n", encoding="utf-8")
    settings = load_settings(data_dir=folder / "index", corpus_paths=[corpus])
    report = ingest(settings, encoder=encoder, progress=False)
    assert report.new == 2, report.summary()
    return settings


def browser_ready() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install -y chromium)"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "tests/browser/node_modules/playwright-core is absent (npm ci --prefix tests/browser)"
    if shutil.which("node") is None:
        return "node is not installed"
    return None


def run_browser(url: str, question: str, screenshot: Path) -> dict:
    config = {"url": url, "question": question, "screenshot": str(screenshot)}
    done = subprocess.run(["node", str(DRIVER), json.dumps(config)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"], result.get("error")
    print(f"\nscreenshot: {screenshot}")
    return result


needs_browser = pytest.mark.skipif(browser_ready() is not None, reason=browser_ready() or "")


# --------------------------------------------------------------------------------------------------------
# Rendering (no server)
# --------------------------------------------------------------------------------------------------------

def hostile_answer() -> Answer:
    source = Source(paper_id="p1", title=XSS_TITLE, url="javascript:alert(5)", score=1.0, authors=2,
                    date="2024-05-01", date_text="May 1, 2024", upvotes=3, abstract=XSS_ABSTRACT,
                    links=["https://example.org/zebrafish-renderer", "javascript:alert(6)"])
    other = Source(paper_id="p2", title="Other <b>paper</b>", url="https://example.org/p2", score=0.5,
                   org="Lab & Co", abstract="An abstract with <i>markup</i>.")
    quote = "This abstract is about the zebrafish renderer benchmark, which measures <b>bold</b> claims and " \
            "[a markdown link](javascript:alert(3)) inside abstracts."
    citation = Citation(1, "p1", XSS_TITLE, "javascript:alert(5)", quote)
    return Answer(question="q <script>", text=f"\u201c{XSS_TITLE}\u201d: {quote} [1] and a stray [7].",
                  citations=[citation], sources=[source, other], abstained=False, backend="extractive",
                  notes=["note with <u>markup</u>"], unsupported=["claim <img src=y onerror=alert(9)>"])


def test_rendering_escapes_everything():
    answer = hostile_answer()
    for fragment in (app.render_answer(answer), app.render_answer(answer, current=False),
                     app.render_sources(answer), app.render_question("<script>alert(1)</script>")):
        for tag, attrs in tags_of(fragment):  # only the app's own markup, never the records'
            assert tag in RENDERED_TAGS, tag
            assert set(attrs) <= RENDERED_ATTRS, attrs
            assert "href" not in attrs or attrs["href"].startswith(("#src-", "https://")), attrs
    sources = app.render_sources(answer)
    assert html.escape(XSS_TITLE) in sources
    assert XSS_TITLE in visible(sources)
    assert '<a href="https://example.org/zebrafish-renderer"' in sources
    assert 'href="javascript' not in sources and "alert(6)" not in sources
    assert "<mark>This abstract is about the zebrafish renderer benchmark" in sources
    assert 'id="src-1"' in sources and "Also retrieved" in sources and "Lab &amp; Co" in sources


def test_citations_link_to_cards_only_when_cited():
    answer = hostile_answer()
    bubble = app.render_answer(answer)
    assert bubble.count('class="rag-cite" href="#src-1"') == 1
    assert "[7]" in visible(bubble) and "#src-7" not in bubble  # not a citation: plain text
    assert "Note:" in visible(bubble) and "note with <u>markup</u>" in visible(bubble)
    assert "Not supported by the sources" in visible(bubble)
    # An older answer's cards are gone: its [n] opens the paper, and only a http(s) url is ever linked.
    older = app.render_answer(answer, current=False)
    assert "#src-" not in older and "[1]" in visible(older)
    answer.citations[0].url = "https://example.org/p1"
    assert 'href="https://example.org/p1"' in app.render_answer(answer, current=False)


def test_abstention_is_shown():
    answer = hostile_answer()
    answer.abstained, answer.citations, answer.text = True, [], "The indexed papers don't seem to answer this."
    assert "No answer found" in visible(app.render_answer(answer))
    assert "Closest papers (2)" in app.render_sources(answer)


def test_safe_url():
    assert app.safe_url("https://huggingface.co/papers?q=a%20b") == "https://huggingface.co/papers?q=a%20b"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "/relative", "http://", "",
                None, "https://a.b/\nx", " https://a.b"):
        assert app.safe_url(bad) is None, bad


def test_auth_setting():
    assert app.parse_auth(None) is None
    assert app.parse_auth("ann:s3:cret") == ("ann", "s3:cret")
    with pytest.raises(SystemExit):
        app.parse_auth("no-colon")


def test_answers_run_up_to_the_configured_concurrency(built_settings):
    demo = app.build_app(Assistant(built_settings.model_copy(update={"ui_concurrency": 3})))
    limits = {fn.concurrency_limit for fn in demo.fns.values() if fn.concurrency_id == "answer"}
    assert limits == {3}


# --------------------------------------------------------------------------------------------------------
# The running app through gradio_client
# --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_question_gets_cited_answer(client, assistant):
    box, chat, sources, copy = ask(client, QUESTION)
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    bubble = text_of(chat[-1])
    assert "[1]" in visible(bubble)
    assert 'href="#src-1"' in bubble
    expected = assistant.ask(QUESTION, k=8)
    first = next(c for c in expected.citations if c.number == 1)
    assert html.escape(first.title) in sources and 'id="src-1"' in sources
    assert "<mark>" in sources
    assert copy.startswith(expected.text.splitlines()[0]) and f"[1] {first.title}. {first.url}" in copy


@pytest.mark.slow
def test_follow_up_uses_history(client):
    ask(client, "How much does best-first search improve a GPT-4o web agent on VisualWebArena?")
    _, chat, sources, _ = ask(client, "How many authors does it have?")
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2
    bubble = visible(text_of(chat[-1]))
    assert "Tree Search for Language Model Agents" in bubble and "authors" in bubble
    assert "<mark>4 authors</mark>" in sources
    # the first answer's cards were replaced: its [1] now opens the paper instead of an anchor
    assert "#src-" not in text_of(chat[1]) and "https://huggingface.co/papers?q=" in text_of(chat[1])


@pytest.mark.slow
@pytest.mark.parametrize("question, message", [
    ("", "The question is empty"),
    ("   \n\t ", "The question is empty"),
    ("x" * 100_000, "characters long"),
])
def test_bad_question_shows_message(client, question, message):
    _, chat, sources, copy = ask(client, question)
    bubble = text_of(chat[-1])
    assert chat[-1]["role"] == "assistant" and message in bubble and "rag-error" in bubble
    assert "Traceback" not in bubble and "Error:" not in bubble
    if question.strip():  # the question is shown (shortened when huge), then the message
        assert [m["role"] for m in chat] == ["user", "assistant"] and len(text_of(chat[0])) < 2000


@pytest.mark.slow
def test_bad_filter_shows_message(client):
    _, chat, _, _ = ask(client, QUESTION, date_from="2024-02-30")
    assert "not a valid date" in text_of(chat[-1])


@pytest.mark.slow
def test_filters_reach_retrieval(client, assistant):
    _, chat, sources, _ = ask(client, "language model agents", date_from="2024-06", date_to="2024", min_upvotes=1,
                              k=5)
    assert "Filters: Only papers dated 2024-06-01 to 2024-12-31 and at least 1 upvote." in text_of(chat[-1])
    ids = re.findall(r'data-paper-id="([^"]+)"', sources)
    assert 0 < len(ids) <= 5
    for paper_id in ids:
        paper = assistant.index.papers[paper_id]
        assert "2024-06-01" <= paper.date <= "2024-12-31" and paper.upvotes >= 1


@pytest.mark.slow
def test_abstention_in_chat(client):
    _, chat, sources, _ = ask(client, "What is the capital of France?")
    assert "No answer found" in text_of(chat[-1])
    assert "Closest papers" in sources


@pytest.mark.slow
def test_reset(client):
    ask(client, QUESTION)
    box, chat, sources, copy = client.predict(api_name="/reset")
    assert chat == [] and copy == "" and "Ask a question" in sources


@pytest.mark.slow
def test_page_loads_nothing_external(ui_url):
    page = httpx.get(ui_url, timeout=30).text
    theme = httpx.get(ui_url + "theme.css", timeout=30).text
    assert "fonts.googleapis" not in page + theme and "fonts.gstatic" not in page + theme
    assert "@import" not in theme
    # every script and stylesheet comes from this server (meta og:image tags are not fetched)
    external = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?://[^"]+)"', page)
    assert [u for u in external if not u.startswith(ui_url.rstrip("/"))] == []
    assert "ui-sans-serif" in theme


@pytest.mark.slow
def test_missing_index_is_reported_in_page(tmp_path):
    demo = app.build_app(Assistant(load_settings(data_dir=tmp_path / "empty")))
    try:
        config = httpx.get(launch(demo) + "config", timeout=30).text
    finally:
        demo.close()
    assert "rag ingest" in config and "not available" in config


@pytest.mark.slow
def test_ensure_index_builds_a_missing_index(tmp_path, encoder, capsys):
    corpus = tmp_path / "one.jsonl"
    corpus.write_text(json.dumps({"title": "A paper", "abstract": XSS_ABSTRACT}) + "\n", encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "index", corpus_paths=[corpus])
    assert app.ensure_index(settings, encoder=encoder, progress=False) is True
    assert "rag ingest" in capsys.readouterr().err
    assert app.ensure_index(settings, encoder=encoder) is False


@pytest.mark.slow
def test_python_app_py_binds_port_with_auth(built_settings, tmp_path):
    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(built_settings.data_dir), "RAG_HOST": "127.0.0.1",
           "RAG_PORT": str(port), "RAG_AUTH": "ann:secret"}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        assert httpx.get(base + "/config", timeout=10).status_code == 401
        with httpx.Client(base_url=base, timeout=10) as browser:
            assert browser.post("/login", data={"username": "ann", "password": "wrong"}).status_code >= 400
            assert browser.post("/login", data={"username": "ann", "password": "secret"}).status_code == 200
            assert browser.get("/config").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


# --------------------------------------------------------------------------------------------------------
# Real headless Chromium
# --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@needs_browser
def test_browser_chat_and_citation_jump(ui_url, tmp_path):
    result = run_browser(ui_url, QUESTION, tmp_path / "chat.png")
    assert result["title"] == app.TITLE
    assert result["external_requests"] == [] and result["page_errors"] == [] and result["dialogs"] == []
    assert result["citation_links"] >= 1 and "[1]" in result["answer_text"]
    assert result["cards"] >= result["citation_links"]
    assert "Cited sources" in result["sources_text"] or "CITED SOURCES" in result["sources_text"]
    target = result["target"]
    assert result["location_hash"] == result["clicked_href"] and target["id"] == result["clicked_href"][1:]
    assert target["targeted"] and target["highlighted"] and target["in_viewport"] and target["card_has_mark"]
    assert result["clicked_title"] in target["card_title"]
    assert result["copy_text"] and "\n[1] " in result["copy_text"]
    assert Path(result["screenshot"]).stat().st_size > 10_000


@pytest.mark.slow
@needs_browser
def test_browser_renders_hostile_paper_inert(xss_settings, tmp_path):
    demo = app.build_app(Assistant(xss_settings))
    try:
        result = run_browser(launch(demo), "What does the zebrafish renderer benchmark show?", tmp_path / "xss.png")
    finally:
        demo.close()
    assert result["dialogs"] == []
    assert result["dom"]["img_src_x"] == 0 and result["dom"]["onerror_attrs"] == 0
    assert result["dom"]["scripts_in_content"] == 0 and result["dom"]["javascript_links"] == 0
    assert result["citation_links"] == 1 and XSS_TITLE in result["target"]["card_title"]
    body = result["dom"]["body_text"]
    assert XSS_TITLE in body and "<script>alert(2)</script>" in body and "<b>bold</b>" in body
    assert result["external_requests"] == []
