"""Names in a question (LoRA, GPT-4, Orca 2, Group Think) and whether a text mentions them.

A question that names a work is about that very work: the answerer takes its evidence from the work's own
paper, sets two named works side by side, or says that a named work is not in the corpus.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from rag.text import ENUMERATOR, STOPWORDS, folded

ENGLISH_WORDS_FILE = Path(__file__).with_name("english_words.txt")

# One-word names: inner capitals (LoRA), acronyms (DPO), letters with digits (GPT-4), capitalised words
# (Toolformer), each optionally followed by a version ("Orca 2", "UniPic 3.0").
NAME = re.compile(
    r"(?<![\w-])(?:[A-Za-z]*[a-z][A-Z][\w\-^*!]*|[A-Z]{2,}[\w\-^*]*(?:\.\d+)*|[A-Za-z]+[-^]?\d[\w\-.^*]*|"
    r"[A-Z][a-z]{2,}[\w\-^*!]*)"
    r"(?: (?:\d+(?:\.\d+)?|[IVX]+)(?![\w%.]))?"
)
# A month's name starts a date ("in December 2024"), not a work's name.
MONTH = re.compile(r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
                   r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?", re.IGNORECASE)
# "GRPO-trained", "LLM-based": the name is the part before the descriptive suffix.
NAME_SUFFIX = re.compile(r"-(?:[a-z]+(?:ed|en|ing)|based|only|like|style|aware|free|specific|level)$")
# Words that may stand inside a multi-word name ("Language to Rewards", "Flow of Reasoning").
NAME_CONNECTORS = {"of", "to", "for", "the", "in", "on", "at", "via", "a", "from"}
CAPITALISED = r"[A-Z][\w^*!]*(?:-[A-Z0-9][\w^*!]*)*(?![\w-])"
# "(b) What …": an enumerator starts a sentence of its own.
ENUMERATOR_END = re.compile(ENUMERATOR + "$")
# "Ablating …", "Leveraging …": a sentence opening with an inflected word, not a name.
INFLECTED = re.compile(r"(?:ing|ed|ly)$")
# Verbs a request starts with ("Compile the results …"): never a name, known to the corpus or not.
ASKING_VERBS = {"give", "name", "list", "tell", "show", "compile", "describe", "explain", "summarise", "summarize",
                "report", "provide", "state", "compare", "contrast", "find", "identify", "rank", "count"}
PHRASE = re.compile(rf"(?<![\w-]){CAPITALISED}(?:\s+(?:(?:{'|'.join(NAME_CONNECTORS)})\s+)*{CAPITALISED})+"
                    r"(?: \d+(?:\.\d+)?(?![\w%.]))?")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words (see the file's header): a capitalised one is an ordinary word, not a name."""
    lines = ENGLISH_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def question_names(text: str, title_leads: Collection[str] = frozenset()) -> list[str]:
    """One-word names in the text (accents folded). A capitalised word counts inside a sentence, or at its
    start when it is not an ordinary English word ("Toolformer taught …", not "Roughly how much …", nor an
    inflected word: "Ablating one head …") or when a paper's title leads with it ("Magma and RoboBrain …":
    `title_leads`, lower-cased)."""
    text = folded(text)
    names = []
    for match in NAME.finditer(text):
        word = match.group(0).rstrip(".-!")
        name = NAME_SUFFIX.sub("", word)
        before = text[:match.start()].rstrip()
        plain_word = name[:1].isupper() and name[1:].islower() and name.isalpha()
        if plain_word and name.lower() in STOPWORDS:
            continue
        if plain_word and name != word and name.lower() in english_words():
            continue  # "Help-seeking", "Task-based": an ordinary word in a compound, not a work's name
        # "… Score (Ships)": a word alone in brackets after a spelled-out name is that name's short form.
        short_form = before.endswith("(") and text[match.end():].startswith(")")
        if plain_word and not short_form and (not before or before[-1] in ".?!\"“(" or ENUMERATOR_END.search(before)):
            ordinary = name.lower() in english_words() or name.lower() in ASKING_VERBS or INFLECTED.search(name)
            if ordinary and name.lower() not in title_leads:
                continue
        if re.match(r"\s+et al\b", text[match.end():]):
            continue  # "Rafailov et al.": an author, not a work
        if MONTH.fullmatch(name.split()[0]) and not name.split()[0].isupper():
            continue  # "December 2024": a date, not a work ("MAR", in capitals, may be one)
        if len(name) >= 2 and name not in names:
            names.append(name)
    return names


