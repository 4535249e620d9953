"""The Gradio chat UI: lays out the page and renders the library's results (app_render.py); every rule lives in
`rag` (answering, filters, the catalogue), and the page's CSS and script are files in app_assets/.

Start it with `python app.py` or `rag serve`. It binds `settings.host:settings.port` (RAG_HOST / RAG_PORT,
default 127.0.0.1:7860), asks for basic auth when `settings.auth` ("user:password", RAG_AUTH) is set, and
builds the index first when there is none. See docs/UI.md.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no calls home

import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

import app_render as ui
from rag import catalog
from rag.assistant import Assistant
from rag.config import load_settings
from rag.errors import RagError
from rag.index import ensure_index
from rag.types import Filters, Turn, checked_k

log = logging.getLogger("rag.app")

ASSETS = Path(__file__).resolve().with_name("app_assets")
TITLE = "Ask the papers"
EXAMPLES = [
    "Which papers use tree search for language model agents?",
    "How much does best-first search improve a GPT-4o web agent on VisualWebArena?",
    "What benchmarks evaluate web agents?",
    "How many authors does Tree Search for Language Model Agents have?",
]
STREAM_INTERVAL_S = 0.1  # least time between two screen updates of a streamed answer
FILTER_FIELDS = ["date_from", "date_to", "min_upvotes"]  # the order of the filter inputs
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
                "Noto Sans", "Liberation Sans", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "DejaVu Sans Mono",
              "monospace"]


class ChatApp(gr.Blocks):
    """gr.Blocks whose launch() brings its own theme, CSS and script (Gradio 6 takes them in launch)."""

    def launch(self, *args, **kwargs):
        kwargs.setdefault("theme", gr.themes.Default(primary_hue="indigo", font=SYSTEM_FONTS, font_mono=MONO_FONTS))
        kwargs.setdefault("css", (ASSETS / "app.css").read_text(encoding="utf-8"))
        kwargs.setdefault("head", f"<script>{(ASSETS / 'app.js').read_text(encoding='utf-8')}</script>")
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

    def papers() -> list:
        return [] if problem else list(assistant.index.papers.values())

    def new_session() -> dict:
        return {"turns": [], "count": 0}

    def respond(question, session, date_from, date_to, min_upvotes, k) -> Iterator[tuple]:
        session = session or new_session()
        question = question if isinstance(question, str) else ""
        session["count"] += 1
        turn = {"id": f"t{session['count']}", "bot": ui.render_streaming(""),
                "user": ui.render_question(question) if question.strip() else None}
        session["turns"].append(turn)
        copy, retry = gr.update(), gr.update(visible=False)

        def emit(box: str = ""):
            return box, ui.chat_messages(session["turns"]), copy, session, retry

        yield emit()
        history = [Turn(t["question"], t["answer"]) for t in session["turns"] if "answer" in t]
        try:
            filters = Filters.from_inputs(date_from, date_to, min_upvotes)
            k = checked_k(k, settings.top_k)
            stream = assistant.ask_stream(question, k=k, filters=filters, history=history)
            text, shown = "", 0.0
            for delta in stream:
                text += delta
                # Each update re-sends the chat: a few a second read as streaming and keep many chats cheap.
                if time.monotonic() - shown >= STREAM_INTERVAL_S:
                    turn["bot"], shown = ui.render_streaming(text), time.monotonic()
                    yield emit()
            answer = stream.answer
        except RagError as exc:
            turn["bot"] = ui.render_error(str(exc))
            yield emit(question)  # the question stays in the box to be fixed
            return
        except Exception as exc:  # never a stack trace in the page; it goes to the server log
            log.exception("answering %r failed", question[:200])
            turn["bot"] = ui.render_error(f"Something went wrong while answering ({type(exc).__name__}). "
                                          "The details are in the server log; please try again.")
            yield emit(question)
            return
        limited = answer.matching is not None and answer.matching < k
        turn.update(question=answer.question, answer=answer.text,
                    bot=ui.render_answer(answer, turn["id"], total=len(assistant.index), limited=limited))
        copy = answer.references_markdown()
        retry = gr.update(visible=limited and not filters.is_empty())
        yield emit()

    def reset():
        session = new_session()
        return "", [], "", session, gr.update(visible=False)

    def show_filters(*filter_inputs) -> list:
        """The chips (one per set filter, a click removes it) and, for a value that is not a filter, why."""
        try:
            labels, error = Filters.from_inputs(*filter_inputs).labels(), ""
        except RagError as exc:
            labels, error = {}, ui.render_error(str(exc))
        chips = [gr.update(value=f"{labels[name]} \u2715", visible=True) if name in labels else gr.update(visible=False)
                 for name in FILTER_FIELDS]
        return [*chips, error]

    def show_papers(search, *filter_inputs) -> tuple:
        """The Papers tab for the filters and search: the count line, the table and the two plots."""
        try:
            filters, problem_text = Filters.from_inputs(*filter_inputs), None
        except RagError as exc:
            filters, problem_text = None, str(exc)
        everything = papers()
        found = catalog.matching(everything, filters, search) if filters else []
        return (ui.render_filter_summary(filters, problem_text, len(found), len(everything)), ui.paper_rows(found),
                ui.month_counts(found), ui.upvotes_by_date(found))

    def pick_paper(evt: gr.SelectData):
        title = evt.row_value[0] if evt.row_value else None
        paper = next((p for p in papers() if p.title == title), None)
        if paper is None:
            return "", gr.update(visible=False), None
        return ui.render_paper(paper), gr.update(visible=True), catalog.question_about(paper)

    overview = catalog.overview(papers())
    subtitle = (f"Cited answers from AI paper abstracts, offline: {overview.in_words()}. Each answer lists the "
                "papers it quotes; point at or tap a [n] to see the quoted sentence." if not problem else "")
    with ChatApp(title=TITLE, analytics_enabled=False) as demo:
        session = gr.State(new_session())
        about = gr.State(None)  # the question "ask about this paper" asks
        gr.Markdown(f"# {TITLE}\n{subtitle}", elem_id="rag-header")
        if problem:
            gr.HTML(ui.render_index_problem(problem))
        with gr.Tabs(elem_id="rag-tabs") as tabs:
            with gr.Tab("Chat", id="chat", elem_id="rag-chat-tab"):
                chatbot = gr.Chatbot(
                    show_label=False, elem_id="rag-chat", height=None, min_height=160, max_height="70vh",
                    render_markdown=False, sanitize_html=True, allow_tags=False, latex_delimiters=[],
                    feedback_options=None, buttons=[], autoscroll=True,
                    placeholder="Ask about the indexed AI papers. Follow-up questions use the conversation.")
                with gr.Row(equal_height=True, elem_id="rag-ask-row"):
                    question = gr.Textbox(
                        show_label=False, placeholder="Ask a question about the papers\u2026", lines=1, max_lines=6,
                        scale=6, elem_id="rag-question", autofocus=True, container=False, submit_btn="Ask",
                        max_length=settings.max_question_chars)
                    clear = gr.Button("New chat", size="sm", scale=0, min_width=90, elem_id="rag-clear")
                with gr.Row(elem_id="rag-chips"):
                    chips = [gr.Button(visible=False, size="sm", scale=0, min_width=40, elem_classes=["rag-chip-btn"],
                                       elem_id=f"rag-chip-{name}") for name in FILTER_FIELDS]
                    retry = gr.Button("Clear the filters and ask again", visible=False, size="sm", scale=0,
                                      variant="primary", elem_id="rag-retry")
                filter_error = gr.HTML("", elem_id="rag-filter-error")
                with gr.Accordion("Filters", open=False, elem_id="rag-filters"):
                    with gr.Row():
                        date_from = gr.Textbox(label="From date", placeholder="YYYY, YYYY-MM or YYYY-MM-DD",
                                               max_lines=1, elem_id="rag-date-from")
                        date_to = gr.Textbox(label="To date", placeholder="YYYY, YYYY-MM or YYYY-MM-DD", max_lines=1,
                                             elem_id="rag-date-to")
                        min_upvotes = gr.Textbox(label="Minimum upvotes", placeholder="e.g. 20", max_lines=1,
                                                 elem_id="rag-min-upvotes")
                    k = gr.Slider(1, 50, value=settings.top_k, step=1, label="Papers to retrieve per question",
                                  elem_id="rag-k")
                    gr.Markdown("A date bound leaves out papers whose listing shows no year. Bounds written in "
                                "the question (\u201cfrom 2024\u201d) count too and show as dashed chips.")
                with gr.Row(elem_id="rag-examples"):
                    example_buttons = [gr.Button(text, size="sm", elem_classes=["rag-example"]) for text in EXAMPLES]
                with gr.Accordion("Copy the last answer with references", open=False, elem_id="rag-copy-box"):
                    copy = gr.Textbox(show_label=False, lines=6, max_lines=20, interactive=False, buttons=["copy"],
                                      elem_id="rag-copy", placeholder="The last answer, as markdown with references.")
            with gr.Tab("Papers", id="papers", elem_id="rag-papers-tab"):
                search = gr.Textbox(show_label=False, placeholder="Search titles, abstracts and authors\u2026",
                                    max_lines=1, elem_id="rag-search", container=False)
                summary = gr.HTML(elem_id="rag-papers-summary")
                table = gr.Dataframe(headers=ui.PAPER_COLUMNS, interactive=False, wrap=True, max_height=420,
                                     column_widths=["60%", "16%", "10%", "14%"], elem_id="rag-papers")
                ask_about = gr.Button("Ask about this paper", visible=False, variant="primary", size="sm",
                                      elem_id="rag-ask-about")
                picked = gr.HTML("", elem_id="rag-paper")
                with gr.Row():
                    per_month = gr.BarPlot(x="month", y="papers", title="Papers per month", x_label_angle=-45,
                                           height=260, elem_id="rag-per-month")
                    upvotes = gr.ScatterPlot(x="date", y="upvotes", title="Upvotes over time", tooltip=["title"],
                                             height=260, elem_id="rag-upvotes")

        filter_inputs = [date_from, date_to, min_upvotes]
        inputs = [question, session, date_from, date_to, min_upvotes, k]
        outputs = [question, chatbot, copy, session, retry]
        answer_options = dict(show_progress="hidden", concurrency_limit=settings.ui_concurrency,
                              concurrency_id="answer")
        chip_outputs = [*chips, filter_error]
        papers_outputs = [summary, table, per_month, upvotes]
        gr.on([question.submit], respond, inputs, outputs, api_name="ask", **answer_options)
        for text, button in zip(EXAMPLES, example_buttons):
            button.click(lambda text=text: text, None, question, api_visibility="private").then(
                respond, inputs, outputs, api_visibility="private", **answer_options)
        clear.click(reset, None, outputs, api_name="reset")
        typed = [event for box in filter_inputs for event in (box.submit, box.blur)]
        gr.on(typed, show_filters, filter_inputs, chip_outputs, api_visibility="private",
              trigger_mode="always_last").then(show_papers, [search, *filter_inputs], papers_outputs,
                                               api_visibility="private")
        for chip, box in zip(chips, filter_inputs):  # a chip's click clears its filter
            chip.click(lambda: "", None, box, api_visibility="private").then(
                show_filters, filter_inputs, chip_outputs, api_visibility="private").then(
                show_papers, [search, *filter_inputs], papers_outputs, api_visibility="private")
        retry.click(lambda session: ["", "", "", session["turns"][-1].get("question", "")], session,
                    [*filter_inputs, question], api_visibility="private").then(
            show_filters, filter_inputs, chip_outputs, api_visibility="private").then(
            respond, inputs, outputs, api_visibility="private", **answer_options)
        gr.on([search.submit, search.change, demo.load], show_papers, [search, *filter_inputs], papers_outputs,
              api_name="papers", show_progress="hidden")
        table.select(pick_paper, None, [picked, ask_about, about], api_visibility="private")
        ask_about.click(lambda about: (about, gr.Tabs(selected="chat")), about, [question, tabs],
                        api_visibility="private").then(respond, inputs, outputs, api_visibility="private",
                                                       **answer_options)
    return demo


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise SystemExit("error: RAG_AUTH must look like 'user:password'.")
    return user, password


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    auth = parse_auth(settings.auth)
    try:
        built = ensure_index(settings, notice=lambda message: print(message, file=sys.stderr, flush=True))
        if built:
            print(built.summary(), file=sys.stderr, flush=True)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)  # the page still starts and shows the problem
    print("Loading the index and the query encoder...", file=sys.stderr, flush=True)
    demo = build_app(Assistant(settings))
    demo.launch(server_name=settings.host, server_port=settings.port, auth=auth, show_error=False)


if __name__ == "__main__":
    main()
