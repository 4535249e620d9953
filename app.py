"""The Gradio chat UI: a thin shell over `rag` (all retrieval and answering happen in the library).

Start it with `python app.py` or `rag serve`. It binds `settings.host:settings.port` (RAG_HOST / RAG_PORT,
default 127.0.0.1:7860), asks for basic auth when `settings.auth` ("user:password", RAG_AUTH) is set, and
builds the index first when there is none. See docs/UI.md.

Everything shown comes from paper records or the user, so every string is passed through `html.escape`
before it is put into HTML, and links go only to a paper's own url or the links found in its abstract,
and only when they are http(s).
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no calls home

import html
import logging
import re
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import gradio as gr

from rag.assistant import Assistant
from rag.config import RagSettings, load_settings
from rag.errors import RagError
from rag.text import CITATION_MARK
from rag.types import Answer, Citation, Filters, Source, Turn, checked_k

log = logging.getLogger("rag.app")

TITLE = "Ask the papers"
EXAMPLES = [
    "Which papers use tree search for language model agents?",
    "How much does best-first search improve a GPT-4o web agent on VisualWebArena?",
    "What benchmarks evaluate web agents?",
    "Which papers study retrieval-augmented generation?",
    "How many authors does Tree Search for Language Model Agents have?",
]
# A question longer than this is shortened in the chat bubble (the library still sees all of it).
SHOWN_QUESTION_CHARS = 600
# Least time between two streamed updates of an answer.
STREAM_INTERVAL_S = 0.1
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
                "Noto Sans", "Liberation Sans", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "DejaVu Sans Mono",
              "monospace"]

CSS = """
.gradio-container { max-width: 1400px !important; margin: 0 auto !important; }
#rag-header h1 { margin-bottom: 0.2em; }
#rag-header p { margin-top: 0; opacity: 0.75; }
#rag-index-warning { border: 1px solid #d97706; background: #fffbeb; color: #78350f; border-radius: 8px;
  padding: 10px 14px; }
#rag-index-warning code { color: inherit; }
.rag-answer p { margin: 0 0 0.5em 0; }
.rag-answer p:last-child { margin-bottom: 0; }
.rag-answer ul { margin: 0.2em 0 0.5em 1.2em; padding: 0; }
.rag-answer li { margin: 0.25em 0; }
a.rag-cite, span.rag-cite { font-size: 0.8em; font-weight: 600; vertical-align: super; line-height: 0;
  text-decoration: none; padding: 0 1px; }
