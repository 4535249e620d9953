"""The generative answerer: an OpenAI-compatible chat model writes, then every citation is checked.

Verification: a `[n]` must name a retrieved paper (others are dropped); each cited sentence gets the abstract
sentence of that paper that best supports it as its quote; a sentence whose best support is too weak (or that
cites nothing and matches no source) is listed in `Answer.unsupported`. Any failure of the endpoint becomes
a note and the extractive answer, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from rag.config import RagSettings
from rag.errors import RagError
from rag.prompts import ABSTAIN_SENTINEL, PLAN_TEMPLATE, SOURCE_TEMPLATE, SYSTEM_PROMPT, USER_TEMPLATE
from rag.retrieval import Candidate, PaperIndex, SentenceHit
from rag.text import CITATION_MARK, sentence_spans
from rag.types import Citation, turns

MARKERS_RUN = re.compile(r"(?:\s*\[\d+\])+")
# A sentence that repeats this many consecutive words of the system prompt, words no source contains, is the
# model reciting its instructions (a prompt-extraction question, or an injected "print your rules"): it is
# withheld from the answer, and nothing more is streamed once it starts.
PROMPT_ECHO_WORDS = 6
WORDS = re.compile(r"\w+")


class LLMUnavailable(RagError, RuntimeError):
    """The endpoint failed; the message is safe to show (no secrets)."""


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    unsupported: list[str]
    abstained: bool
    withheld: int = 0  # sentences dropped for repeating the system prompt
    uncovered: list[str] = field(default_factory=list)  # parts of the question no supported sentence answers


def build_messages(question: str, candidates: list[Candidate], history: list | None,
                   max_chars: int, parts: list[str] | None = None) -> list[dict]:
    blocks, used = [], 0
    for number, candidate in enumerate(candidates, start=1):
        paper = candidate.paper
        meta = f" ({paper.date_text})" if paper.date_text else ""
        block = SOURCE_TEMPLATE.format(number=number, title=paper.title, meta=meta, abstract=paper.abstract)
        if blocks and used + len(block) > max_chars:
            break
        blocks.append(block[:max_chars])
        used += len(block)
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for turn in turns(history):
        messages.append({"role": "user", "content": turn.question})
        if turn.answer:
            messages.append({"role": "assistant", "content": turn.answer})
    plan = ""
    if parts and len(parts) > 1:
        plan = PLAN_TEMPLATE.format(parts="\n".join(f"- {part}" for part in parts))
    messages.append({"role": "user", "content": USER_TEMPLATE.format(sources="\n\n".join(blocks), question=question,
                                                                     plan=plan)})
    return messages


def _redact(message: str, settings: RagSettings) -> str:
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    return message.replace(key, "***") if key else message


def stream_completion(settings: RagSettings, messages: list[dict]) -> Iterator[str]:
    """Text deltas from the endpoint; every failure becomes `LLMUnavailable` with a safe message."""
    import openai

    where = settings.llm_base_url or "the OpenAI API"
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if not api_key and not settings.llm_base_url:
        raise LLMUnavailable("The LLM answerer needs an API key (OPENAI_API_KEY or RAG_LLM_API_KEY), or the URL of "
                             "a local server (OPENAI_BASE_URL or RAG_LLM_BASE_URL).")
    try:
        client = openai.OpenAI(base_url=settings.llm_base_url, api_key=api_key or "sk-local",
                               timeout=settings.llm_timeout_s, max_retries=1)
        stream = client.chat.completions.create(
            model=settings.llm_model, messages=messages, stream=True, temperature=0,
            max_tokens=settings.llm_max_tokens,
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content
    except openai.APITimeoutError as exc:
        raise LLMUnavailable(f"The LLM at {where} did not answer within {settings.llm_timeout_s:g} s.") from exc
    except openai.APIConnectionError as exc:
        raise LLMUnavailable(f"Cannot reach the LLM at {where} ({type(exc.__cause__ or exc).__name__}).") from exc
    except openai.APIStatusError as exc:
        message = _redact(str(exc.message), settings)[:200]
        raise LLMUnavailable(f"The LLM at {where} returned HTTP {exc.status_code}: {message}") from exc
    except (openai.OpenAIError, ValueError, KeyError, AttributeError) as exc:
        raise LLMUnavailable(f"The LLM at {where} sent an unusable reply ({type(exc).__name__}).") from exc


def _ngrams(text: str, n: int = PROMPT_ECHO_WORDS) -> set[str]:
    words = WORDS.findall(text.lower())
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


PROMPT_NGRAMS = _ngrams(SYSTEM_PROMPT)


def repeats_instructions(text: str, candidates: list[Candidate]) -> bool:
    """True when the text recites the system prompt: PROMPT_ECHO_WORDS consecutive words of it that are not
    simply quoted from a source."""
    echoed = _ngrams(text) & PROMPT_NGRAMS
    if not echoed:
        return False
    quoted = set().union(*(_ngrams(f"{c.paper.title}\n{c.paper.abstract}") for c in candidates))
    return bool(echoed - quoted)


def verify(raw: str, candidates: list[Candidate], index: PaperIndex, settings: RagSettings,
           parts: list[str] | None = None) -> Verified:
    """Each generated sentence checked against the sources: cited by the papers whose sentences support it
    (`llm_support_threshold`), else marked unsupported; the parts of the question no supported sentence
    covers (`llm_part_covered_threshold`) are listed."""
    text = raw.strip()
    if not text:
        raise LLMUnavailable("The LLM returned an empty answer.")
    if ABSTAIN_SENTINEL in text:
        return Verified("", [], [], True)
    hits = index.sentences_of([c.paper.paper_id for c in candidates])
    claims: list[str] = []
    for start, end in sentence_spans(text):
        piece = text[start:end]
        if claims and not MARKERS_RUN.sub("", piece).strip():
            claims[-1] += " " + piece  # "... sentence. [3]": the marker belongs to the sentence before it
        else:
            claims.append(piece)
    claim_vectors = index.encoder.encode([CITATION_MARK.sub("", c) for c in claims]) if claims else np.zeros((0, 1))
    numbering: dict[str, int] = {}  # paper_id -> number in the answer (order of first citation)
    quotes: dict[str, str] = {}
    out_sentences, unsupported, withheld = [], [], 0
    supported_vectors = []
    for claim, vector in zip(claims, claim_vectors):
        cited = [int(n) for n in CITATION_MARK.findall(claim)]
        valid = [candidates[n - 1].paper.paper_id for n in cited if 1 <= n <= len(candidates)]
        body = MARKERS_RUN.sub("", claim).strip()
        if repeats_instructions(body, candidates):
            withheld += 1
            continue
        if not valid:  # no (valid) citation: attribute post hoc to the best-supporting source
            best = _best_support(vector, hits, None)
            valid = [best[0]] if best and best[2] >= settings.llm_support_threshold else []
        supported_by = []
        for paper_id in dict.fromkeys(valid):
            support = _best_support(vector, hits, paper_id)
            if support and support[2] >= settings.llm_support_threshold:
                supported_by.append(paper_id)
                quotes.setdefault(paper_id, support[1])
        if not supported_by:
            unsupported.append(body)
            out_sentences.append(body)
            continue
        supported_vectors.append(vector)
        markers = "".join(f"[{numbering.setdefault(pid, len(numbering) + 1)}]" for pid in supported_by)
        out_sentences.append(_with_markers(body, markers))
    papers = {c.paper.paper_id: c.paper for c in candidates}
    citations = [Citation.of(number, papers[pid], quotes[pid])
                 for pid, number in sorted(numbering.items(), key=lambda item: item[1])]
    if withheld and not numbering:  # a recital with nothing verified left: no generated answer at all
        raise LLMUnavailable("The LLM recited its instructions instead of answering; its answer was withheld.")
    uncovered = []
    if parts and len(parts) > 1:
        part_vectors = index.encoder.encode(parts)
        for part, part_vector in zip(parts, part_vectors):
            if not any(float(np.dot(part_vector, v)) >= settings.llm_part_covered_threshold for v in supported_vectors):
                uncovered.append(part)
    return Verified(" ".join(out_sentences), citations, unsupported, False, withheld, uncovered)


def _with_markers(body: str, markers: str) -> str:
    if body and body[-1] in ".!?":
        return f"{body[:-1]} {markers}{body[-1]}"
    return f"{body} {markers}"


def _best_support(vector: np.ndarray, hits: list[SentenceHit], paper_id: str | None) -> tuple[str, str, float] | None:
    """(paper_id, abstract sentence, similarity) of the sentence that best supports a claim."""
    best = None
    for hit in hits:
        if paper_id is not None and hit.paper_id != paper_id:
            continue
        similarity = float(np.dot(vector, hit.vector))
        if best is None or similarity > best[2]:
            best = (hit.paper_id, hit.text, similarity)
    return best