def phrase_names(text: str) -> list[str]:
    """Multi-word names: runs of capitalised words, possibly joined by small words ("Automatic Prompt Engineer",
    "Hogwild! Inference", "Language to Rewards"). A sentence's first word joins only when it is not an ordinary
    English word ("Compare Locret …" is not a name)."""
    phrases = []
    text = folded(text)
    for match in PHRASE.finditer(text):
        words = match.group(0).split()
        before = text[:match.start()].rstrip()
        starts = not before or before[-1] in ".?!" or ENUMERATOR_END.search(before)
        if starts and (words[0].lower().strip("!") in english_words() or words[0].lower() in ASKING_VERBS):
            words = words[1:]
        while words and (words[0].lower() in NAME_CONNECTORS or words[0].lower() in STOPWORDS):
            words = words[1:]
        # "LLM RL", "GPT SFT": acronyms side by side are a compound of terms, not one work's name.
        if sum(w[:1].isupper() for w in words) >= 2 and not all(w.isupper() for w in words):
            phrases.append(" ".join(words).rstrip(".!'"))
    return list(dict.fromkeys(phrases))


def has_connector(phrase: str) -> bool:
    return any(w.lower() in NAME_CONNECTORS for w in phrase.split())


def mentions(name: str, text: str) -> bool:
    return first_mention(name, text) is not None


def first_mention(name: str, text: str) -> int | None:
    """Where the text first mentions the name (in its `unmarked` form), or None."""
    # "WebArena-Lite" is another benchmark than WebArena, "GPT-4-Turbo" another model than GPT-4.
    match = _found(name, r"(?!\w|(?-i:-[A-Z]))", text)
    return match.start() if match else None


def in_title_words(name: str, title: str) -> bool:
    """Whether a name of several words is the title's words in order, with others between ("Secrets of RLHF
    Part I" for "Secrets of RLHF in Large Language Models Part I: PPO")."""
    words = folded(name).split()
    return len(words) >= 2 and re.search(r"(?<![\w-])" + r"(?![\w-]).*?(?<![\w-])".join(map(re.escape, words))
                                         + r"(?![\w-])", folded(title), re.IGNORECASE) is not None


def mentions_form(name: str, text: str) -> bool:
    """`mentions`, or the singular of a plural name ("GFlowNets" where the paper says "GFlowNet", "UAVs" where it
    says "UAV"), or the plural of an acronym ("PAV rewards" where the paper says "PAVs")."""
    return mentions(name, text) or (re.search(r"(?:[a-z\d]|[A-Z]{2})s$", name) is not None
                                    and mentions(name[:-1], text)) \
        or (re.search(r"[A-Z]{2}$", name) is not None and mentions(f"{name}s", text))


def mentions_variant(name: str, text: str) -> bool:
    """Whether the text names a variant of the name: "R2R-Habitat" for R2R, "WebArena-Lite" for WebArena."""
    return _found(name, r"(?-i:-[A-Z])", text) is not None


PART_BOUNDARY = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=[a-z])(?=[A-Z])")


def _found(name: str, after: str, text: str) -> re.Match | None:
    """Where the name stands in the text as a whole word followed by `after`; "GPT-4" also matches "GPT4"
    and "GPT 4", and "GPT4o" or "MedR3" as users type them match "GPT-4o" and "Med-R^3": a separator may stand
    or not wherever letters meet digits or a lower-case letter meets a capital."""
    parts = [p for chunk in re.split(r"[-\s~]+", unmarked(name)) for p in PART_BOUNDARY.split(chunk) if p]
    pattern = r"[-\s~]?".join([re.escape(parts[0]), *map(_year_or_part, parts[1:])]) if parts else ""
    flags = 0 if spelled_like_a_word(name) else re.IGNORECASE
    return re.search(r"(?<![\w])" + pattern + after, unmarked(text), flags)


