"""Sentence splitting and the term analysis shared by BM25 and the extractive answerer."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# A citation marker in answer text: "[3]".
CITATION_MARK = re.compile(r"\[(\d+)\]")
# Half of a UTF-16 surrogate pair, alone: what undecodable bytes become in a str (e.g. from argv or JSON).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")

ABBREVIATIONS = {"e.g", "i.e", "al", "vs", "etc", "fig", "cf", "eq", "approx", "resp", "dr", "inc", "no", "sec", "viz"}
# A sentence ends at . ! or ? followed by space and something that can start a sentence, or glued to the next
# sentence's first word as some abstracts have it ("… limiting exploration.To address this, …").
# Both forms start at the punctuation mark, so the scan jumps from mark to mark (a lookbehind first would be
# tried at every character).
BOUNDARY = re.compile(r"[.!?](?:[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9\u00c0-\u024f])|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z]))")
# The word before a full stop ("e.g.", "al."), and a name's "!" ("via Hogwild! Inference"), read at a sentence's end.
LAST_WORD = re.compile(r"([A-Za-z.]+)\.$")
NAME_BANG = re.compile(r"\s[A-Z][\w-]*!$")
# An abbreviation is shorter than this: the word before a full stop is read in this many last characters.
WORD_WINDOW = 24
# "(a)", "(ii)", "(3)": an enumerator that starts one of several asks.
ENUMERATOR = r"\((?:[a-e]|i{1,3}|iv|[1-5])\)"
TERM = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?")
# Lucene's English stopwords (bm25s's STOPWORDS_EN), written out: importing bm25s imports scipy (0.1 s of a cold
# `rag ask`), and the question path needs nothing else of it.
LUCENE_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with".split())
STOPWORDS = LUCENE_STOPWORDS | {
    "paper", "papers", "propose", "proposes", "proposed", "work", "study", "approach", "method", "methods",
    "use", "uses", "using", "used", "show", "shows", "model", "models", "also", "new", "based", "which",
    "what", "how", "does", "do", "did", "whose", "who", "any", "indexed", "corpus",
}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence: text[start:end] is always a verbatim substring."""
    spans, start = [], 0
    for match in BOUNDARY.finditer(text):
        before = text[max(start, match.start() + 1 - WORD_WINDOW):match.start() + 1]
        last_word = LAST_WORD.search(before)
        if last_word and last_word.group(1).lower().rstrip(".") in ABBREVIATIONS:
            continue
        if before.endswith("!") and NAME_BANG.search(before):
            continue  # "via Hogwild! Inference": the "!" of a name inside a sentence ends nothing
        end = match.end()
        piece = text[start:end].strip()
        if piece:
            offset = text.index(piece, start)
            spans.append((offset, offset + len(piece)))
        start = end
    tail = text[start:].strip()
    if tail:
        offset = text.index(tail, start)
        spans.append((offset, offset + len(tail)))
    return spans


# Greek letters as people type them in names ("tau^2-bench" for "τ²-Bench").
GREEK_NAMES = str.maketrans({letter: name for letters, name in (
    ("αΑ", "alpha"), ("βΒ", "beta"), ("γΓ", "gamma"), ("δΔ", "delta"), ("εΕ", "epsilon"), ("θΘ", "theta"),
    ("λΛ", "lambda"), ("μΜ", "mu"), ("πΠ", "pi"), ("ρΡ", "rho"), ("σΣ", "sigma"), ("τΤ", "tau"), ("φΦ", "phi"),
    ("χΧ", "chi"), ("ψΨ", "psi"), ("ωΩ", "omega")) for letter in letters})


def folded(text: str) -> str:
    """Accents dropped (TÜLU -> TULU) and Greek letters spelled out (τ -> tau), so a name matches however it
    is spelt and ASCII patterns see it."""
    if text.isascii():
        return text  # nothing to fold: most abstracts, read whole when the paper table is built
    decomposed = unicodedata.normalize("NFKD", text).translate(GREEK_NAMES)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words and numbers (stopwords dropped)."""
    return list(_terms(text))


@lru_cache(maxsize=8192)
def _terms(text: str) -> tuple[str, ...]:
    # Answer composition analyses the same sentences and question parts many times per question.
    words = [w for w in TERM.findall(text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return tuple(_stemmer().stemWords(words))


ACRONYM = re.compile(r"(?<![\w-])([A-Z]{2,5})s?(?![\w-])")


def acronyms(text: str) -> dict[str, str]:
    """The acronyms a text uses ("KV", "CFG", "PRMs"), as {term: letters}: the term is how `terms` spells it."""
    return {term: match.group(1) for match in ACRONYM.finditer(text) for term in terms(match.group(0))}


@lru_cache(maxsize=1024)
def expansion_pattern(letters: str) -> re.Pattern:
    """Words whose initials spell the acronym: "Kullback-Leibler" for KL, "key-value cache" for KVC, "BIG-Bench
    Hard" for BBH."""
    return re.compile(r"(?<![\w-])" + r"[\s-]+".join(f"[{c.upper()}{c.lower()}](?:[a-z]{{2,}}|[A-Z]{{2,}})" for c in letters)
                      + r"(?![\w-])")