a.rag-cite { color: var(--color-accent); }
a.rag-cite:hover { text-decoration: underline; }
span.rag-cite { color: var(--body-text-color-subdued); }
.rag-notice { border-radius: 6px; padding: 6px 10px; margin: 0 0 0.6em 0; font-size: 0.92em; }
.rag-abstain { border: 1px solid #d97706; background: #fffbeb; color: #78350f; }
.rag-error { border: 1px solid #dc2626; background: #fef2f2; color: #7f1d1d; }
.rag-note { border: 1px solid #2563eb55; background: #eff6ff; color: #1e3a8a; margin-top: 0.6em; }
.rag-unsupported { border: 1px solid #dc262655; background: #fff7ed; color: #7c2d12; margin-top: 0.6em; }
.rag-unsupported ul { margin: 0.2em 0 0 1.2em; }
.rag-filters-used { font-size: 0.8em; color: var(--body-text-color-subdued); margin-top: 0.5em; }
.rag-pending { color: var(--body-text-color-subdued); font-style: italic; }
.rag-question-cut { color: var(--body-text-color-subdued); font-style: italic; }
#rag-sources { max-height: calc(100vh - 150px); min-height: 200px; overflow-y: auto !important; padding-right: 4px; }
.rag-sources h3 { font-size: 0.95em; text-transform: uppercase; letter-spacing: 0.04em;
  color: var(--body-text-color-subdued); margin: 0.9em 0 0.4em 0; }
.rag-sources h3:first-child { margin-top: 0; }
.rag-empty { color: var(--body-text-color-subdued); padding: 1em 0.2em; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  margin: 0 0 10px 0; background: var(--block-background-fill); scroll-margin-top: 12px;
  transition: box-shadow 0.2s, border-color 0.2s; }
.src-card:target, .src-card:has(.src-anchor:target), .src-card.src-targeted {
  border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft); }
.src-head { font-weight: 600; line-height: 1.35; }
.src-num { color: var(--color-accent); margin-right: 4px; white-space: nowrap; }
.src-head a { color: var(--body-text-color); text-decoration: none; padding: 0; }
.src-links a, .rag-answer a { padding: 0; }
.src-head a:hover { text-decoration: underline; }
.src-meta { font-size: 0.85em; color: var(--body-text-color-subdued); margin: 3px 0 6px 0; }
.src-meta mark, .src-abstract mark { background: #fde68a; color: #1f2937; border-radius: 2px; padding: 0 1px; }
.src-abstract { font-size: 0.9em; line-height: 1.5; margin: 0; white-space: pre-line; }
.src-card details summary { cursor: pointer; font-size: 0.85em; color: var(--body-text-color-subdued); }
.src-links { font-size: 0.85em; margin-top: 6px; word-break: break-all; }
.src-quote { font-size: 0.88em; border-left: 3px solid #fde68a; padding-left: 8px; margin: 6px 0 0 0; }
#rag-question button.submit-button { background: var(--button-primary-background-fill); color:
  var(--button-primary-text-color); font-weight: 600; border-radius: 6px; padding: 4px 14px; }
#rag-question button.submit-button:hover { background: var(--button-primary-background-fill-hover); }
"""

# A citation link is a plain href="#src-n" (it works without this script). The script only keeps the page
# still: it scrolls the sources panel, not the whole window, and marks the card it jumped to.
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a.rag-cite[href^="#src-"]');
  if (!link) return;
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  event.preventDefault();
  const card = target.closest(".src-card") || target;
  const panel = document.getElementById("rag-sources");
  document.querySelectorAll(".src-card.src-targeted").forEach((el) => el.classList.remove("src-targeted"));
  card.classList.add("src-targeted");
  history.replaceState(null, "", link.getAttribute("href"));
  const rect = card.getBoundingClientRect();
  const box = panel && panel.getBoundingClientRect();
  const panelShown = box && box.top >= 0 && box.top < window.innerHeight * 0.5;
  if (panelShown && panel.scrollHeight > panel.clientHeight) {
    panel.scrollTo({top: panel.scrollTop + rect.top - box.top - 6, behavior: "smooth"});
  } else if (rect.top < 0 || rect.bottom > window.innerHeight) {
    card.scrollIntoView({behavior: "smooth", block: "nearest"});
  }
}, true);
</script>
"""



# ---------------------------------------------------------------------------------------------------------
# Rendering: pure functions from library results to (escaped) HTML.
# ---------------------------------------------------------------------------------------------------------

def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """The url when it is a plain http(s) link, else None (no javascript:, data:, relative or odd urls)."""
    if not url or not isinstance(url, str) or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def link(url: str | None, text: str, *, cls: str | None = None, title: str | None = None) -> str:
    """An external link opening in a new tab, or just the escaped text when the url is not safe."""
    target = safe_url(url)
    if target is None:
        return esc(text)
    attrs = f' class="{esc(cls)}"' if cls else ""
    attrs += f' title="{esc(title)}"' if title else ""
    return f'<a href="{esc(target)}" target="_blank" rel="noopener noreferrer"{attrs}>{esc(text)}</a>'


def _inline(text: str, citations: dict[int, Citation] | None, mode: str) -> str:
    """Escaped text with its [n] markers as citation links.

    mode "anchor": [n] jumps to the source card #src-n (the answer whose sources are on screen);
    mode "url": [n] opens the paper (older answers, whose cards are gone); mode "plain": not linked yet.
    """
    out, last = [], 0
    for match in CITATION_MARK.finditer(text):
        number = int(match.group(1))
        citation = (citations or {}).get(number)
        if mode == "plain":
            marker = f'<span class="rag-cite">[{number}]</span>'
        elif citation is None:
            continue  # a bracketed number quoted from an abstract, not a citation: leave it as text
        elif mode == "anchor":
            marker = f'<a class="rag-cite" href="#src-{number}" title="{esc(citation.title)}">[{number}]</a>'
        else:
            marker = link(citation.url, f"[{number}]", cls="rag-cite", title=citation.title)
        out.append(esc(text[last:match.start()]))
        out.append(marker)
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def render_text(text: str, citations: dict[int, Citation] | None = None, mode: str = "anchor") -> str:
    """Answer text as HTML: paragraphs, "- " lines as a list, [n] as citation links. Text is never HTML."""
    blocks: list[str] = []
    items: list[str] = []

    def flush_items() -> None:
        if items:
            blocks.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("- ", "* ", "\u2022 ")):
            items.append(_inline(stripped[2:], citations, mode))
            continue
        flush_items()
        if stripped:
            blocks.append(f"<p>{_inline(stripped, citations, mode)}</p>")
    flush_items()
    return "".join(blocks)


def render_answer(answer: Answer, *, current: bool = True, filters: str = "") -> str:
    """The chat bubble of a finished answer: notice, text with citations, notes, unsupported sentences."""
    citations = {c.number: c for c in answer.citations}
    parts = ['<div class="rag-answer">']
    if answer.abstained:
        closest = " The closest papers are listed under Sources." if current and answer.sources else ""
        parts.append(f'<div class="rag-notice rag-abstain" role="status"><strong>No answer found.</strong> '
                     f'The indexed papers do not seem to answer this question.{esc(closest)}</div>')
    parts.append(render_text(answer.text, citations, "anchor" if current else "url"))
    for note in answer.notes:
        parts.append(f'<div class="rag-notice rag-note" role="note"><strong>Note:</strong> {esc(note)}</div>')
    if answer.unsupported:
        items = "".join(f"<li>{esc(sentence)}</li>" for sentence in answer.unsupported)
        parts.append('<div class="rag-notice rag-unsupported" role="note"><strong>Not supported by the '
                     f'sources</strong> (left out of the answer or unverified):<ul>{items}</ul></div>')
    if filters:
        parts.append(f'<div class="rag-filters-used">Filters: {esc(filters)}</div>')
    parts.append("</div>")
    return "".join(parts)


def render_streaming(text: str) -> str:
    body = render_text(text, None, "plain") or '<p class="rag-pending">Searching the papers\u2026</p>'
    return f'<div class="rag-answer rag-streaming">{body}</div>'


def render_error(message: str) -> str:
    return f'<div class="rag-answer"><div class="rag-notice rag-error" role="alert">{esc(message)}</div></div>'


def render_question(question: str) -> str:
    shown = question if len(question) <= SHOWN_QUESTION_CHARS else question[:SHOWN_QUESTION_CHARS]
    cut = len(question) - len(shown)
    tail = f'<span class="rag-question-cut">\u2026 ({cut:,} more characters)</span>' if cut else ""
    shown = UNPRINTABLE.sub("\ufffd", shown)  # NUL, control characters and lone surrogates are not HTML text
    return f'<div class="rag-question">{esc(shown)}{tail}</div>'


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _find(abstract: str, quote: str) -> tuple[int, int] | None:
    """Where the quote is in the abstract: verbatim, else ignoring case and runs of whitespace."""
    if not quote:
        return None
    at = abstract.find(quote)
    if at >= 0:
        return at, at + len(quote)
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(word) for word in words)
    match = re.search(pattern, abstract, re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def highlight(abstract: str, quotes: list[str]) -> tuple[str, list[str]]:
    """The escaped abstract with each quote wrapped in <mark>, and the quotes that were not found in it."""
    spans, missing = [], []
    for quote in quotes:
        span = _find(abstract, quote)
        if span:
            spans.append(span)
        else:
            missing.append(quote)
    out, last = [], 0
    for start, end in _merge_spans(spans):
        out.append(esc(abstract[last:start]))
        out.append(f"<mark>{esc(abstract[start:end])}</mark>")
        last = end
    out.append(esc(abstract[last:]))
    return "".join(out), missing


def _meta(source: Source, marked: set[str]) -> str:
    """Date, authors (or organisation) and upvotes; the ones cited as facts are highlighted."""
    facts = []
    if source.date_text or source.date:
        facts.append(("date", source.date_text or source.date))
    if source.authors is not None:
        facts.append(("authors", f"{source.authors} author{'s' if source.authors != 1 else ''}"))
    if source.org:
        facts.append(("org", source.org))
    if source.upvotes is not None:
        facts.append(("upvotes", f"{source.upvotes} upvote{'s' if source.upvotes != 1 else ''}"))
    shown = [f"<mark>{esc(text)}</mark>" if field in marked else esc(text) for field, text in facts]
    return '<div class="src-meta">' + (" \u00b7 ".join(shown) or "date and authors not listed") + "</div>"


def _links(source: Source) -> str:
    safe = [url for url in source.links if safe_url(url)]
    if not safe:
        return ""
    return '<div class="src-links">Links: ' + ", ".join(link(url, url) for url in safe) + "</div>"


def render_card(source: Source, citations: list[Citation], *, fold_abstract: bool) -> str:
    numbers = [c.number for c in citations]
    anchor = f' id="src-{numbers[0]}"' if numbers else ""
    extra = "".join(f'<span class="src-anchor" id="src-{n}"></span>' for n in numbers[1:])
    label = "".join(f"[{n}]" for n in numbers)
    num = f'<span class="src-num">{label}</span>' if numbers else ""
    quotes = [c.quote for c in citations if c.field == "abstract"]
    marked = {c.field for c in citations if c.field != "abstract"}
    abstract, missing = highlight(source.abstract, quotes)
    body = f'<p class="src-abstract">{abstract}</p>'
    if missing:  # should not happen (quotes are verbatim), but never drop the evidence silently
        body += "".join(f'<blockquote class="src-quote"><mark>{esc(q)}</mark></blockquote>' for q in missing)
    if fold_abstract:
        body = f"<details><summary>Abstract</summary>{body}</details>"
    cited = " src-cited" if numbers else ""
    return (f'<article class="src-card{cited}"{anchor} data-paper-id="{esc(source.paper_id)}">'
            f'{extra}<div class="src-head">{num}{link(source.url, source.title, cls="src-title")}</div>'
            f"{_meta(source, marked)}{body}{_links(source)}</article>")


def render_sources(answer: Answer) -> str:
    """The sources panel: the cited papers (cards #src-n), then the other retrieved papers."""
    by_paper: dict[str, list[Citation]] = {}
    for citation in sorted(answer.citations, key=lambda c: c.number):
        by_paper.setdefault(citation.paper_id, []).append(citation)
    sources = {s.paper_id: s for s in answer.sources}
    parts = ['<div class="rag-sources">']
    if by_paper:
        parts.append(f"<h3>Cited sources ({len(by_paper)})</h3>")
        for paper_id, citations in by_paper.items():
            source = sources.get(paper_id) or Source(paper_id=paper_id, title=citations[0].title,
                                                     url=citations[0].url, score=0.0)
            parts.append(render_card(source, citations, fold_abstract=False))
    rest = [s for s in answer.sources if s.paper_id not in by_paper]
    if rest:
        heading = "Closest papers" if answer.abstained or not by_paper else "Also retrieved"
        parts.append(f"<h3>{heading} ({len(rest)})</h3>")
        parts += [render_card(s, [], fold_abstract=True) for s in rest]
    if not by_paper and not rest:
        parts.append('<div class="rag-empty">No paper matched the question and filters.</div>')
    parts.append("</div>")
    return "".join(parts)


EMPTY_SOURCES = ('<div class="rag-sources"><div class="rag-empty">Ask a question: the papers behind the answer '
                 "appear here, with the quoted sentences highlighted.</div></div>")


# ---------------------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------------------




def new_session() -> dict:
    """Per-browser-session state: the turns so far, and what the side panels show."""
    return {"turns": [], "sources": EMPTY_SOURCES, "copy": ""}


def chat_messages(session: dict) -> list[dict]:
    messages = []
    for turn in session["turns"]:
        if turn.get("user") is not None:
            messages.append({"role": "user", "content": turn["user"]})
        messages.append({"role": "assistant", "content": turn["bot"]})
    return messages


# ---------------------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------------------

class ChatApp(gr.Blocks):
    """gr.Blocks whose launch() brings its own theme and CSS (Gradio 6 takes them in launch, not Blocks)."""

    def launch(self, *args, **kwargs):
        kwargs.setdefault("theme", gr.themes.Default(primary_hue="indigo", font=SYSTEM_FONTS, font_mono=MONO_FONTS))
        kwargs.setdefault("css", CSS)
        kwargs.setdefault("head", HEAD)
        kwargs.setdefault("footer_links", ["api", "settings"])
        return super().launch(*args, **kwargs)


def index_problem(assistant: Assistant) -> str | None:
    """A message when the index cannot be loaded (missing, wrong model...), else None."""
    try:
        _ = assistant.index
    except RagError as exc:
        return str(exc)
    return None


def build_app(assistant: Assistant) -> gr.Blocks:
    settings = assistant.settings
    problem = index_problem(assistant)
    papers = None if problem else len(assistant.index)

    def respond(question, session, date_from, date_to, min_upvotes, k) -> Iterator[tuple]:
        session = session or new_session()
        question = question if isinstance(question, str) else ""
        turn = {"user": render_question(question) if question.strip() else None,
                "bot": render_streaming("")}
        turns = session["turns"]
        turns.append(turn)

        def emit(box: str = ""):
            return box, chat_messages(session), session["sources"], session["copy"], session

        yield emit()
        history = [Turn(t["question"], t["answer"]) for t in turns if "answer" in t]
        try:
            filters = Filters.from_inputs(date_from, date_to, min_upvotes)
            stream = assistant.ask_stream(question, k=checked_k(k, settings.top_k), filters=filters,
                                          history=history)
            text, shown = "", 0.0
            for delta in stream:
                text += delta
                # Every update re-sends and re-sanitises the whole chat: a few per second read as streaming
                # and keep many concurrent chats cheap (an extractive answer arrives all at once anyway).
                if time.monotonic() - shown >= STREAM_INTERVAL_S:
                    turn["bot"] = render_streaming(text)
                    yield emit()
                    shown = time.monotonic()
            answer = stream.answer
        except RagError as exc:
            turn["bot"] = render_error(str(exc))
            turn["error"] = True
            yield emit(question)  # the question stays in the box to be fixed
            return
        except Exception as exc:  # never a stack trace in the page; it goes to the server log
            log.exception("answering %r failed", question[:200])
            turn["bot"] = render_error(f"Something went wrong while answering ({type(exc).__name__}). "
                                       "The details are in the server log; please try again.")
            turn["error"] = True
            yield emit(question)
            return
        for older in turns[:-1]:  # their cards are replaced: their [n] now open the papers instead
            if "answer_obj" in older:
                older["bot"] = render_answer(older.pop("answer_obj"), current=False, filters=older["filters"])
        used = filters.in_words()
        turn.update(question=answer.question, answer=answer.text, answer_obj=answer, filters=used,
                    bot=render_answer(answer, filters=used))
        session["sources"] = render_sources(answer)
        session["copy"] = answer.references_markdown()
        yield emit()

    def reset():
        session = new_session()
        return "", [], session["sources"], session["copy"], session

    subtitle = (f"Cited answers from {papers:,} AI paper abstracts, offline. Every [n] links to the paper "
                "it quotes; the sources panel highlights the quoted sentence." if papers is not None else "")
    with ChatApp(title=TITLE, analytics_enabled=False) as demo:
        session = gr.State(new_session())
        gr.Markdown(f"# {TITLE}\n{subtitle}", elem_id="rag-header")
        if problem:
            gr.HTML(f'<div id="rag-index-warning" role="alert"><strong>The paper index is not available.</strong> '
                    f"{esc(problem)}<br>Build it with <code>rag ingest</code> and restart the app.</div>")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                chatbot = gr.Chatbot(
                    label="Chat", elem_id="rag-chat", height=540, render_markdown=False, sanitize_html=True,
                    allow_tags=False, latex_delimiters=[], feedback_options=None, buttons=[],
                    placeholder="Ask about the indexed AI papers. Follow-up questions use the conversation.",
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Question", show_label=False, placeholder="Ask a question about the papers\u2026",
                        lines=1, max_lines=6, scale=6, elem_id="rag-question", autofocus=True, container=False,
                        submit_btn="Ask",
                    )
                    clear = gr.Button("New chat", variant="secondary", scale=0, min_width=130, elem_id="rag-clear")
                examples = gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="Example questions")
                with gr.Accordion("Filters", open=False, elem_id="rag-filters"):
                    with gr.Row():
                        date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", max_lines=1,
                                               elem_id="rag-date-from")
                        date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", max_lines=1,
                                             elem_id="rag-date-to")
                        min_upvotes = gr.Number(label="Minimum upvotes", value=None, minimum=0, precision=0,
                                                elem_id="rag-min-upvotes")
                    k = gr.Slider(1, 50, value=settings.top_k, step=1, label="Papers to retrieve (k)",
                                  elem_id="rag-k")
                    gr.Markdown("Dates also accept `YYYY` or `YYYY-MM`. A date bound leaves out papers whose "
                                "listing shows no year; a bound written in the question (\u201cfrom 2024\u201d) "
                                "works too.", elem_classes=["rag-help"])
                with gr.Accordion("Copy answer with references", open=False, elem_id="rag-copy-box"):
                    copy = gr.Textbox(label="Answer with references", show_label=False, lines=6, max_lines=20,
                                      interactive=False, buttons=["copy"], elem_id="rag-copy",
                                      placeholder="The last answer, as markdown with a numbered bibliography.")
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### Sources")
                sources = gr.HTML(EMPTY_SOURCES, label="Sources", elem_id="rag-sources")

        inputs = [question, session, date_from, date_to, min_upvotes, k]
        outputs = [question, chatbot, sources, copy, session]
        gr.on([question.submit], respond, inputs=inputs, outputs=outputs, api_name="ask",
              show_progress="hidden", concurrency_limit=settings.ui_concurrency, concurrency_id="answer")
        examples.load_input_event.then(respond, inputs=inputs, outputs=outputs, api_visibility="private",
                                       show_progress="hidden", concurrency_limit=settings.ui_concurrency,
                                       concurrency_id="answer")
        gr.on([clear.click, chatbot.clear], reset, inputs=None, outputs=outputs, api_name="reset")
    return demo


# ---------------------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------------------

def parse_auth(auth: str | None) -> tuple[str, str] | None:
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise SystemExit("error: RAG_AUTH must look like 'user:password'.")
    return user, password


def ensure_index(settings: RagSettings, *, encoder=None, progress: bool = True) -> bool:
    """Build the index from the configured corpus when there is none (the first start). True when built."""
    from rag.index import MissingIndexError, ingest, open_collection

    try:
        open_collection(settings)
        return False
    except MissingIndexError as exc:
        print(f"{exc}\nBuilding it now with `rag ingest` (once; about a minute or two)...", file=sys.stderr,
              flush=True)
    report = ingest(settings, encoder=encoder, progress=progress)
    print(report.summary(), file=sys.stderr, flush=True)
    return True


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    auth = parse_auth(settings.auth)
    try:
        ensure_index(settings)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)  # the page still starts and shows the problem
    print("Loading the index and the query encoder...", file=sys.stderr, flush=True)
    demo = build_app(Assistant(settings))
    demo.launch(server_name=settings.host, server_port=settings.port, auth=auth, show_error=False)


if __name__ == "__main__":
    main()