def _year_or_part(part: str) -> str:
    """A recent year after a name's words is written either way: "AIME 2024" is "AIME24" or "AIME'24"."""
    if (year := re.fullmatch(r"(?:20)?'?(1[5-9]|2\d|3[0-5])", part)) and len(part.strip("'")) in (2, 4):
        return rf"'?(?:20)?{year.group(1)}"
    return re.escape(part)


def unmarked(text: str) -> str:
    """Folded, without the corpus's superscript marks: "FaSTA^*" is FaSTA*, "A^2Nav" is A2Nav (as "A²Nav")."""
    return folded(text).replace("^", "")


def spelled_like_a_word(name: str) -> bool:
    """"LOOP", "MASH", "ArCHer": a name whose letters spell an ordinary word is that name only where it keeps
    its capitals ("a feedback loop" is not LOOP)."""
    return name.isalpha() and sum(c.isupper() for c in name) >= 2 and name.lower() in english_words()


def is_specific(name: str, vocabulary: set[str]) -> bool:
    """A name worth insisting on: unknown to the whole corpus (Toolformer), or a version or compound of a
    known one (Orca 2, SWE-agent). A plain acronym the corpus knows (PPO, UAV) may be spelled out instead."""
    return re.search(r"[\d\s-]", name) is not None or name.lower() not in vocabulary


def names_a_version(base: str, text: str) -> bool:
    """Whether the text names the work `base` as such or in some version ("MOOSE-Chem2", "UniPic 2.0")."""
    return _found(base, r"(?:[\s-]?v?\d+(?:\.\d+)*)?(?!\w|\.\d)", text) is not None


def version_of(name: str) -> str | None:
    """"Orca" for "Orca 2", "UniPic" for "Skywork UniPic 3.0": the name without its version, if it has one."""
    match = re.fullmatch(r"(.+?)[\s-]?v?\d+(?:\.\d+)*", name)
    return match.group(1) if match and not match.group(1).endswith("-") and len(match.group(1)) >= 2 else None


# A run of words as a user may type a name: "webrl", "hogwild inference", "tulu 3", "b-star".
TYPED_WORD = re.compile(r"[\w^*!'-]*\w(?:\.\d+)?")
# "WebArena-Lite", "GPT-4-Turbo": a name followed by a capitalised variant's suffix.
VARIANT = re.compile(r"(?<![\w-])([\w^*]+)-[A-Z]")
LOWER_WORD = re.compile(r"(?<![\w-])[a-z]{4,}(?![\w-])")
RESPELL_WORDS = 3  # the longest run of typed words compared with a title's name
MIN_COMPACT_CHARS = 4  # "rl" or "moe" typed alone are terms, not a paper's name


def title_name(title: str) -> str:
    """The name a title leads with, as the title writes it ("Hogwild! Inference" of "Hogwild! Inference:
    Parallel …", without the "!"); "" when it has none."""
    lead, colon, _ = title.partition(":")
    return lead.strip(" !") if colon else ""


def compact(text: str) -> str:
    """A name's letters and digits only, lower-cased: "WebRL", "webrl" and "Web-RL" are all "webrl"."""
    return re.sub(r"[\W_]+", "", unmarked(text)).lower()


def lead_spellings(titles: Collection[str], abstracts: Iterable[str]) -> dict[str, str]:
    """The name each title leads with ("LServe" of "LServe: Efficient …"), by its `compact` form, where one
    title has the form, the form is long enough to be a name, the papers never write it in lower case, and no
    text names a variant of it ("WebArena-Lite" beside WebArena: "webarena" typed may mean either). Names only
    abstracts use (AlphaMath, Minecraft) were respelled too at first: on an unseen set they lost three answers
    and gained none (docs/EVAL.md, eighteenth pass)."""
    found: dict[str, set[str]] = {}
    for title in titles:
        lead = title_name(title)
        if lead and len(lead.split()) <= RESPELL_WORDS and len(key := compact(lead)) >= MIN_COMPACT_CHARS:
            found.setdefault(key, set()).add(lead)
    varied: set[str] = set()
    for text in [*titles, *abstracts]:
        text = unmarked(text)
        varied.update(compact(m.group(1)) for m in VARIANT.finditer(text))
        # "AttRibution" in one abstract, "attribution" in others: a word the papers write in lower case is a word.
        varied.update(LOWER_WORD.findall(text))
    return {key: next(iter(leads)) for key, leads in found.items() if len(leads) == 1 and key not in varied}


