"""Reading a question: validation, constraints stated in words, intent, and follow-up condensing."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rag.text import terms
from rag.types import Filters, QuestionError

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Lone UTF-16 surrogates: what Python makes of invalid UTF-8 in argv, or a JSON "\ud800"; not text.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
YEAR = r"((?:19|20)\d{2})"
# "Which (recent) papers ...", "list works on ...", "compare A and B": the answer spans several papers.
MULTI = re.compile(
    r"\b(which|what|list|name|any|all|several|some)\s+(?:[\w-]+\s+){0,2}(papers|works|studies|methods|approaches|"
    r"ones|models|benchmarks|systems|frameworks)\b|\bcompare\b[^?]*\band\b|\bpapers (that|which|about|on)\b|"
    r"\b(of|among) (those|these)\b",
    re.IGNORECASE,
)
METADATA_FIELDS = {
    "org": re.compile(r"\b(which|what) (organi[sz]ation|lab|company|institution|group)\b", re.I),
    "authors": re.compile(r"\bhow many (authors|people|researchers)\b|\bauthor count\b|\bnumber of authors\b", re.I),
    "upvotes": re.compile(r"\bupvote", re.I),
    "date": re.compile(r"\bwhen (was|did|were)\b|\bwhat date\b|\bpublication date\b|\bpublished (on|when)\b|"
                       r"\b(which|what) (day|date|month|year)\b|\bdated\b", re.I),
}
# Words that ask for metadata but say nothing about which paper: left out of the search text.
METADATA_WORDING = re.compile(
    r"\b(how many|what|which|in what|when|is|was|were|does|did|do|the|paper|dated|year|date|day|month|authors?|"
    r"upvotes?|organi[sz]ation|lab|company|institution|listed|credited|have|has|published|on|for|in)\b",
    re.I,
)
QUANTITY = re.compile(
    r"\b(how (much|many|fast|quickly|often|large|small|big)|by how|what (?:[\w-]+ ){0,3}(fraction|percentage|share|"
    r"proportion|accuracy|score|rate|speed-?up|ratio|improvement|gain|compression|reduction|cost|compute))\b",
    re.I,
)
WHICH_PAPER = re.compile(r"\b(which|what) (paper|work|study|method|framework|benchmark)\b|\btitle of\b|"
                         r"\bname of the (paper|method)\b", re.IGNORECASE)
FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|but|so|then)\b|\b(those|these|them|they|their|it|its|that one|"
    r"this one|the same|the first|the second|the latter|the former)\b",
    re.IGNORECASE,
)
RESTRICT_TO_PREVIOUS = re.compile(r"\b(of|among|from) (those|these|them)\b|\bwhich one\b", re.IGNORECASE)


@dataclass
class Question:
    text: str  # the user's words, cleaned
    search_text: str  # what retrieval embeds: condensed with history for follow-ups
    filters: Filters = field(default_factory=Filters)
    wants_several: bool = False
    wants_quantity: bool = False
    wants_paper: bool = False
    metadata_field: str | None = None
    previous_question: str | None = None
    restrict_to_previous: bool = False


def clean_question(question: object, max_chars: int) -> str:
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QuestionError(f"The question is not valid UTF-8 text (bad byte at {exc.start}).") from exc
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text, not {type(question).__name__}.")
    if len(question) > max_chars:
        raise QuestionError(
            f"The question is {len(question):,} characters long; the limit is {max_chars:,} "
            "(setting RAG_MAX_QUESTION_CHARS). Ask something shorter."
        )
    if bad := LONE_SURROGATE.search(question):  # undecodable bytes smuggled in a str (e.g. from argv)
        raise QuestionError(f"The question is not valid UTF-8 text (undecodable character at {bad.start()}).")
    text = " ".join(CONTROL.sub(" ", unicodedata.normalize("NFC", question)).split())
    if not text:
        raise QuestionError("The question is empty. Type a question about the indexed papers.")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("The question has no words in it. Type a question about the indexed papers.")
    return text


def filters_in_words(text: str) -> Filters:
    """Constraints stated in the question: "from 2024", "before 2020", "more than 10 authors"..."""
    found = Filters()
    if m := re.search(rf"\b(?:in|from|during|of|published in)\s+{YEAR}\b", text, re.I):
        found.date_from, found.date_to = f"{m.group(1)}-01-01", f"{m.group(1)}-12-31"
    if m := re.search(rf"\b(?:since|after|from)\s+{YEAR}\s+(?:on|onwards?)\b|\bsince\s+{YEAR}\b", text, re.I):
        found.date_from, found.date_to = f"{m.group(1) or m.group(2)}-01-01", None
    if m := re.search(rf"\bafter\s+{YEAR}\b", text, re.I):
        found.date_from, found.date_to = f"{int(m.group(1)) + 1}-01-01", None
    if m := re.search(rf"\b(?:before|prior to)\s+{YEAR}\b", text, re.I):
        found.date_from, found.date_to = None, f"{int(m.group(1)) - 1}-12-31"
    count = r"(more than|over|at least|fewer than|less than|at most|under)\s+(\d+)\s+"
    for m in re.finditer(count + r"(authors|upvotes)", text, re.I):
        phrase, n, what = m.group(1).lower(), int(m.group(2)), m.group(3).lower()
        if phrase in {"more than", "over", "at least"}:
            low = n + 1 if phrase != "at least" else n
            if what == "authors":
                found.min_authors = low
            else:
                found.min_upvotes = low
        elif what == "authors":
            found.max_authors = n - 1 if phrase in {"fewer than", "less than", "under"} else n
    return found


def _turn_question(turn) -> str | None:
    if isinstance(turn, str):
        return turn
    if isinstance(turn, dict):
        return turn.get("question")
    return getattr(turn, "question", None)


def analyse(question: object, *, max_chars: int, history: list | None = None) -> Question:
    text = clean_question(question, max_chars)
    previous = next((q for q in map(_turn_question, reversed(history or [])) if q), None)
    is_follow_up = previous is not None and (FOLLOW_UP.search(text) is not None or len(terms(text)) <= 2)
    metadata_field = next((name for name, pattern in METADATA_FIELDS.items() if pattern.search(text)), None)
    search_text = METADATA_WORDING.sub(" ", text) if metadata_field else text
    if is_follow_up:
        search_text = f"{previous} {search_text}"
    return Question(
        text=text,
        search_text=search_text,
        filters=filters_in_words(text),
        wants_several=bool(MULTI.search(text)) and metadata_field is None,
        wants_quantity=bool(QUANTITY.search(text)),
        wants_paper=bool(WHICH_PAPER.search(text)),
        metadata_field=metadata_field,
        previous_question=previous if is_follow_up else None,
        restrict_to_previous=is_follow_up and bool(RESTRICT_TO_PREVIOUS.search(text)),
    )
