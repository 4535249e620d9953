"""The chat UI (app.py, app_render.py): rendering, the API through gradio_client, `python app.py`, and real
headless Chromium (screenshots of the main states in tests/screens/, not committed).

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
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import app  # noqa: E402
import app_render as ui  # noqa: E402
from helpers import free_port, launch, tags_of, text_of, visible  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.config import PROJECT_ROOT, load_settings  # noqa: E402
from rag.corpus import Paper  # noqa: E402
from rag.index import ensure_index, ingest  # noqa: E402
from rag.types import Answer, AnswerStream, Citation, Filters, Source  # noqa: E402

# Gradio's queue calls pandas APIs that pandas 3 deprecates; not this project's warnings.
pytestmark = [pytest.mark.filterwarnings("ignore:::gradio.queueing"),
              pytest.mark.filterwarnings("ignore:::gradio.components.native_plot")]

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
SECOND_QUESTION = "Which papers study retrieval-augmented generation?"
RENDERED_TAGS = {"div", "p", "ul", "ol", "li", "a", "span", "strong", "mark", "article", "details", "summary",
                 "blockquote"}
RENDERED_ATTRS = {"class", "id", "href", "title", "target", "rel", "role", "data-paper-id", "open"}
# Screenshots of the main states, for a reviewer (git-ignored).
SCREENS = PROJECT_ROOT / "tests" / "screens"


# --------------------------------------------------------------------------------------------------------
# Helpers and fixtures
# --------------------------------------------------------------------------------------------------------

def ask(client, question, date_from="", date_to="", min_upvotes="", k=8):
    """One turn through the /ask endpoint: (textbox, chat messages, copy markdown)."""
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


def run_browser(url: str, scenario: str, **config) -> dict:
    """Plays one scenario of tests/ui_browser.mjs; its screenshots land in tests/screens/<scenario>/."""
    screens = SCREENS / scenario
    screens.mkdir(parents=True, exist_ok=True)
    config = {"url": url, "scenario": scenario, "screens": str(screens), **config}
    done = subprocess.run(["node", str(DRIVER), json.dumps(config)], capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"], result.get("error")
    assert result["external_requests"] == [] and result["page_errors"] == [] and result["dialogs"] == []
    print(f"\nscreenshots: {screens}")
    return result


needs_browser = pytest.mark.skipif(browser_ready() is not None, reason=browser_ready() or "")


class DrippingAssistant(Assistant):
    """The real answers, handed over a word at a time with a pause, as a slow LLM streams them."""

    def ask_stream(self, question, **kwargs):
        stream = super().ask_stream(question, **kwargs)

        def words():
            for delta in stream:
                for word in re.findall(r"\S+\s*|\s+", delta):
                    time.sleep(0.03)
                    yield word
            yield stream.answer

        return AnswerStream(words())


# --------------------------------------------------------------------------------------------------------
# Rendering (no server)
# --------------------------------------------------------------------------------------------------------

def hostile_answer() -> Answer:
    source = Source(paper_id="p1", title=XSS_TITLE, url="javascript:alert(5)", score=1.0, authors=2,
                    date="2024-05-01", date_text="May 1, 2024", upvotes=3, abstract=XSS_ABSTRACT,
                    links=["https://example.org/zebrafish-renderer", "javascript:alert(6)"], arxiv_id="2405.00001",
                    arxiv_url="https://arxiv.org/abs/2405.00001")
    other = Source(paper_id="p2", title="Other <b>paper</b>", url="https://example.org/p2", score=0.5,
                   org="Lab & Co", abstract="An abstract with <i>markup</i>.")
    quote = "This abstract is about the zebrafish renderer benchmark, which measures <b>bold</b> claims and " \
            "[a markdown link](javascript:alert(3)) inside abstracts."
    start = XSS_ABSTRACT.index(quote)
    citation = Citation(1, "p1", XSS_TITLE, "javascript:alert(5)", quote, start=start, end=start + len(quote))
    return Answer(question="q <script>", text=f"\u201c{XSS_TITLE}\u201d: {quote} [1] and a stray [7].",
                  citations=[citation], sources=[source, other], abstained=False, backend="extractive",
                  notes=["note with <u>markup</u>"], unsupported=["claim <img src=y onerror=alert(9)>"],
                  filters=Filters(date_from="2024-01-01", min_upvotes=2), question_filters=Filters(date_from="2024-01-01"),
                  matching=40)


def test_rendering_escapes_everything():
    answer = hostile_answer()
    for fragment in (ui.render_answer(answer, "t1", total=314), ui.render_question("<script>alert(1)</script>"),
                     ui.render_streaming("- <b>x</b> [1]"), ui.render_paper(PAPER_WITH_MARKUP)):
        for tag, attrs in tags_of(fragment):  # only the app's own markup, never the records'
            assert tag in RENDERED_TAGS, tag
            assert set(attrs) <= RENDERED_ATTRS, attrs
            assert "href" not in attrs or attrs["href"].startswith(("#t1-src-", "https://")), attrs
    bubble = ui.render_answer(answer, "t1", total=314)
    assert html.escape(XSS_TITLE) in bubble and XSS_TITLE in visible(bubble)
    assert '<a href="https://example.org/zebrafish-renderer"' in bubble
    assert 'href="javascript' not in bubble and "alert(6)" not in bubble
    assert "<mark>This abstract is about the zebrafish renderer benchmark" in bubble
    assert "Lab &amp; Co" in bubble and "Also retrieved: 1 more paper" in visible(bubble)


PAPER_WITH_MARKUP = Paper(paper_id="p3", title="<i>T</i>", abstract="<script>x</script>", url="javascript:x",
                          date="2024-01-02", upvotes=1, arxiv_id="2401.00002")


def test_each_answer_carries_its_own_sources():
    answer = hostile_answer()
    bubble = ui.render_answer(answer, "t3", total=314)
    assert bubble.count('class="rag-cite" href="#t3-src-1"') == 1 and 'id="t3-src-1"' in bubble
    assert "[7]" in visible(bubble) and "src-7" not in bubble  # not a citation: plain text
    assert "note with <u>markup</u>" in visible(bubble) and "Not supported by the sources" in visible(bubble)
    # the quote under the answer, the entry and arXiv links, the full abstract folded with the quote marked
    assert '<blockquote class="src-quote" id="t3-src-1">' in bubble
    assert '<a href="https://arxiv.org/abs/2405.00001" target="_blank"' in bubble and "arXiv 2405.00001" in bubble
    assert '<details class="src-abstract"><summary>Full abstract</summary>' in bubble
    assert "May 1, 2024 \u00b7 2 authors \u00b7 3 upvotes" in visible(bubble)
    # the filters as chips, the one read from the question marked so, and how many papers they admit
    assert 'rag-chip-question" title="read from your question">from 2024-01-01<' in bubble
    assert '<span class="rag-chip">\u2265 2 upvotes</span>' in bubble and "(40 of 314 papers)" in bubble
    assert "rag-limited" in ui.render_answer(answer, "t3", total=314, limited=True)


def test_abstention_is_said_once_with_clickable_closest_papers():
    answer = hostile_answer()
    answer.abstained, answer.citations, answer.text = True, [], "The indexed papers don't seem to answer this."
    bubble = ui.render_answer(answer, "t1", total=314)
    assert visible(bubble).count("answer this") == 1 and "No answer found" in visible(bubble)
    assert "Closest papers" in visible(bubble) and '<a href="https://example.org/p2"' in bubble


def test_streaming_never_shows_a_lone_bullet():
    assert visible(ui.render_streaming("")) == "Searching the papers\u2026"
    assert visible(ui.render_streaming("- ")) == "Searching the papers\u2026"
    assert visible(ui.render_streaming("- First [1]\n- ")) == "First [1]"
    assert "rag-cite" in ui.render_streaming("a [1]") and "href" not in ui.render_streaming("a [1]")


def test_papers_table_is_capped_and_says_so():
    many = [Paper(paper_id=f"p{i}", title=f"Paper {i}", abstract="A.", url="https://example.org", date="2024-01-02")
            for i in range(ui.TABLE_ROWS + 5)]
    assert len(ui.paper_rows(many)) == ui.TABLE_ROWS
    assert f"newest {ui.TABLE_ROWS:,}" in visible(ui.render_filter_summary(Filters(), None, len(many), len(many)))
    assert "newest" not in visible(ui.render_filter_summary(Filters(), None, 10, len(many)))


def test_safe_url():
    assert ui.safe_url("https://huggingface.co/papers?q=a%20b") == "https://huggingface.co/papers?q=a%20b"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "/relative", "http://", "",
                None, "https://a.b/\nx", " https://a.b"):
        assert ui.safe_url(bad) is None, bad


def test_auth_setting():
    assert app.parse_auth(None) is None
    assert app.parse_auth("ann:s3:cret") == ("ann", "s3:cret")
    with pytest.raises(SystemExit):
        app.parse_auth("no-colon")


def test_app_py_only_lays_out_and_renders():
    source = (PROJECT_ROOT / "app.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 300
    # the page's styles and script are files read at start, not strings in app.py
    assert not re.search(r"^\s*[#.][\w-]+[^\n]*\{", source, re.MULTILINE) and "addEventListener" not in source
    assert (PROJECT_ROOT / "app_assets" / "app.css").is_file() and (PROJECT_ROOT / "app_assets" / "app.js").is_file()


def test_answers_run_up_to_the_configured_concurrency(built_settings):
    demo = app.build_app(Assistant(built_settings.model_copy(update={"ui_concurrency": 3})))
    limits = {fn.concurrency_limit for fn in demo.fns.values() if fn.concurrency_id == "answer"}
    assert limits == {3}


# --------------------------------------------------------------------------------------------------------
# The running app through gradio_client
# --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_question_gets_cited_answer_with_its_sources(client, assistant):
    box, chat, copy = ask(client, QUESTION)
    assert box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    bubble = text_of(chat[-1])
    assert "[1]" in visible(bubble) and 'href="#t1-src-1"' in bubble and 'id="t1-src-1"' in bubble
    expected = assistant.ask(QUESTION, k=8)
    first = next(c for c in expected.citations if c.number == 1)
    assert html.escape(first.title) in bubble and html.escape(first.quote) in bubble and "<mark>" in bubble
    numbers, title, url = expected.references()[0]  # "[1][2]" when the first paper is quoted twice
    assert numbers.startswith("[1]") and title == first.title and url == first.url
    assert copy.startswith(expected.text.splitlines()[0]) and f"{numbers} {title}. {url}" in copy


@pytest.mark.slow
def test_follow_up_uses_history_and_earlier_citations_keep_their_sources(client):
    ask(client, "How much does best-first search improve a GPT-4o web agent on VisualWebArena?")
    _, chat, _ = ask(client, "How many authors does it have?")
    assert [m["role"] for m in chat] == ["user", "assistant"] * 2
    bubble = text_of(chat[-1])
    assert "Tree Search for Language Model Agents" in visible(bubble) and "authors" in visible(bubble)
    assert "(listed authors)" in visible(bubble)
    # each answer links its [n] to its own quotes
    assert 'href="#t1-src-1"' in text_of(chat[1]) and 'id="t1-src-1"' in text_of(chat[1])
    assert 'href="#t2-src-1"' in bubble and 'id="t2-src-1"' in bubble


@pytest.mark.slow
@pytest.mark.parametrize("question, message", [
    ("", "The question is empty"),
    ("   \n\t ", "The question is empty"),
    ("x" * 100_000, "characters long"),
])
def test_bad_question_shows_message(client, question, message):
    _, chat, _ = ask(client, question)
    bubble = text_of(chat[-1])
    assert chat[-1]["role"] == "assistant" and message in bubble and "rag-error" in bubble
    assert "Traceback" not in bubble and "Error:" not in bubble
    if question.strip():  # the question is shown (shortened when huge), then the message
        assert [m["role"] for m in chat] == ["user", "assistant"] and len(text_of(chat[0])) < 2000


@pytest.mark.slow
def test_bad_filter_shows_message(client):
    _, chat, _ = ask(client, QUESTION, date_from="2024-02-30")
    assert "not a valid date" in text_of(chat[-1])
    _, chat, _ = ask(client, QUESTION, min_upvotes="many")
    assert "Minimum upvotes must be a whole number" in text_of(chat[-1])


@pytest.mark.slow
def test_filters_reach_retrieval_and_show_as_chips(client, assistant):
    _, chat, _ = ask(client, "language model agents", date_from="2024-06", date_to="2024", min_upvotes="1", k=5)
    bubble = text_of(chat[-1])
    assert '<span class="rag-chip">from 2024-06-01</span>' in bubble and "\u2265 1 upvote<" in bubble
    ids = re.findall(r'data-paper-id="([^"]+)"', bubble)
    assert 0 < len(ids) <= 5
    for paper_id in ids:
        paper = assistant.index.papers[paper_id]
        assert "2024-06-01" <= paper.date <= "2024-12-31" and paper.upvotes >= 1


@pytest.mark.slow
def test_filters_that_exclude_everything_say_so(client):
    _, chat, _ = ask(client, QUESTION, date_from="2024", min_upvotes="500")
    bubble = visible(text_of(chat[-1]))
    assert "0 of 314 papers match the filters" in bubble and "No answer found" in bubble


@pytest.mark.slow
def test_abstention_in_chat(client):
    _, chat, _ = ask(client, "What is the capital of France?")
    bubble = text_of(chat[-1])
    assert "No answer found" in bubble and "Closest papers" in bubble and 'class="src-title"' in bubble


@pytest.mark.slow
def test_reset(client):
    ask(client, QUESTION)
    box, chat, copy = client.predict(api_name="/reset")
    assert chat == [] and copy == ""


@pytest.mark.slow
def test_papers_endpoint_lists_the_filtered_corpus(client, assistant):
    summary, table, months, _ = client.predict("tree search", "2024", "", "", api_name="/papers")
    rows = table["data"]
    assert f"{len(rows)} of 314 papers" in visible(summary) and "from 2024-01-01" in visible(summary)
    assert rows and all(row[1] >= "2024-01-01" for row in rows)
    assert sum(n for _, n in months["data"]) == len(rows)


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
def test_ensure_index_builds_a_missing_index(tmp_path, encoder):
    corpus = tmp_path / "one.jsonl"
    corpus.write_text(json.dumps({"title": "A paper", "abstract": XSS_ABSTRACT}) + "\n", encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "index", corpus_paths=[corpus])
    notices = []
    assert ensure_index(settings, encoder=encoder, progress=False, notice=notices.append).new == 1
    assert len(notices) == 1 and "rag ingest" in notices[0]
    assert ensure_index(settings, encoder=encoder, notice=notices.append) is None and len(notices) == 1


@contextmanager
def served(command: list[str], cwd: Path, log: Path, **env: str):
    """The app started as a user would (a command in a folder, settings in the environment), until it answers
    on its port: yields the base url."""
    port = free_port()
    env = {**os.environ, "RAG_HOST": "127.0.0.1", "RAG_PORT": str(port), **env}
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    if httpx.get(base + "/", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.mark.slow
def test_python_app_py_binds_port_with_auth(built_settings, tmp_path):
    with served([sys.executable, "app.py"], PROJECT_ROOT, tmp_path / "server.log",
                RAG_DATA_DIR=str(built_settings.data_dir), RAG_AUTH="ann:secret") as base:
        assert httpx.get(base + "/config", timeout=10).status_code == 401
        with httpx.Client(base_url=base, timeout=10) as browser:
            assert browser.post("/login", data={"username": "ann", "password": "wrong"}).status_code >= 400
            assert browser.post("/login", data={"username": "ann", "password": "secret"}).status_code == 200
            assert browser.get("/config").status_code == 200


@pytest.mark.slow
def test_rag_serve_from_another_folder_brings_the_styles_and_script(built_settings, tmp_path):
    rag = Path(sys.executable).with_name("rag")
    with served([str(rag), "serve"], tmp_path, tmp_path / "server.log", RAG_DATA_DIR=str(built_settings.data_dir)) as base:
        page = httpx.get(base + "/", timeout=10).text
        config = httpx.get(base + "/config", timeout=10).text
    assert "rag-preview" in page  # app_assets/app.js, in the head
    assert "#rag-chips" in config and "Ask about this paper" in config  # app_assets/app.css, and the layout


# --------------------------------------------------------------------------------------------------------
# Real headless Chromium
# --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@needs_browser
def test_browser_evidence_with_each_answer(ui_url, assistant):
    result = run_browser(ui_url, "chat", question=QUESTION, second_question=SECOND_QUESTION)
    assert result["title"] == app.TITLE and "314 papers, dated" in result["header"]
    # the box takes no more than the library accepts, so the page never shows the too-long message
    assert result["question_max_length"] == assistant.settings.max_question_chars
    # rough edges: no tall empty box, no label over the messages, one "New chat", examples shown whole
    assert result["empty_chat_height"] < 300 and result["chat_label"] == 0 and result["trash_buttons"] == 0
    assert [e["text"] for e in result["examples"]] == app.EXAMPLES and not any(e["cut"] for e in result["examples"])
    # the answer's own sources, a preview card on hover, the abstract one click away with the quote in view
    assert result["first_sources"] >= 1 and result["first_citation"]["same_answer"]
    first = result["first_citation"]
    assert result["hover_preview"] == {"title": first["title"], "quote": first["quote"], "in_viewport": True}
    assert result["abstract"]["open"] and result["abstract"]["mark_in_viewport"]
    assert result["abstract"]["mark"] in first["quote"] or first["quote"] in result["abstract"]["mark"]
    assert result["entry_links"][0]["text"] == "Paper page" and result["entry_links"][0]["target"] == "_blank"
    # after a newer answer, the first answer's [1] still shows its own source
    assert result["second_citation"]["title"] != first["title"]
    assert result["earlier_preview"]["title"] == first["title"] and result["earlier_preview"]["quote"] == first["quote"]
    assert result["earlier_location"].endswith("#t1-src-1")
    # the copied references group each paper's numbers ("[1][2] Title" when it is quoted twice)
    assert re.search(r"\n\[1\](?:\[\d+\])* ", result["copy_text"])


@pytest.mark.slow
@needs_browser
def test_browser_filter_chips(ui_url):
    result = run_browser(ui_url, "filters", question=QUESTION, date_from="2024", min_upvotes="500",
                         filtered_question="Which papers from 2024 use tree search for language model agents?")
    assert result["chips"] == ["from 2024-01-01 \u2715", "\u2265 500 upvotes \u2715"]
    assert "0 of 314 papers match the filters" in result["blocked_text"] and result["blocked_citations"] == 0
    assert result["retry_visible"]
    # one click on a chip removes its filter, and the same question is answered again
    assert result["chips_after_removal"] == ["from 2024-01-01 \u2715"]
    assert result["freed_citations"] >= 1 and "papers match the filters" not in result["freed_text"]
    assert "from 2024-01-01" in result["question_chips"]
    # "Clear the filters and ask again" clears every filter and answers the question
    assert result["retried_citations"] >= 1 and result["chips_after_retry"] == [] and not result["retry_after_retry"]


@pytest.mark.slow
@needs_browser
def test_browser_papers_tab(ui_url, assistant):
    result = run_browser(ui_url, "papers", search="tree search")
    assert "314 of 314 papers" in result["summary_all"] and result["plots"] >= 2
    assert [h.strip() for h in result["headers"]][:4] == ui.PAPER_COLUMNS
    found = int(result["summary_search"].split(" of 314 papers")[0])
    assert 0 < len(result["search_titles"]) <= found < 314  # the table shows the rows in view
    assert "Tree Search for Language Model Agents" in result["search_titles"]
    paper = next(p for p in assistant.index.papers.values() if p.title == result["search_titles"][0])
    assert result["picked_title"] == paper.title and result["picked_abstract"].strip() == paper.abstract.strip()
    assert result["chat_selected"] == "true" and paper.title in result["about_question"]
    assert paper.title in result["about_sources"]


@pytest.mark.slow
@needs_browser
def test_browser_mobile(ui_url):
    result = run_browser(ui_url, "mobile", question=QUESTION)
    assert 0 <= result["layout"]["gap"] < 60 and result["layout"]["page_width"] <= 390  # sources right under it
    assert result["scroll_boxes"] == []
    first = result["first_citation"]
    assert result["tap_preview"] == {"title": first["title"], "quote": first["quote"], "in_viewport": True}


@pytest.mark.slow
@needs_browser
def test_browser_streams_the_answer(built_settings, assistant):
    demo = app.build_app(DrippingAssistant(built_settings, encoder=assistant.encoder))
    try:
        result = run_browser(launch(demo), "stream", question=QUESTION)
    finally:
        demo.close()
    partial = [text for text in result["streamed"] if text != "Searching the papers\u2026"]
    assert result["streamed"][0] == "Searching the papers\u2026" and len(partial) >= 5
    assert all(len(a) < len(b) for a, b in zip(partial, partial[1:]))  # it grows
    assert not any(text.strip() in {"-", "*", "\u2022"} for text in partial)
    assert result["final_citations"] >= 1


@pytest.mark.slow
@needs_browser
def test_browser_renders_hostile_paper_inert(xss_settings):
    demo = app.build_app(Assistant(xss_settings))
    try:
        result = run_browser(launch(demo), "inert", question="What does the zebrafish renderer benchmark show?")
    finally:
        demo.close()
    assert result["dom"]["img_src_x"] == 0 and result["dom"]["onerror_attrs"] == 0
    assert result["dom"]["scripts_in_content"] == 0 and result["dom"]["javascript_links"] == 0
    assert result["citation_links"] == 1 and result["first_citation"]["title"] == XSS_TITLE
    body = result["dom"]["body_text"]
    assert XSS_TITLE in body and "<script>alert(2)</script>" in body and "<b>bold</b>" in body
