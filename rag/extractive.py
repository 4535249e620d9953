"""The default answerer: picks abstract sentences (or metadata) that answer the question and cites them.

It never writes a claim of its own: every sentence of the answer is quoted verbatim from an abstract or
is a metadata value from the listing, so its citations are valid by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.query import Question
from rag.retrieval import Candidate, SentenceHit
from rag.table import PaperTable
from rag.text import STOPWORDS, folded, terms
from rag.types import Citation

ABSTAIN_TEXT = "The indexed papers don't seem to answer this."
# Sentence score = similarity to the question + weight * share of the question's (idf-weighted) terms it
# holds + weight * how relevant its paper is overall. Weights chosen on eval/questions.jsonl (docs/EVAL.md).
LEXICAL_WEIGHT = 0.5
PAPER_WEIGHT = 0.35
SEVERAL_RELATIVE_CUTOFF = 0.7
SECOND_SENTENCE_RELATIVE_CUTOFF = 0.85
# A question asking "how much" is answered by a sentence with a measurement in it; one asking "which paper"
# by the sentence that introduces the work.
MEASUREMENT_BONUS = 0.35
NUMBER_BONUS = 0.05
INTRODUCTION_BONUS = 0.2
MEASUREMENT = re.compile(r"\d(?:[\d.,]*\d)?\s*(?:%|x\b|×|times|-?fold|percentage points?|ms\b|points?\b)|\$\s?\d|\d\.\d")
NUMBER = re.compile(r"\d")
INTRODUCTION = re.compile(r"\b(we|this paper|this work)\s+(propose|introduce|present|develop|design|call)|"
                          r"\b(called|named|dubbed|termed)\b", re.IGNORECASE)
# Names such as LoRA, GPT-4, DPO, Toolformer, Orca 2: a question naming one is about that very thing.
NAME = re.compile(
    r"(?<![\w-])(?:[A-Za-z]*[a-z][A-Z][\w\-^*]*|[A-Z]{2,}[\w\-^*]*|[A-Za-z]+-?\d[\w\-.^*]*|[A-Z][a-z]{2,}[\w\-^*]*"
    r"(?: (?:\d+(?:\.\d+)?|[IVX]+\b))?)"
)
# "GRPO-trained", "LLM-based": the name is the part before the descriptive suffix.
NAME_SUFFIX = re.compile(r"-(?:[a-z]+(?:ed|en|ing)|based|only|like|style|aware|free|specific|level)$")
# Citation-like brackets inside quoted abstract text ("Qin et al. [2024]") would read as our own markers.
BRACKETED_NUMBER = re.compile(r"\[(\d+)\]")


@dataclass
class ScoredSentence:
    hit: SentenceHit
    candidate: Candidate
    rank: int
    score: float


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    abstained: bool
    notes: list[str]


def question_names(text: str) -> list[str]:
    """Names in the question (accents folded); a capitalised word counts only when it does not start a sentence."""
    text = folded(text)
    names = []
    for match in NAME.finditer(text):
        name = NAME_SUFFIX.sub("", match.group(0).rstrip(".-"))
        before = text[:match.start()].rstrip()
        plain_word = name[:1].isupper() and name[1:].islower() and name.isalpha()
        if plain_word and (not before or before[-1] in ".?!:\"“(" or name.lower() in STOPWORDS):
            continue
        if len(name) >= 2 and name not in names:
            names.append(name)
    return names


def mentions(name: str, text: str) -> bool:
    # "GPT-4" also matches "GPT4" and "GPT 4"; the name must stand as a whole word.
    parts = [re.escape(p) for p in re.split(r"[-\s]+", name) if p]
    pattern = r"(?<![\w])" + r"[-\s]?".join(parts) + r"(?![a-z])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def absent_names(question: Question, candidates: list[Candidate], vocabulary: set[str]) -> list[str]:
    """Names in the question that no retrieved paper mentions and that are specific enough to matter: unknown
    to the whole corpus (Toolformer), or a version or compound of a known one (Orca 2, SWE-agent). A plain
    acronym the corpus knows (PPO, UAV) may simply be spelled out in the paper, so it does not count."""
    texts = [folded(f"{c.paper.title} {c.paper.abstract}") for c in candidates]
    absent = []
    for name in question_names(question.text):
        if any(mentions(name, t) for t in texts):
            continue
        parts = [p for p in re.split(r"[-\s]+", name.lower()) if p]
        if any(p not in vocabulary for p in parts) or re.search(r"[\d\s-]", name):
            absent.append(name)
    return absent



def score_sentences(question: Question, candidates: list[Candidate], hits: list[SentenceHit],
                    table: PaperTable) -> list[ScoredSentence]:
    idf = table.idf
    query_terms = set(terms(question.text))
    # A word no paper uses is the most telling of all: a question built on such words is not about the corpus.
    total = sum(idf.get(t, table.max_idf) for t in query_terms) or 1.0
    by_paper = {c.paper.paper_id: (rank, c) for rank, c in enumerate(candidates)}
    scored = []
    for hit in hits:
        rank, candidate = by_paper[hit.paper_id]
        sentence_terms = set(terms(hit.text)) | set(terms(candidate.paper.title))
        lexical = sum(idf.get(t, 0.0) for t in query_terms & sentence_terms) / total
        paper_relevance = candidate.dense / (1.0 + 0.15 * rank)
        score = hit.similarity + LEXICAL_WEIGHT * lexical + PAPER_WEIGHT * paper_relevance
        if question.wants_quantity:
            score += MEASUREMENT_BONUS if MEASUREMENT.search(hit.text) else NUMBER_BONUS if NUMBER.search(hit.text) else 0
        if question.wants_paper and INTRODUCTION.search(hit.text):
            score += INTRODUCTION_BONUS
        scored.append(ScoredSentence(hit, candidate, rank, score))
    return sorted(scored, key=lambda s: -s.score)


def _cite(candidate: Candidate, quote: str, field: str, citations: list[Citation]) -> int:
    for citation in citations:
        if citation.paper_id == candidate.paper.paper_id:
            return citation.number
    number = len(citations) + 1
    citations.append(Citation(number, candidate.paper.paper_id, candidate.paper.title, candidate.paper.url,
                              quote, field))
    return number


def abstention(candidates: list[Candidate], reason: str | None = None) -> Draft:
    text = ABSTAIN_TEXT
    if reason:
        text += f" {reason}"
    if candidates:
        closest = "; ".join(f"“{c.paper.title}”" for c in candidates[:3])
        text += f" Closest papers: {closest}."
    return Draft(text, [], True, [])


def answer_metadata(question: Question, candidates: list[Candidate], best: ScoredSentence | None,
                    threshold: float) -> Draft:
    if best is None or best.score < threshold:
        return abstention(candidates)
    # The paper is the best retrieved one: its sentences need not be the ones closest to a metadata question.
    candidate = candidates[0]
    facts = candidate.paper.metadata_facts()
    field = question.metadata_field
    if field == "authors" and "authors" not in facts and "org" in facts:
        field = "org"
    if field not in facts:
        what = {"authors": "author count", "upvotes": "upvote count", "date": "date", "org": "organisation"}[
            question.metadata_field]
        return abstention(candidates, f"The listing of “{candidate.paper.title}” gives no {what}.")
    citations: list[Citation] = []
    number = _cite(candidate, facts[field], field, citations)
    phrasing = {
        "authors": "lists {} [{}].", "org": "is listed under the organisation {} instead of authors [{}].",
        "upvotes": "has {} on the listing [{}].", "date": "is dated {} on the listing [{}].",
    }[field]
    return Draft(f"“{candidate.paper.title}” " + phrasing.format(facts[field], number), citations, False, [])


def answer(question: Question, candidates: list[Candidate], hits: list[SentenceHit], table: PaperTable, *,
           threshold: float, max_sentences: int) -> Draft:
    if not candidates:
        return abstention(candidates, "No paper matches the question and its filters.")
    absent = absent_names(question, candidates, table.vocabulary)
    if absent:
        return abstention(candidates, f"None of them mentions {', '.join(absent)}.")
    scored = score_sentences(question, candidates, hits, table)
    best = scored[0] if scored else None
    if question.metadata_field:
        return answer_metadata(question, candidates, best, threshold)
    if best is None or best.score < threshold:
        return abstention(candidates)

    chosen: list[ScoredSentence] = []
    if question.wants_several:
        seen = set()
        for item in scored:
            if item.hit.paper_id in seen or item.score < max(threshold, SEVERAL_RELATIVE_CUTOFF * best.score):
                continue
            seen.add(item.hit.paper_id)
            chosen.append(item)
            if len(chosen) == max_sentences:
                break
    else:
        chosen.append(best)
        # A neighbouring sentence of the same paper may complete the answer; adjacency keeps the quote one
        # verbatim span of the abstract.
        for item in scored[1:]:
            if (max_sentences > 1 and item.hit.paper_id == best.hit.paper_id
                    and abs(item.hit.number - best.hit.number) == 1
                    and item.score >= SECOND_SENTENCE_RELATIVE_CUTOFF * best.score):
                chosen.append(item)
                break
        chosen.sort(key=lambda s: s.hit.number)

    citations: list[Citation] = []
    if question.wants_several:
        lines = []
        for item in chosen:
            number = _cite(item.candidate, item.hit.text, "abstract", citations)
            lines.append(f"- “{item.candidate.paper.title}”: {_as_text(item.hit.text)} [{number}]")
        return Draft("\n".join(lines), citations, False, [])
    abstract = best.candidate.paper.abstract
    quote = abstract[chosen[0].hit.start:chosen[-1].hit.end]
    number = _cite(best.candidate, quote, "abstract", citations)
    return Draft(f"“{best.candidate.paper.title}”: {_as_text(quote)} [{number}]", citations, False, [])


def _as_text(quote: str) -> str:
    return BRACKETED_NUMBER.sub(r"(\1)", quote)