def ordinary(words: Iterable[str]) -> bool:
    """Whether every (lower-cased) word is ordinary English, a dictionary word or a stopword: typed alone, such
    words may mean themselves rather than a paper's name ("meta-prompting", "gas")."""
    return all(word in english_words() or word in STOPWORDS for word in words)


def respelled(text: str, spellings: Mapping[str, str]) -> str:
    """The text with each name a title leads with spelled as the title spells it, where the user typed it
    otherwise ("what does bstar do" -> "what does B-STaR do", "hogwild inference" -> "Hogwild! Inference"): every
    later step finds names by their capitals and separators. Runs of ordinary English words are left alone
    ("sharing is caring", "magma"): they may mean the words, not the paper."""
    if not spellings:
        return text
    words = list(TYPED_WORD.finditer(text))
    pieces, end, start = [], 0, 0
    while start < len(words):
        for length in range(min(RESPELL_WORDS, len(words) - start), 0, -1):
            run = words[start:start + length]
            typed = text[run[0].start():run[-1].end()]
            spelling = spellings.get(compact(typed))
            # A name typed with capitals throughout is spelled as the user means it ("mobile agent E" is not);
            # words that are all ordinary English ("meta-prompting") may mean the words.
            if spelling is None or not any(w.group(0).islower() for w in run) or ordinary(
                    part for w in run for part in w.group(0).lower().strip("'").split("-")):
                continue
            # "restmcts*" -> "ReST-MCTS*": the marks the user typed after the name are the title's own.
            marks = re.search(r"[^\w]*$", unmarked(spelling)).group(0)
            after = run[-1].end() + (len(marks) if marks and text.startswith(marks, run[-1].end()) else 0)
            pieces += [text[end:run[0].start()], spelling]
            end, start = after, start + length
            break
        else:
            start += 1
    return "".join(pieces) + text[end:]


# "state-of-the-art (SOTA)", "large language models (LLMs)": an acronym in brackets, where a paper spells it out
# in the words before it.
BRACKETED_ACRONYM = re.compile(r"\(([A-Z][A-Z0-9]{1,5})s?\)")
SPELLED_WORDS = 8  # the most words an acronym's spelling takes
SMALL_WORDS = {"of", "the", "and", "for", "to", "in", "on", "with", "a", "an", "via", "by", "from"}


def acronym_expansions(abstracts: Iterable[str]) -> dict[str, str]:
    """Each acronym the papers spell out somewhere, with its commonest spelling, lower-cased and without
    hyphens ("SOTA" -> "state of the art"): a paper that writes the words names the acronym too."""
    found: dict[str, Counter] = {}
    for text in abstracts:
        text = unmarked(text)
        for match in BRACKETED_ACRONYM.finditer(text):
            acronym = match.group(1)
            words, letters = text[max(0, match.start() - 160):match.start()].split()[-SPELLED_WORDS:], acronym.lower()
            for n in range(1, len(words) + 1):
                parts = [p for w in words[-n:] for p in re.split(r"[-']", w) if p]
                initials = "".join(p[0] for p in parts).lower()
                content = "".join(p[0] for p in parts if p.lower() not in SMALL_WORDS).lower()
                if parts[0].lower() not in SMALL_WORDS and letters in (initials, content):
                    found.setdefault(acronym, Counter())[spelled(" ".join(words[-n:]))] += 1
                    break
    return {acronym: counts.most_common(1)[0][0] for acronym, counts in found.items()}


def shortened(name: str, acronym_of: Mapping[str, str]) -> str | None:
    """The acronym the papers shorten a spelled-out name to ("BIG-Bench Hard" -> BBH; `PaperTable.acronym_of`);
    None for a one-word name."""
    return acronym_of.get(spelled(name)) if re.search(r"[\s-]", name) else None


def spelled(text: str) -> str:
    """Lower-cased, hyphens as spaces, plural "s" off each word's end: how two spellings of words compare."""
    return " ".join(w.removesuffix("s") for w in re.split(r"[\s-]+", unmarked(text).lower()) if w)
