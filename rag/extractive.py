"""The default answerer: composes an answer from abstract sentences (or listing metadata) and cites each one.

It never writes a claim of its own: every quote is verbatim from an abstract or is a metadata value from the
listing, so its citations are valid by construction. What it composes follows what the question asks
(`rag.query.Question`): each part of a multi-part question gets a sentence that covers it, a named work's
facts come from its own paper, each named work of a comparison gets its own line, each qualifying paper of a
list question its own line, and a part that no evidence covers is said to be missing instead of being
answered with a near miss.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from rag.config import ComposerSettings
from rag.corpus import Paper
from rag.names import (english_words, in_title_words, is_specific, mentions, mentions_form, mentions_variant,
                       names_a_version, question_names, shortened, spelled, unmarked, version_of)
from rag.query import DEFINITION, Part, Question, asked_things, asking_sentences
from rag.retrieval import Candidate, SentenceHit, title_lead
from rag.selector import SentenceModel
from rag.table import WORD, PaperTable
from rag.text import CITATION_MARK, STOPWORDS, acronyms, expansion_pattern, folded, terms
from rag.types import Citation

ABSTAIN_TEXT = "The indexed papers don't seem to answer this."
# "We introduce structured queries … Structured queries separate …": a sentence whose opening words repeat the
# introduction's goes on describing the same thing.
SUBJECT_WORDS = 3
NAME_WORDS = 3  # a work's name is at most this many words ("Skywork UniPic 2.0")
SHORT_SENTENCE_WORDS = 8
MEASUREMENT = re.compile(r"\d(?:[\d.,]*\d)?\s*(?:\\?%|x\b|×|times|-?fold|percentage points?|p\.p\.|ms\b|points?\b)|"
                         r"\$\s?\d")
NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty "
                "hundred thousand million billion dozen single")
NUMBER = re.compile(r"\d|\b(?:" + "|".join(NUMBER_WORDS.split()) + r")\b", re.IGNORECASE)
FIGURE_TOKEN = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?[KMBkb]?|" + "|".join(NUMBER_WORDS.split()) + r")(?!\w|\.\d)",
                          re.IGNORECASE)
SIZE_WORDS = re.compile(r"\b(?:parameters?|params|size|sizes|scale|tokens?|data|corpus|model|models|large|big)\b|"
                        r"\bhow (?:many|much)\b|\bnumber of\b", re.IGNORECASE)
# "the 7B version", "a 70-billion-parameter model": a model size the question states.
STATED_SIZE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[\s-]?(?:(b|m)\b|(billion|million)\b)", re.IGNORECASE)
# "how many tasks": what a count in the answer must count.
PERCENT = re.compile(r"%|percentage points?|p\.p\.")
SHARE_ASKED = re.compile(r"\bhow many of\b|\b(?:share|fraction|proportion|percentage|rate)\b", re.IGNORECASE)
COUNTED = re.compile(r"\bhow many\s+(?!(?:did|do|does|is|are|was|were|can|could|would|will|have|has|had)\b)"
                     r"([\w-]+(?:\s+[\w-]+){0,5})|\bhow (?:large|big|long)\b|\bsizes? of\b", re.IGNORECASE)
# "How many parameters": what a magnitude in millions or billions (7B, 350M) counts.
PARAMETER_WORDS = re.compile(r"\b(?:parameters?|params)\b", re.IGNORECASE)
# "How much wall-clock time did it save": what the figure asked for measures (not "how much faster").
MEASURED = re.compile(r"\b(?i:how much)\s+(?!(?:more|less|better|worse|faster|slower|higher|lower|larger|smaller|"
                      r"further|shorter|longer|cheaper|bigger|greater|fewer|stronger|did|do|does|is|are|was|were|"
                      r"can|could|would|will|have|has|had|on|of|in|for|at|with|than|by|to|from|over|the|a|an|its|"
                      r"their|it|they|this|that)\b)([a-z][\w-]*(?:\s+[\w-]+){0,3})")
# "number of tasks, number of authors": counts asked, unless the part asks how much (the number of steps cut).
NUMBER_OF = re.compile(r"\b(?:number|count) of\s+(?:the\s+)?([\w-]+(?:\s+[\w-]+){0,5})", re.IGNORECASE)
INTRODUCTION = re.compile(r"\b(we|this paper|this work|this thesis)\s+(?:\w+\s+)?(propose|introduce|present|develop|"
                          r"design|call|describe|derive|frame|formulate|build|create)|\b(called|named|dubbed|termed)\b", re.IGNORECASE)
# "MASH (Modeling Abstention via Selective Help-seeking)": a name spelled out where it is introduced.
EXPANSION = re.compile(r"\b[A-Z][\w^*-]*[A-Z][\w^*-]* \((?:[A-Z][\w-]*,?\s+(?:\w+\s+){0,2}){1,6}[A-Z][\w-]*\)")
# "Explain X", "what does X …": an ask about X and at most one more word of what it does.
ABOUT_NAME = (r"\W*(?:so\s+|and\s+)?(?:(?:please\s+)?(?:explain|describe|summari[sz]e|tell me about|what about)|"
              r"what\s+(?:does|do|did))\s+(?:the\s+)?")
# "We construct …", "our analysis …": the authors' own work, not the problem their abstract sets out.
AUTHORS_AT_WORK = re.compile(r"\b(?:we|our)\b", re.IGNORECASE)
# A sentence that goes on describing the work just introduced.
DESCRIBES = re.compile(r"(?:it|this|these|the (?:method|framework|approach|model|system|algorithm)|specifically|"
                       r"concretely|our|we|by|in)\b", re.IGNORECASE)
# "More specifically, …", "This is achieved using …": a sentence spelling out the one before.
ELABORATION = re.compile(r"\W*(?:(?:more\s+)?(?:specifically|concretely|in particular|in detail)\b|(?:this|these|it)\s+"
                         r"(?:is|are)\s+(?:achieved|done|accomplished|realized|realised|implemented|enabled)\s+"
                         r"(?:by|via|through|using|with)\b)", re.IGNORECASE)
# "Specifically, it …", "By incorporating A* search, it …": a lead-in before a sentence's subject.
LEAD_IN = re.compile(r"^(?:[^,;:]{0,120},\s+)?")
# A subject that stands for the work a sentence's abstract introduces ("It uses …", "Our method …").
WORK_PRONOUN = re.compile(r"(?:it|this (?:\w+\s+)?(?:method|framework|approach|system|model|algorithm|technique|"
                          r"design|mechanism|process|paradigm|pipeline|agent|benchmark)|our (?:\w+\s+)?(?:method|"
                          r"framework|approach|system|model|algorithm|technique|design|key idea|pipeline|agent)|the "
                          r"(?:proposed )?(?:method|framework|approach|system|algorithm|technique|pipeline))\b",
                          re.IGNORECASE)
# "We find …", "we show …": the authors reporting, not the work at work.
REPORTING = re.compile(r"we\s+(?:\w+\s+)?(?:find|found|show|observe|demonstrate|evaluate|conduct|perform|release|hope|believe|"
                       r"argue|report|test|validate|compare|achieve|experiment|provide|open-source|make|study|"
                       r"investigate|analy[sz]e|discuss|present|introduce|propose)\b",
                       re.IGNORECASE)
# "Experiments on three benchmarks …": where an abstract turns from how the work works to how it was tested.
EXPERIMENTS = re.compile(r"\bexperiments?\b", re.IGNORECASE)
# "… improves resistance", "… outperforms", "we show that …": a sentence reporting what the work achieved, not how
# it works ("LLMs have shown promise" is the field's background).
RESULT = re.compile(r"\b(?:improve[sd]|outperform(?:s|ed)|surpass(?:es|ed)|achieve[sd]|attain(?:s|ed)|exceed(?:s|ed)|"
                    r"beats|boost(?:s|ed)|yield(?:s|ed)|demonstrate[sd]|show(?:s|ed|n)?\s+that|exhibit(?:s|ed)|"
                    r"display(?:s|ed))\b", re.IGNORECASE)
# "+47.5%", "improves … by 20%", "from 4.8% to 42.4%", "2.9x faster": a sentence reporting a change.
CHANGE = re.compile(r"(?<![\w.])[+−]\d|\b(?:improv|increas|boost|reduc|rais|gain|speed-?up|accelerat|faster|slower|"
                    r"outperform|surpass|lift|lower|higher|fewer|cut|sav|drop|declin|decreas)\w*|"
                    r"\bfrom\s+[\d.]+\s*%?\s+to\s+[\d.]+", re.IGNORECASE)
PREPOSITIONS = {"in", "on", "at", "for", "with", "by", "of", "from", "to", "into", "under", "over", "across", "unlike",
                "like", "beyond", "without", "within", "than"}
# A sentence pointing to code or a website answers nothing but a question about them.
LINK_WANTED = re.compile(r"\b(code|link|url|github|repository|repo|website|available|download)\b", re.IGNORECASE)
URL = re.compile(r"https?://|github\.com|\bcode (is|are) (publicly )?available\b", re.IGNORECASE)
# What a question about a problem or motivation asks (otherwise background sentences score lower).
PROBLEM = re.compile(r"\b(problems?|limitations?|weakness(?:es)?|challenges?|issues?|motivat\w*|gaps?|shortcomings?|"
                     r"bottlenecks?|flaws?|drawbacks?|why|wrong|fail\w*|lack\w*|struggl\w*)\b", re.IGNORECASE)
# An abstract's own question ("how can we design …?") shares the user's words and answers nothing.
RHETORICAL = re.compile(r"\?[\"”']?\s*$")
# A long sentence is cut to the clauses that hold what was asked (the cut stays a verbatim span).
INTERROGATIVE = re.compile(r"\b(?=(?:what|which|how|when|where|who|whom|whose|why)\b)", re.IGNORECASE)
LONG_SENTENCE_WORDS = 32
CLAUSE_END = re.compile(r"(?:[;:]|\s--|,(?=\s+(?:while|whereas|but|achieving|reaching|yielding|outperforming|"
                        r"improving|reducing|surpassing)\b))\s+")
# What may stand between two names set side by side: "A and B", "A or B", "A vs. B", "A compared with B", "'A' and B",
# "A (a gloss on A) and B", "'A' and 'The B'" (a quoted title's article is not part of its name).
JOINED = re.compile(r"(?:'s)?(?:\s*\([^()]{0,80}\))?[\s)'’\"”]*(?:,|(?:,\s*)?(?:and|or|vs\.?|versus|with|to|"
                    r"against|(?:\w+\s+)?compared? (?:with|to|against))(?: the| its)?)[\s('‘\"“]*(?:(?:the|a|an)\s+)?",
                    re.IGNORECASE)

# The fixed wording around quotes (tests check that nothing else is added to an answer).
MISSING_WORKS = "Not in the indexed papers: {}."
MISSING_PARTS = "The cited abstract does not say {}."
# How many words on each side of a quoted figure may say what it counts (`_quoted_holds`).
FIGURE_NEIGHBOURHOOD = 5
NONE_OF_PREVIOUS = "None of the papers of the previous answer ({}) covers this."
ABSENT_NAMES = "None of them mentions {}."
UNKNOWN_WORDS = "No indexed paper uses the words: {}."
LISTING_GAPS = "The listing of “{}” gives no {}."
RANKED_AMONG = "Ranked among the {} whose listing gives {}."
RANKED_AMONG_TOPIC = "Ranked among the {} on the question's topic whose listing gives {}."
RANKED_SHOWN = 3  # the papers a ranking names, best first
RANKED_NONE = "No listing the filters admit gives {}."
TIED = "{} papers share {} {}."
COLLECTION = "The collection holds {} papers{}."
COLLECTION_SPAN = ", dated {} to {} where the listing gives a year ({} give none)"
FILTERED_ALL = "Papers that match: {}."
FILTERED_SOME = "Papers that match: {}; the {} {} are listed."
RANKED_FIELDS = {"upvotes": "an upvote count", "authors": "an author count", "date": "a date with its year"}
NOTHING_BEFORE = "The previous answer found no paper on this, so there is nothing it can refer to."
# A previous answer that found nothing ("No — none of the indexed papers …", or this answerer's abstention).
NEGATIVE_ANSWER = re.compile(rf"^\W*(?:no|none|not)\b|{re.escape(ABSTAIN_TEXT)}|\bnone of the\b|\bno (?:indexed )?paper",
                             re.IGNORECASE)


# "… learning, visual recognition, and classifying …": short items, the last after "and"/"or".
ENUMERATION = re.compile(r"(?:\b[\w'-]+(?:\s+[\w'-]+){0,3},\s+)*\b[\w'-]+(?:\s+[\w'-]+){0,3}(,?)\s+(?:and|or)\s+\w")


def enumerated(text: str) -> int:
    """How many items the longest enumeration of the sentence holds (0 when it has none). Only a run with two
    commas or more counts: "A and B" or "these tasks, CoT retains or …" is clauses as often as a list."""
    counts = [commas + 1 if match.group(1) else commas + 2
              for match in ENUMERATION.finditer(text) if (commas := match.group(0).count(",")) >= 2]
    return max(counts, default=0)


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
    missing: list[str] = field(default_factory=list)  # parts of the question no evidence covers


@dataclass
class Evidence:
    """What the answerer reads, gathered by the assistant."""

    candidates: list[Candidate]  # ranked papers the answer may come from
    hits: list[SentenceHit]  # every sentence of those papers, with its similarity to the question
    part_vectors: list[np.ndarray]  # one embedding per `question.parts`
    # Named works: name -> its paper, or None for a name no indexed paper mentions.
    works: dict[str, Candidate | None] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # every name in the question, found in the corpus or not
    previous: list[Candidate] | None = None  # papers of the previous answer, for a follow-up about them
    sides: list[Candidate] = field(default_factory=list)  # the two papers an across-paper question describes
    # Works the question describes beside a named one ("Agent Q and the step-level Q-value paper"): each
    # description is also a key of `works`, with the paper its words retrieve.
    described: list[str] = field(default_factory=list)
    scope: str | None = None  # "3 of 314 papers match the filters: …" when filters leave fewer than k papers
    question_vector: np.ndarray | None = None  # the user's own words' embedding
    # The embedding of each question word no indexed paper uses: whether one carries the question's topic.
    word_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    # "Which paper has the most upvotes?": the papers best on the field asked, and how many listings give it.
    ranked: list[Candidate] = field(default_factory=list)
    ranked_among: int = 0
    ranked_tied: int = 0  # how many papers share the best value
    ranked_field: str | None = None  # the listing field `ranked` is ordered by (and shows)
    generic: str | None = None  # "What is DPO?": a name many papers use and none introduces


def evaluates(text: str) -> bool:
    """Whether the sentence reports a result or how the work was evaluated ("We evaluate SPP on three tasks", "We
    also perform ablation experiments"): not what the work is."""
    return reports_result(text) or bool(EXPERIMENTS.search(text)) or bool(REPORTING.search(text)
                                                                       and not INTRODUCTION.search(text))


def reports_result(text: str) -> bool:
    """Whether the sentence reports what a work achieved ("… while reducing computation by 25%", "X
    outperforms …"), not the problem, the setup or the work's introduction."""
    return bool(RESULT.search(text) or MEASUREMENT.search(text)) and not INTRODUCTION.search(text)


def has_figure(text: str, asked: str, question: str = "") -> bool:
    """Whether the text gives the figure a question part asks for: a measurement (39.7%, 8x, 3 times), a
    decimal or a magnitude (405B), or, for "how many X", a count of X ("six probing tasks"). Versions and
    model names (Llama 3.1, Qwen2.5), years, and numbers the question itself states are not figures."""
    stated = set(FIGURE_TOKEN.findall(f"{asked} {question}"))
    counts = list(COUNTED.finditer(asked))
    counted_words = " ".join(without_names(" ".join(g for g in m.groups() if g)) for m in counts)
    counted = set(terms(counted_words))
    if not re.search(r"\bhow much\b", asked, re.IGNORECASE):
        counted |= {t for m in NUMBER_OF.finditer(asked) for t in terms(m.group(1))}
    sizes = any(not any(m.groups()) for m in counts)  # "how large": any count will do
    measured = {t for m in MEASURED.finditer(asked) for t in terms(without_names(m.group(1)))}
    for match in MEASUREMENT.finditer(text):
        if measured and not measured & words_beside(text, match.start(), match.end(), 4, 3):
            continue  # "how much training time": a figure beside none of those words measures something else
        # For "how many X", a measurement counts only when it is of X ("90% of the tasks").
        of_counted = not counted or counted & words_beside(text, match.start(), match.end(), 0, 3)
        # "How many tasks did they design" asks for a count: "90% of the tasks" answers only "how many of …".
        if counted and PERCENT.search(match.group(0)) and not SHARE_ASKED.search(asked):
            continue
        if of_counted and not any(token in stated for token in FIGURE_TOKEN.findall(match.group(0))):
            return True
    for match in FIGURE_TOKEN.finditer(text):
        token = match.group(1)
        before = text[:match.start()].rstrip().split()
        if token in stated or re.fullmatch(r"(19|20)\d\d", token):
            continue
        glued = match.start() > 0 and (text[match.start() - 1].isalpha() or text[match.start() - 1] in "~-")
        if glued or (before and before[-1][:1].isupper() and before[-1].isalpha() and not before[-1].isupper()):
            continue  # "Llama 3.1", "Orca 2", "JiuZhang~2.0": a version, not a figure
        magnitude = re.search(r"[KMBkb]$", token) is not None
        if magnitude and before and (re.fullmatch(r"[A-Z][\w.-]*\d[\w.-]*", before[-1]) or (
                len(before) > 1 and re.fullmatch(r"\d[\d.]*", before[-1]) and before[-2][:1].isupper())):
            continue  # "Llama 3 70B", "Qwen2.5 14B": a named model's size, part of its name
        # A magnitude (405B, 35K) answers how large or how many, not a score or a rate.
        if sizes or (re.search(r"\.\d", token) or (magnitude and SIZE_WORDS.search(asked))) and not counted:
            return True
        if magnitude and token[-1] in "MBmb" and PARAMETER_WORDS.search(counted_words):
            return True  # "how many parameters does Janus have": "a 7B LLM called Janus" (not "128K context")
        if counted & words_beside(text, match.start(), match.end(), 2, 3):  # "evaluate 7 models", "six probing tasks"
            return True
    return False


def words_beside(text: str, start: int, end: int, before: int, after: int) -> set[str]:
    """The terms of up to `before` words before text[start:end] and `after` words after it: what a figure there
    is of."""
    preceding = text[:start].split()[-before:] if before else []
    return set(terms(" ".join(preceding + text[end:].split()[:after])))


def without_names(words: str) -> str:
    """The words after "how many" / "how much" without the names among them: what is counted or measured. "How
    many curated samples does Vision-R1 use" counts samples, and "the 7B LVLMs with Vision-R1" is no count of them."""
    return " ".join(w for w in words.split() if not re.search(r"[A-Z\d]", w))


class Scorer:
    """Scores sentences against the question or one of its parts."""

    def __init__(self, question: Question, evidence: Evidence, table: PaperTable,
                 weights: ComposerSettings | None = None, model: SentenceModel | None = None):
        self.question = question
        self.weights = weights or ComposerSettings()
        self.model = model or SentenceModel.bundled()
        self.table = table
        self.candidates = evidence.candidates
        self.rank = {c.paper.paper_id: (rank, c) for rank, c in enumerate(evidence.candidates)}
        self.hits = evidence.hits
        self.part_vectors = evidence.part_vectors
        self.names = evidence.names
        # A list question ("which papers …") is answered by the sentences that introduce each work; a comparison
        # turns this off (`comparing`): each side is introduced anyway, and its line is for what was asked.
        self.introduces = question.wants_paper or question.wants_several
        # Sentences before an abstract's "we propose …" set out the problem: not what a paper found or did.
        self.asks_problem = PROBLEM.search(question.text) is not None
        self.introduced_at: dict[str, int] = {}
        self._own_names: dict[str, list[str]] = {}
        self._paper_coverage: dict[str, float] = {}
        self._model_ranking: dict[str, list[tuple[float, SentenceHit]]] = {}
        for hit in sorted(self.hits, key=lambda h: h.number):
            if INTRODUCTION.search(hit.text) and not RHETORICAL.search(hit.text):  # "how can we design …?"
                self.introduced_at.setdefault(hit.paper_id, hit.number)
        # The question's words outside its parts ("There's a paper on X." before the asking): what "it" is.
        context = question.text
        for part in question.parts:
            context = context.replace(part.text, " ")
        self.context = context if len(terms(context)) >= 2 else ""
        # The words of the asking sentences: what an answer must address (see `completing`).
        self.asked = set(terms(" ".join(asking_sentences(question.text)[1])))
        self.asked_things = set(terms(" ".join(asked_things(question.text))))
        # The whole question as one part; a one-part question's answer types hold for all of it.
        single = question.parts[0] if len(question.parts) == 1 else Part(question.text, False)
        self.whole = replace(single, text=question.text, wants_quantity=question.wants_quantity, wants_name=False)
        self._defined: dict[str, list[str]] = {}

    @cached_property
    def question_terms(self) -> set[str]:
        """The question's terms (for `features`, computed for many sentences)."""
        return set(terms(self.question.text))

    @cached_property
    def sentence_count(self) -> dict[str, int]:
        """Each paper's number of abstract sentences (for `features`, which few answers need)."""
        count: dict[str, int] = {}
        for hit in self.hits:
            count[hit.paper_id] = max(count.get(hit.paper_id, 0), hit.number + 1)
        return count

    def weight(self, term: str) -> float:
        # A word no paper uses is the most telling of all: a question built on such words is not about the corpus.
        return self.table.idf.get(term, self.table.max_idf)

    def coverage(self, text: str, evidence_text: str, ignored: frozenset[str] = frozenset()) -> float:
        """Share of the text's idf-weighted terms (but the `ignored` ones) that the evidence holds; an acronym
        and its spelled-out form hold each other ("KL" and "Kullback-Leibler", "key-value cache" and "KV
        cache")."""
        wanted = set(terms(text)) - ignored
        total = sum(self.weight(t) for t in wanted)
        held = wanted & set(terms(evidence_text))
        held |= {t for t, letters in acronyms(text).items()
                 if t in wanted and expansion_pattern(letters).search(evidence_text)}
        for letters in set(acronyms(evidence_text).values()):
            if spelled := expansion_pattern(letters).search(text):
                held |= wanted & set(terms(spelled.group(0)))
        return sum(self.table.idf.get(t, 0.0) for t in held) / total if total else 0.0

    def part_coverage(self, text: str, evidence_text: str) -> float:
        """`coverage` of a part's words (or the whole question's); a part's own words share it with the context's,
        which say what "it" is."""
        coverage = self.coverage(text, evidence_text)
        if text != self.question.text and self.context:
            share = self.weights.context_share
            coverage = (1 - share) * coverage + share * self.coverage(self.context, evidence_text)
        return coverage

    def new_names(self, hit: SentenceHit) -> list[str]:
        """Names in the sentence that neither the question nor its paper's title holds and few papers use
        (CountDown, GDELT; not LLM, not the words of the work's own name)."""
        title = self.rank[hit.paper_id][1].paper.title
        rare = np.log1p(1 / self.weights.rare_name_share)
        return [n for n in question_names(hit.text) if not mentions(n, self.question.text) and not mentions(n, title)
                and (words := terms(n)) and max(self.weight(t) for t in words) >= rare]

    def introduces_work(self, hit: SentenceHit, names: list[str] = ()) -> bool:
        """Whether the sentence introduces a work by its name: a name spelled out ("BlendKiln (Balanced Kiln
        Blending)"), or introducing words with one of `names` or a rare name of the paper's own. "We then
        introduce a regularization …" or "we design a series of tasks in Minecraft" introduce no work."""
        return bool(EXPANSION.search(hit.text) or INTRODUCTION.search(hit.text)
                    and (self.new_names(hit) or any(mentions(n, hit.text) for n in names)))

    def describes_work(self, hit: SentenceHit, candidate: Candidate) -> bool:
        """Whether the sentence's subject is the paper's work (its title's name, a name of the question, "it",
        "our method", or "we" doing rather than reporting) and it reports no result: how the work works."""
        if MEASUREMENT.search(hit.text) or self.before_introduction(hit):
            return False  # before the work is introduced, "it" is the approach the paper sets out to improve on
        if ELABORATION.match(hit.text) and hit.number > self.introduced_at.get(hit.paper_id, hit.number):
            # "More specifically, the LLM generates its own training data …", "This is achieved using a … reward":
            # after the work's introduction, a sentence spelling out the one before says how the work works.
            return True
        if RESULT.search(hit.text):
            return False
        names = [n for n in self.names if mentions(n, f"{candidate.paper.title} {candidate.paper.abstract}")]
        names += self.own_names(candidate)
        subjects = [re.escape(folded(n)) for n in names + [title_lead(candidate.paper.title)] if n]
        for body in (hit.text, hit.text[LEAD_IN.match(hit.text).end():]):
            named = any(re.match(r"(?:(?:the|this|these|our|each|such)\s+)?" + subject + r"(?![\w-])", folded(body),
                                 re.IGNORECASE) for subject in subjects)
            author = re.match(r"we\b", body, re.IGNORECASE) and not REPORTING.match(body)
            if named or author or WORK_PRONOUN.match(body):
                # The work's own introduction says what it is; a later "we introduce a … reward" is how it works.
                return self.introduced_at.get(hit.paper_id) != hit.number and \
                    not any(introduced_as(name, hit.text) for name in names)
        return False

    def paper_coverage(self, candidate: Candidate) -> float:
        """How much of the question the paper's title and abstract hold together: a paper answering a question
        of several parts holds them across its sentences, though another paper's one sentence may score higher."""
        paper = candidate.paper
        if paper.paper_id not in self._paper_coverage:
            self._paper_coverage[paper.paper_id] = self.coverage(self.question.text, f"{paper.title} {paper.abstract}")
        return self._paper_coverage[paper.paper_id]

    def before_introduction(self, hit: SentenceHit) -> bool:
        """Whether the sentence comes before its abstract's "we propose …" (none: nothing comes before)."""
        return hit.number < self.introduced_at.get(hit.paper_id, 0)

    def sets_problem(self, hit: SentenceHit) -> bool:
        """Whether the sentence comes before the paper introduces its work (it sets out the problem) and the
        question does not ask about the problem. The authors at work ("we construct a … Benchmark (MRMBench)")
        are past the problem, whatever verb they use."""
        return not self.asks_problem and self.before_introduction(hit) and not AUTHORS_AT_WORK.search(hit.text)

    def own_names(self, candidate: Candidate) -> list[str]:
        """The names the paper's abstract gives its own work ("… a technique named PCB-Merging")."""
        paper = candidate.paper
        if paper.paper_id not in self._own_names:
            self._own_names[paper.paper_id] = [n for n in question_names(paper.abstract)
                                               if introduced_as(n, paper.abstract)]
        return self._own_names[paper.paper_id]

    def names_things(self, hit: SentenceHit, part: Part) -> bool:
        """Whether the sentence holds the things a part asks for: as many items as it says ("the three kinds
        of tasks": "A, B, and C"), else names the question lacks."""
        if part.items:
            return max(enumerated(hit.text), len(self.new_names(hit))) >= part.items
        return bool(self.new_names(hit))

    def defined_names(self, part: Part) -> list[str]:
        """The names a part asks what they are ("What is MoPPS", "what are PAVs and …"), or asks about with
        nothing else ("Explain ArCHer", "what does X evaluate"): answered where the paper introduces them."""
        text = folded(part.text)
        asked = [n for n in self.names if re.match(r"\W*(?:so\s+|and\s+)?(?:what|who)(?:'s|\s+is|\s+are|\s+was)\s+"
                                                   r"(?:the\s+|an?\s+)?" + re.escape(folded(n)) + r"(?![\w-])",
                                                   text, re.IGNORECASE)]
        if asked or part.wants_quantity or part.wants_outcome or part.wants_names:
            return asked
        return [n for n in self.names if (match := re.match(ABOUT_NAME + re.escape(folded(n)) + r"(?![\w-])(.*)", text,
                                                            re.IGNORECASE)) and len(terms(match.group(1))) <= 1]

    def kinds(self, part: Part) -> list[Callable[[SentenceHit, Candidate], bool]]:
        """The kinds of sentence the part asks for: one saying how the work works, one naming things, one
        reporting a result, one introducing the name the part asks about."""
        defined = self.defined_names(part)
        return [kind for kind, wanted in ((self.describes_work, part.wants_mechanism),
                                          (lambda hit, _: self.names_things(hit, part), part.wants_names),
                                          (lambda hit, _: reports_result(hit.text), part.wants_outcome),
                                          (lambda hit, _: any(introduces_name(n, hit.text) for n in defined),
                                           bool(defined)),
                                          (lambda hit, _: any(introduces_name(n, hit.text) for n in self.new_names(hit)),
                                           part.wants_called),
                                          (lambda hit, _: CHANGE.search(hit.text) is not None, part.wants_change))
                if wanted]

    def features(self, hit: SentenceHit, part: Part, candidate: Candidate, similarity: float) -> dict[str, float]:
        """What the fitted sentence model reads of the sentence against the part (`rag.selector.FEATURES`): the
        conditions of `score`'s bonuses and penalties, and more. Computed only where the model is asked (it would
        add a quarter to every answer's time)."""
        text, asked = hit.text, part.text
        figure = part.wants_quantity and has_figure(text, asked, self.question.text)
        introduces = bool(INTRODUCTION.search(text) or EXPANSION.search(text))
        if asked not in self._defined:
            self._defined[asked] = self.defined_names(part)
        count = self.sentence_count.get(hit.paper_id, hit.number + 1)
        novel = set(terms(text)) - self.question_terms
        return {
            "similarity": similarity, "coverage": self.part_coverage(asked, f"{text} {candidate.paper.title}"),
            "sentence_coverage": self.coverage(asked, text),
            "asked_coverage": self.coverage(" ".join(sorted(self.asked_things)), text) if self.asked_things else 0.0,
            "figure_asked": float(figure),
            "number_asked": float(part.wants_quantity and not figure and NUMBER.search(text) is not None),
            "measurement": float(MEASUREMENT.search(text) is not None),
            "introduction_asked": float((part.wants_name or self.introduces) and introduces),
            "introduction": float(introduces),
            "names_asked": float(part.wants_names and self.names_things(hit, part)),
            "mechanism_asked": float(part.wants_mechanism and self.describes_work(hit, candidate)),
            "outcome_asked": float(part.wants_outcome and reports_result(text)),
            "result": float(reports_result(text)),
            "link": float(URL.search(text) is not None and not LINK_WANTED.search(self.question.text)),
            "problem": float(self.sets_problem(hit)),
            "rhetorical": float(RHETORICAL.search(text) is not None),
            "position": hit.number / max(count - 1, 1), "first": float(hit.number == 0),
            "last": float(hit.number == count - 1), "log_words": math.log1p(len(text.split())),
            "names_question_name": float(any(mentions(n, text) for n in self.names)),
            "defines_asked_name": float(any(introduces_name(n, text) for n in self._defined[asked])),
            "new_names": min(len(self.new_names(hit)), 3) / 3,
            "novel_idf": float(np.mean([self.weight(t) for t in novel])) / self.table.max_idf if novel else 0.0,
        }

    def score(self, hit: SentenceHit, part: Part, similarity: float) -> ScoredSentence:
        """The sentence scored against the part (or `whole`): what it asks for, in its own words."""
        rank, candidate = self.rank[hit.paper_id]
        text = part.text
        lexical = self.part_coverage(text, f"{hit.text} {candidate.paper.title}")
        paper_relevance = candidate.dense / (1.0 + 0.15 * rank)
        score = similarity + self.weights.lexical_weight * lexical + self.weights.paper_weight * paper_relevance
        if part.wants_quantity:
            if has_figure(hit.text, text, self.question.text):
                score += self.weights.measurement_bonus
            elif NUMBER.search(hit.text):
                score += self.weights.number_bonus
        if (part.wants_name or self.introduces) and (INTRODUCTION.search(hit.text) or EXPANSION.search(hit.text)):
            score += self.weights.introduction_bonus
        if part.wants_names and self.names_things(hit, part):
            score += self.weights.names_bonus
        if part.wants_mechanism and self.describes_work(hit, candidate):
            score += self.weights.mechanism_bonus
        if part.wants_outcome and reports_result(hit.text):
            score += self.weights.mechanism_bonus
        if URL.search(hit.text) and not LINK_WANTED.search(self.question.text):
            # "Our code is available at …" answers nothing but a request for the code.
            score -= self.weights.link_penalty
        if self.sets_problem(hit):
            score -= self.weights.background_penalty
        if RHETORICAL.search(hit.text):
            # "This raises the question: how can we …?" echoes a question, answers none.
            score -= self.weights.rhetorical_penalty
        return ScoredSentence(hit, candidate, rank, score)

    def comparing(self) -> Scorer:
        scorer = copy.copy(self)
        scorer.introduces = False
        scorer._model_ranking = {}  # the model reads `introduces` (its "introduction_asked" feature)
        return scorer

    def model_ranking(self, paper_id: str) -> list[tuple[float, SentenceHit]]:
        """The paper's sentences (no link, no rhetorical question) with the fitted model's chance that each holds
        what the question asks, likeliest first; computed once per paper, though an answer may ask it twice (a fact
        question's likeliest sentence, then its sentences on how the work works)."""
        if paper_id not in self._model_ranking:
            scored = [(self.model.probability(self.features(s.hit, self.whole, s.candidate, s.hit.similarity)), s.hit)
                      for s in self.for_question(paper_id)
                      if not URL.search(s.hit.text) and not RHETORICAL.search(s.hit.text)]
            self._model_ranking[paper_id] = sorted(scored, key=lambda pair: -pair[0])
        return self._model_ranking[paper_id]

    def for_question(self, paper_id: str | None = None, *, wants_quantity: bool | None = None) -> list[ScoredSentence]:
        whole = self.whole if wants_quantity is None else replace(self.whole, wants_quantity=wants_quantity)
        hits = [h for h in self.hits if paper_id is None or h.paper_id == paper_id]
        scored = [self.score(h, whole, h.similarity) for h in hits]
        return sorted(scored, key=lambda s: -s.score)

    def for_part(self, index: int, paper_id: str) -> list[ScoredSentence]:
        # "What mechanism does it rely on" alone does not say what "it" is: the whole question's similarity
        # takes a share.
        part, vector = self.question.parts[index], self.part_vectors[index]
        scored = [self.score(h, part, (1 - self.weights.context_share) * float(np.dot(h.vector, vector))
                             + self.weights.context_share * h.similarity)
                  for h in self.hits if h.paper_id == paper_id]
        return sorted(scored, key=lambda s: -s.score)


# A sentence naming what the previous one described ("We term this approach X", "We call this framework
# Y"): it is quoted with that sentence, which says what the name stands for.
REFERS_BACK = re.compile(r"\W*(?:[\w-]+\s+){0,3}?(?:this|these|such)\s+(?:[\w-]+\s+)?(?:approach|method|framework|"
                         r"paradigm|problem|setting|technique|model|process|idea|task|objective|procedure|strategy|"
                         r"mechanism|formulation|family|class|pipeline|system)s?\b", re.IGNORECASE)
NAMING = re.compile(r"\b(?:term|call|name|dub)(?:s|ed)?\b|\brefer(?:red)? to\b", re.IGNORECASE)


class Composer:
    """Collects quotes and their citations; one citation per quote, so each [n] shows its own evidence."""

    def __init__(self, hits: Sequence[SentenceHit] = ()):
        self.citations: list[Citation] = []
        self.hits = {(h.paper_id, h.number): h for h in hits}

    def cite(self, candidate: Candidate, quote: str, field: str = "abstract", start: int | None = None) -> int:
        paper = candidate.paper
        for citation in self.citations:
            if (citation.paper_id, citation.quote, citation.field) == (paper.paper_id, quote, field):
                return citation.number
        number = len(self.citations) + 1
        self.citations.append(Citation.of(number, paper, quote, field, start))
        return number

    def quoted(self, candidate: Candidate, sentences: list[SentenceHit], focus: list[set[str]],
               figures: bool = False) -> str:
        """The sentences as verbatim spans of the abstract (neighbours joined), each cited."""
        abstract = candidate.paper.abstract
        # "We term this approach NLHF": what "this approach" is, the sentence before says.
        numbers = {h.number for h in sentences}
        sentences = list(sentences) + [previous for h in sentences if REFERS_BACK.match(h.text)
                                       and NAMING.search(h.text) and h.number - 1 not in numbers
                                       and (previous := self.hits.get((h.paper_id, h.number - 1)))]
        # [start, end, number of the last sentence, end of that whole sentence, start of the first whole sentence]
        spans: list[list[int]] = []
        for hit in sorted(sentences, key=lambda h: h.number):
            start, end = clause_of(hit, focus, figures)
            if spans and spans[-1][2] == hit.number - 1 and spans[-1][1] == spans[-1][3] and start == hit.start:
                spans[-1][1:4] = [end, hit.number, hit.end]
            else:
                if start == hit.start:
                    start += framing_length(hit.text, set().union(*focus))
                spans.append([start, end, hit.number, hit.end, hit.start])
        pieces = []
        for start, end, _, sentence_end, sentence_start in spans:
            quote = abstract[start:end]
            # A quote cut inside its sentence says so; the citation keeps the verbatim words alone.
            cut = ("…" if start > sentence_start else "", "…" if end < sentence_end else "")
            pieces.append(f"{cut[0]}{_as_text(quote)}{cut[1]} [{self.cite(candidate, quote, start=start)}]")
        return " ".join(pieces)

    def line(self, candidate: Candidate, sentences: list[SentenceHit], focus: list[set[str]], bullet: bool = False,
             figures: bool = False) -> str:
        quoted = self.quoted(candidate, sentences, focus, figures)
        return f"{'- ' if bullet else ''}“{candidate.paper.title}”: {quoted}"


def clause_of(hit: SentenceHit, focus: list[set[str]], figures: bool = False) -> tuple[int, int]:
    """A long sentence cut to its clauses that hold the focus terms (one set per part of the question), or a
    measurement when the question asks for `figures` (the whole sentence when all do or none can be singled
    out); short sentences are kept whole. Offsets are into the abstract."""
    words = set().union(*focus)
    if len(hit.text.split()) <= LONG_SENTENCE_WORDS or not words:
        return hit.start, hit.end
    bounds, start = [], 0
    for match in CLAUSE_END.finditer(hit.text):
        bounds.append((start, match.start() + 1))
        start = match.end()
    bounds.append((start, len(hit.text)))
    if len(bounds) == 1:
        return hit.start, hit.end
    held = [set(terms(hit.text[a:b])) for a, b in bounds]
    measured = {i for i, (a, b) in enumerate(bounds) if figures and MEASUREMENT.search(hit.text[a:b])}
    if any(words & held[i] for i in measured):
        # The figure asked for sits in a clause on the question's topic: that clause answers. Another clause is
        # kept for a thing asked that the measured ones do not touch ("… 100x over existing methods, while also
        # improving with larger model capacity" for "how much more efficient, and at what scale"), or for more
        # than one word of the question they lack ("compared to the baseline snap minimization method"); one
        # such word is an echo of the question ("in terms of memory efficiency -- Locret achieves 20x …").
        keep = set(measured)
        for part in focus:
            if not any(part & held[i] for i in keep):
                keep |= {i for i, h in enumerate(held) if part & h}
        said = set().union(*(held[i] for i in keep))
        keep |= {i for i, h in enumerate(held) if len((words & h) - said) > 1}
    else:
        keep = {i for i, h in enumerate(held) if words & h} | measured
    # "… consisting of: (1) …; (2) …; (3) …": what a clause ending in a colon announces is what it says, every
    # item of it.
    for i in sorted(keep):
        if hit.text[:bounds[i][1]].endswith(":"):
            j = i + 1
            while j < len(bounds):
                keep.add(j)
                if not hit.text[:bounds[j][1]].endswith(";"):
                    break
                j += 1
    if not keep or len(keep) == len(bounds):
        return hit.start, hit.end
    first, last = bounds[min(keep)][0], bounds[max(keep)][1]
    text = hit.text[first:last].rstrip(",;: ")
    return hit.start + first, hit.start + first + len(text)


# "To address these issues, we introduce …", "In this paper, we …", "Specifically, …": words that frame a sentence
# in its abstract (a purpose, a pointer to the paper, a connective) and say nothing on their own; a quote that
# starts with the sentence leaves them out.
FRAMING = re.compile(r"(?:to (?:[a-z]+|this end|that end)|"
                     r"in (?:this|our) (?:paper|work|study|report|article)|in (?:addition|particular|practice|"
                     r"response)|building (?:on|upon)|based on (?:this|these|that|those)|motivated by|inspired by|"
                     r"for (?:example|instance)|as a result|specifically|concretely|empirically|experimentally|"
                     r"additionally|furthermore|moreover|notably|importantly|finally|however|therefore|thus|hence|"
                     r"overall|consequently|accordingly|in summary|to summari[sz]e)\b[^,;:()\[\]\d]{0,60},\s+(?=[a-z])",
                     re.IGNORECASE)


def framing_length(text: str, focus: set[str]) -> int:
    """How many characters of framing the sentence opens with (none when they hold a word the question asks
    about, or a name: "In WebShop, …")."""
    match = FRAMING.match(text)
    if not match or focus & set(terms(match.group(0))) or re.search(r"(?<!^)\b[A-Z]", match.group(0)):
        return 0
    return match.end()


def found_nothing(answer: str) -> bool:
    """Whether a previous answer said that no paper answers ("No, none of the indexed papers cover …")."""
    return NEGATIVE_ANSWER.search(answer) is not None


def abstention(candidates: list[Candidate], reason: str | None = None) -> Draft:
    text = ABSTAIN_TEXT
    if reason:
        text += f" {reason}"
    if candidates:
        closest = "; ".join(f"“{c.paper.title}”" for c in candidates[:3])
        text += f" Closest papers: {closest}."
    return Draft(text, [], True, [])


def _as_text(quote: str) -> str:
    # Citation-like brackets inside quoted abstract text ("Qin et al. [2024]") would read as our own markers.
    return CITATION_MARK.sub(r"(\1)", quote)


def _focus(parts: list[Part]) -> list[set[str]]:
    """Terms a cut clause must keep: the words of each thing asked, a part split at its question words ("what
    gain does it claim, and up to what scale …" asks two things in one part)."""
    asks = (ask for p in parts for ask in INTERROGATIVE.split(p.text))
    return [words for ask in asks if (words := set(terms(ask)))]


def _answers_part(hit: SentenceHit, part: Part, question: Question) -> bool:
    return not part.wants_quantity or has_figure(hit.text, part.text, question.text)


def _of_kind(scorer: Scorer, scored: list[ScoredSentence], part: Part) -> list[ScoredSentence]:
    """The sentences of the kind the part asks for (how the work works; names the question lacks), when the
    paper has any: a near-best sentence of another kind does not answer it."""
    kinds = scorer.kinds(part)
    # The kinds run from broad to narrow ("names the question lacks", then "gives the work its name"): the
    # narrowest that some sentence meets decides.
    for end in range(len(kinds), 0, -1):
        if typed := [s for s in scored if all(kind(s.hit, s.candidate) for kind in kinds[:end])]:
            return typed
    return scored


def covering_sentences(scorer: Scorer, candidate: Candidate, threshold: float, max_sentences: int,
                       parts: list[int] | None = None) -> tuple[list[SentenceHit], list[Part]]:
    """Each part's best sentence in the paper (once each, best-scoring first, at most `max_sentences`), and the
    parts it cannot cover. Two parts ask two things: a sentence that merely scores near the best for a second
    part does not stand in for that part's own best (measured: it dropped "MyoHand" for "Adroit Hand").
    Named things of the question that the paper mentions are covered too."""
    question = scorer.question
    paper_id = candidate.paper.paper_id
    indices = list(range(len(question.parts))) if parts is None else parts
    options: list[list[ScoredSentence]] = []
    missing: list[Part] = []
    floor = scorer.weights.part_threshold_share * threshold
    for index in indices:
        part = question.parts[index]
        scored = [s for s in scorer.for_part(index, paper_id) if _answers_part(s.hit, part, question)]
        scored = _of_kind(scorer, scored, part)
        if not scored or scored[0].score < floor:
            missing.append(part)
            continue
        # Beside its best, a part's sentences say what the work did or found, not the problem it sets out.
        options.append([s for s in scored if s.score >= floor and (s is scored[0] or not scorer.sets_problem(s.hit))])
    best: dict[int, ScoredSentence] = {}
    for chosen in _assigned(options, scorer.weights.part_yield_share):
        number = chosen.hit.number
        if number not in best or best[number].score < chosen.score:
            best[number] = chosen
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.hit.number))[:max_sentences]
    sentences = [s.hit for s in ranked]
    if sentences:
        sentences += _name_sentences(scorer, candidate, sentences, max_sentences - len(sentences))
    return sentences, missing


def _assigned(options: list[list[ScoredSentence]], share: float) -> list[ScoredSentence]:
    """One sentence per part, from each part's sentences that answer it well enough (best first). Two parts ask
    two things: a part whose best sentence an earlier part took gets its best other one; with none, the earlier
    part gives the sentence up when another answers it nearly as well (`share` of its best). "How many tasks
    make up RES-Q, and how far ahead of GPT-4o is Claude?": the first part takes the sentence with "100 … tasks",
    not the one with "outperforms GPT-4o by 12%" that it ranks first and the second part has alone."""
    chosen: list[ScoredSentence] = []
    for own in options:
        taken = {s.hit.number for s in chosen}
        fresh = [s for s in own if s.hit.number not in taken]
        if not fresh:
            holder = next(i for i, s in enumerate(chosen) if s.hit.number == own[0].hit.number)
            other = [s for s in options[holder] if s.hit.number not in taken
                     and s.score >= share * options[holder][0].score]
            if other:
                chosen[holder] = other[0]
        chosen.append(fresh[0] if fresh else own[0])
    return chosen


def _name_sentences(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], room: int) -> list[SentenceHit]:
    """"What did it reach on VisualWebArena and on WebArena?": each named thing the paper mentions outside its
    title gets a sentence naming it, when the chosen ones do not."""
    added: list[SentenceHit] = []
    common = np.log1p(1 / scorer.weights.common_name_share)
    # A plain word most papers use (LLM) is the field's; the terms of "R2R" or "GPT-4" say nothing of theirs.
    names = [n for n in scorer.names if not mentions(n, candidate.paper.title)
             and not (n.isalpha() and scorer.weight(n.lower()) < common)]
    for name in names:
        if room <= len(added) or any(mentions_form(name, h.text) for h in chosen + added):
            continue
        naming = [s for s in scorer.for_question(candidate.paper.paper_id) if mentions(name, s.hit.text)]
        if naming:
            added.append(naming[0].hit)
    return added


def answer(question: Question, evidence: Evidence, table: PaperTable, *, threshold: float,
           max_sentences: int, weights: ComposerSettings | None = None, model: SentenceModel | None = None) -> Draft:
    candidates = evidence.candidates
    if not candidates and not evidence.sides:
        if question.restrict_to_previous and evidence.previous is not None:
            return _none_of_previous(evidence.previous)
        return abstention(candidates, evidence.scope or "No paper matches the question and its filters.")
    if question.asks_size:
        return collection_size(table)
    scorer = Scorer(question, evidence, table, weights, model)
    if question.lists_filtered:
        return answer_filtered(question, scorer, evidence)
    if question.metadata_fields and not question.mixes_metadata:
        return answer_metadata(question, scorer, evidence, threshold)
    draft = answer_content(question, scorer, evidence, table, threshold, max_sentences)
    if question.mixes_metadata and not draft.abstained:
        return with_listing(question, draft, scorer)
    return draft


def answer_content(question: Question, scorer: Scorer, evidence: Evidence, table: PaperTable, threshold: float,
                   max_sentences: int) -> Draft:
    """The answer from the abstracts, shaped by what the question asks."""
    candidates = evidence.candidates
    sides = side_by_side(question, evidence.works, evidence.described)
    texts = [f"{c.paper.title} {c.paper.abstract}" for c in candidates]
    # "Orca 2" when the corpus has Orca, "UniPic 3.0" when it has 2.0: another version is not this one.
    versions = [n for n, c in evidence.works.items() if c is None and (base := version_of(n))
                and any(names_a_version(base, t) for t in texts)]
    # "REST APIs" where the abstract says "RESTful APIs": a name that the retrieved papers extend is not absent.
    absent = [name for name, c in evidence.works.items() if c is None and (name not in sides or name in versions)
              and not any(re.search(extended(other), folded(t)) for other in [name, *alternatives(name, question.text,
                                                                                                   evidence.names)]
                          for t in texts)]
    if absent:
        return abstention(candidates, ABSENT_NAMES.format(", ".join(absent)))
    if unknown := off_topic_words(question, evidence, table, scorer.weights):
        return abstention(candidates, UNKNOWN_WORDS.format(", ".join(unknown)))
    if question.refers_to_previous and evidence.previous is None and question.previous_answer \
            and found_nothing(question.previous_answer):
        # "What accuracy did it reach?" after "No, none of the papers cover protein folding": no "it" to answer for.
        return abstention(candidates, NOTHING_BEFORE)
    if sides:
        return answer_comparison(question, scorer, evidence, sides, threshold, max_sentences)
    if question.wants_several or question.restrict_to_previous:
        return answer_list(question, scorer, evidence, threshold)
    subject = named_subject(question, evidence.works)
    if question.compares and subject is not None and not question.wants_quantity:
        # "How does PoAct differ from a ReAct-style agent?": one work set against an approach the papers only
        # mention. Its line says what the work is, then how it differs, as each side of a comparison does (a
        # figure asked is a fact's, whose missing part abstains).
        name = next((n for n, c in evidence.works.items() if c is subject and names_work(n, c)), None)
        if name is not None:
            return answer_comparison(question, scorer, evidence, [name], threshold, max_sentences)
    definition = definition_subject(question, evidence.works)
    if definition is not None:
        return answer_definition(question, scorer, definition, threshold)
    if evidence.generic is not None:
        return answer_generic(scorer, evidence.generic, threshold)
    if subject is None and question.refers_to_previous and evidence.previous and len(evidence.candidates) == 1:
        # "What model did they build on top of it?": the conversation fixed the paper, so the user's few words
        # need only cover a part of the question (`part_threshold_share`), as a part of a longer question does.
        return answer_fact(question, scorer, evidence.candidates[0],
                           scorer.weights.part_threshold_share * threshold, max_sentences)
    return answer_fact(question, scorer, subject or titled_subject(question, scorer), threshold, max_sentences)


def titled_subject(question: Question, scorer: Scorer) -> Candidate | None:
    """The one retrieved paper the question calls by its title's words ("the tree search approach for language
    model agents" for "Tree Search for Language Model Agents"): the question is about that paper, so the
    answer comes from it or not at all."""
    if not WORK_NOUN.search(question.text):
        return None
    asked = terms(question.text)
    asked_set = set(asked)
    titled = []
    for candidate in scorer.candidates:
        words = set(terms(candidate.paper.title.split(":")[-1]))
        held = words & asked_set
        total = sum(scorer.weight(t) for t in words)
        if len(words) >= TITLE_WORDS and total and \
                sum(scorer.weight(t) for t in held) / total >= scorer.weights.titled_subject_share and \
                _window(asked, held) <= len(held) + 2:  # the title's words together, as one description
            titled.append(candidate)
    return titled[0] if len(titled) == 1 else None


def _window(words: list[str], wanted: set[str]) -> int:
    """The fewest consecutive words holding every wanted one."""
    best, last = len(words) + 1, {}
    for i, word in enumerate(words):
        if word in wanted:
            last[word] = i
            if len(last) == len(wanted):
                best = min(best, i - min(last.values()) + 1)
    return best


def unknown_words(text: str, vocabulary: set[str]) -> list[str]:
    """The words of the text that no indexed paper uses."""
    # "shouldn't", "don't": a contraction is no word of a topic.
    text = re.sub(r"\w+n['’]t\b", " ", folded(text).lower())
    return [w for w in dict.fromkeys(WORD.findall(text))
            if w.isalpha() and len(w) > 2 and w not in STOPWORDS and w not in vocabulary]


def topic_word_band(similarity: float, weights: ComposerSettings) -> bool:
    """Whether the first paper's similarity is neither far nor close: then a word no paper uses says the question
    is off-topic only if it carries the question (and only then are such words embedded)."""
    return weights.off_topic_similarity <= similarity < weights.off_topic_carried_similarity


def off_topic_words(question: Question, evidence: Evidence, table: PaperTable,
                    weights: ComposerSettings) -> list[str]:
    """The question's words that no indexed paper uses, when the question is about a topic the papers lack:
    it names no indexed work, and the paper ranked first is far from it, or not close and one such word
    carries the question (its embedding is near the whole question's: "music", "federated", not "went" or
    "obey", which are missing from abstracts too). A low similarity alone does not say so (a question naming a
    work). A follow-up's own words are not its whole topic: the conversation is."""
    if any(evidence.works.values()) or question.previous_question or not evidence.candidates:
        return []
    similarity = evidence.candidates[0].dense
    if similarity >= weights.off_topic_carried_similarity:
        return []
    # "Does any paper use Minecraft? Which one got the biggest gain?": a name few papers use (too many for one work;
    # not LLM or RL, which every paper uses) that a top paper uses keeps the question on the papers' topic, whatever
    # ordinary words it adds.
    rare = np.log1p(1 / weights.rare_name_share)
    if any(max((table.idf.get(t, 0.0) for t in terms(name)), default=0.0) >= rare
           and mentions(name, f"{c.paper.title} {c.paper.abstract}")
           for name in evidence.names for c in evidence.candidates[:OFF_TOPIC_NAME_PAPERS]):
        return []
    words = unknown_words(question.text, table.vocabulary)
    if not topic_word_band(similarity, weights):
        return words
    carrying = [w for w in words if w in evidence.word_vectors and evidence.question_vector is not None
                and float(np.dot(evidence.word_vectors[w], evidence.question_vector)) >= weights.topic_word_similarity]
    return words if carrying else []


def alternatives(name: str, text: str, names: Sequence[str]) -> list[str]:
    """The names the question offers beside this one as either-or ("backbones (CLIP or ViT)", "GPT-4/Claude"):
    a paper mentioning one of them meets the question."""
    text = folded(text)
    found = []
    for other in names:
        if other == name:
            continue
        a, b = re.escape(folded(name)), re.escape(folded(other))
        if re.search(rf"(?<![\w-])(?:{a}(?:,?\s+or\s+|\s*/\s*){b}|{b}(?:,?\s+or\s+|\s*/\s*){a})(?![\w-])", text):
            found.append(other)
    return found


def extended(name: str) -> str:
    """A pattern for the name with each word possibly extended in lower case ("REST APIs": "RESTful APIs")."""
    return r"(?<![\w-])" + r"\s+".join(re.escape(word) + "[a-z]*" for word in folded(name).split()) + r"(?![\w-])"


def _none_of_previous(previous: list[Candidate]) -> Draft:
    titles = "; ".join(f"“{c.paper.title}”" for c in previous[:4])
    return Draft(f"{ABSTAIN_TEXT} {NONE_OF_PREVIOUS.format(titles)}", [], True, [])


def names_work(name: str, candidate: Candidate) -> bool:
    """Whether the name is the paper's own work: in its title, or introduced by its abstract ("we propose
    IKEA", "… (MASH)"), not a model or benchmark it merely uses."""
    paper = candidate.paper
    if mentions(name, paper.title) or in_title_words(name, paper.title):
        return True
    escaped = re.escape(folded(name))
    return re.search(rf"\b(propos|introduc|present|deriv|develop|design|buil|creat|call|nam|dub|term)\w*\b[^.]{{0,80}}?(?<![\w-]){escaped}(?![\w-])|"
                     rf"\((?:[^()]{{0,20}}\s)?{escaped}\)", folded(paper.abstract), re.IGNORECASE) is not None


def introduced_as(name: str, abstract: str) -> bool:
    """Whether the abstract introduces its work under this name: "we propose IKEA", "… Agent (IKEA)"."""
    escaped = re.escape(unmarked(name))
    return re.search(rf"\b(?:propos|introduc|present|call|nam|dub|term)\w*\s+(?:[\w-]+\s+){{0,2}}?{escaped}(?![\w-])|"
                     rf"\b(?:propos|introduc|present)\w*\b[^.]{{0,150}}\({escaped}\)", unmarked(abstract), re.IGNORECASE) is not None


def named_subject(question: Question, works: dict[str, Candidate | None]) -> Candidate | None:
    """The paper of the one work the question names by the name its title leads with ("Locret", "TÜLU 3"), by
    its whole title, or by the name that its abstract introduces ("we propose IKEA"): the question is about
    that paper, so the answer comes from it or not at all. A name that follows "on", "than", "against"... ("its
    success rate on WebArena") is a condition, not the subject."""
    text = folded(question.text)
    own = {c.paper.paper_id: c for name, c in works.items()
           if c is not None and (_unarticled(folded(name).lower().strip("!"))
                                 in (_unarticled(title_lead(c.paper.title)), _unarticled(whole_title(c.paper)))
                                 or introduced_as(name, c.paper.abstract))
           and not is_condition(name, text)}
    return next(iter(own.values())) if len(own) == 1 else None


def _unarticled(name: str) -> str:
    """"alignment ceiling" for "the alignment ceiling": a name read from a question leaves its article out."""
    return re.sub(r"^(?:the|a|an)\s+", "", name)


def whole_title(paper: Paper) -> str:
    """The paper's title as a question quoting it whole would name it ("Tree Search for Language Model Agents")."""
    return folded(paper.title).lower().strip(" !?.")


def is_condition(name: str, text: str) -> bool:
    """"… on WebArena", "… than GPT-4", "… when used with PPO": the name sets a condition of the question, it is not
    what is asked about."""
    return re.search(rf"\b(?:on|at|than|against|over|beyond|besides|for an?|under|"
                     rf"(?:used|applied|combined|paired|plugged|integrated)\s+(?:with|to|into))\s+(?:the\s+)?(?:[a-z]+\s+)?"
                     rf"{re.escape(folded(name))}",
                     text, re.IGNORECASE) is not None


# "(not the Lite subset)": a word the question names only to rule out.
NEGATION = r"not|excluding|except|without|other than"
NEGATED_WORD = rf"\b(?:{NEGATION})\s+(?:the\s+|its\s+|a\s+)?([A-Z]\w*)"


def glossed(name: str, names: Sequence[str], question: str) -> list[str]:
    """The names the question gives as the same thing in brackets: "Generative Flow Networks (GFlowNets)"."""
    text = folded(question)
    return [other for other in names if other != name and re.search(
        rf"{re.escape(folded(name))}\s*\({re.escape(folded(other))}\)|{re.escape(folded(other))}\s*\({re.escape(folded(name))}\)",
        text, re.IGNORECASE)]


VARIANTS_ASKED = re.compile(r"\b(?:variants?|versions?|subsets?|splits?|extensions?)\b", re.IGNORECASE)


def variants_asked(question: str) -> bool:
    """Whether the question admits variants ("or an R2R variant"), not excludes them ("not the Lite subset")."""
    return any(not re.search(rf"\b(?:no|{NEGATION})\b[^,;:.?()]{{0,30}}$",
                             question[:m.start()], re.IGNORECASE) for m in VARIANTS_ASKED.finditer(question))


def meets_condition(name: str, paper: Paper, question: str, names: Sequence[str] = (),
                    acronyms: Mapping[str, str] | None = None, acronym_of: Mapping[str, str] | None = None) -> bool:
    """Whether the paper mentions the condition: the name itself, another name the question glosses it with
    ("Generative Flow Networks (GFlowNets)"), a variant of it ("WebArena-Lite") that the question names too
    ("… or its Lite subset"), any variant when the question admits them ("on R2R (or an R2R variant)"), a
    name the question offers instead of it ("CLIP or ViT"), or, for an acronym, the words the papers spell it
    out with (`PaperTable.acronyms`: "state-of-the-art" for SOTA), and for words the papers shorten, the acronym
    (`PaperTable.acronym_of`: BBH for "BIG-Bench Hard")."""
    text = f"{paper.title}\n{paper.abstract}"
    named = set(re.findall(r"\b[A-Z]\w*", question)) - set(re.findall(NEGATED_WORD, question))
    words = (acronyms or {}).get(re.sub(r"(?<=[A-Z])s$", "", name))
    short = shortened(name, acronym_of or {})
    return (mentions_form(name, text) or any(mentions(f"{name}-{word}", text) for word in named)
            or (short is not None and mentions_form(short, text))
            or (words is not None and re.search(rf"(?<!\w){re.escape(words)}", spelled(text)) is not None)
            or (variants_asked(question) and mentions_variant(name, text))
            or any(mentions_form(other, text) for other in glossed(name, names, question)
                   + alternatives(name, question, names)))


def answer_fact(question: Question, scorer: Scorer, subject: Candidate | None, threshold: float,
                max_sentences: int) -> Draft:
    scored = scorer.for_question(subject.paper.paper_id if subject else None)
    # "Its success rate on RxR": the answer comes from a paper that mentions every condition of the question,
    # never from another paper's figures for something else.
    asking = folded(question.text)
    conditions = [n for n in scorer.names if is_condition(n, asking)]
    # "How much faster is LServe than sglang?": a word that is neither English nor used by any indexed paper, where
    # a condition stands, is a name no paper mentions (typed in lower case, so not read as a name).
    conditions += [w for w in unknown_words(question.text, scorer.table.vocabulary)
                   if w not in english_words() and is_condition(w, asking)
                   and not any(mentions(w, n) for n in conditions)]
    if question.wants_quantity:
        # "What accuracy does GPT-4o get on RewardBench 2?": a figure asked of a model or version named with its
        # number is that one's; a paper that never names it reports another's.
        conditions += [n for n in scorer.names if re.search(r"\d", n) and n not in conditions
                       and not is_aside(n, asking)]
    meets = [s for s in scored if all(meets_condition(n, s.candidate.paper, question.text, scorer.names,
                                                      scorer.table.acronyms, scorer.table.acronym_of)
                                       for n in conditions)]
    # "The 7-billion-parameter version": a model size the question states is a condition too.
    sizes = stated_sizes(question.text)
    if sizes and meets and meets[0].score >= threshold:
        missing_sizes = sizes - stated_sizes(f"{meets[0].candidate.paper.title} {meets[0].candidate.paper.abstract}")
        if missing_sizes:
            return abstention(scorer.candidates, f"“{meets[0].candidate.paper.title}” mentions no "
                              f"{', '.join(sorted(missing_sizes))} model.")
    if conditions and scored and scored[0].score >= threshold and (not meets or meets[0].score < threshold):
        where = f"“{subject.paper.title}” does not mention" if subject else "None of them mentions"
        return abstention(scorer.candidates, f"{where} {', '.join(conditions)} for this.")
    scored = meets
    best = scored[0] if scored else None
    if best is None or best.score < threshold:
        return abstention(scorer.candidates)
    if subject is None and question.previous_question is None:  # a follow-up's few words cover little of any paper
        weight = scorer.weights.paper_coverage_weight
        best = max((s for s in scored if s.score >= threshold),
                   key=lambda s: s.score + weight * scorer.paper_coverage(s.candidate))
    composer = Composer(scorer.hits)
    parts = question.parts
    if len(parts) > 1 or parts[0].wants_quantity or scorer.names:
        sentences, missing = covering_sentences(scorer, best.candidate, threshold, max_sentences)
        if not sentences:
            what = " or ".join(f"“{p.text}”" for p in missing)
            return abstention(scorer.candidates, f"“{best.candidate.paper.title}” does not say {what}."
                              if subject or len(parts) == 1 else None)
    else:
        sentences, missing = [best.hit], []
    if len(sentences) == 1 and not missing:
        sentences += _neighbour(scored, best, sentences[0], max_sentences,
                                scorer.weights.second_sentence_relative_cutoff)
    sentences += completing(scorer, best.candidate, sentences, max_sentences - len(sentences))
    if len(parts) > 1:
        # A question asking two or three things: the sentence the fitted model ranks likeliest to hold one of
        # them joins when the chosen ones leave it out, as on a comparison's side (docs/EVAL.md, twentieth pass).
        sentences += _likeliest(scorer, best.candidate, sentences, 0)
    if scorer.whole.wants_mechanism:
        sentences += method_run(scorer, best.candidate, sentences,
                                min(max_sentences, scorer.weights.sentences_per_line) - len(sentences))
    if subject is not None and (scorer.whole.wants_mechanism or any(
            DEFINITION.search(part.text.strip()) and not part.wants_quantity for part in parts)):
        # "How does ArCHer train its agents?", "What is PCB-Merging, and which parameters survive?": a part opening
        # as a definition does ("what is / was …", "how does …", "explain …") and asking no figure, of the paper
        # the question names: as for "what is X?", the fitted model's likeliest sentences on what the work is and
        # how it works, within fewer words than a definition's (the question asks more than that).
        sentences += _likeliest(scorer, best.candidate, sentences, scorer.weights.mechanism_words, describing=True)
    # A part no sentence scored high enough for may still be answered by what the answer quotes for the others
    # ("we add subtasks for 17 of the 40 tasks" for "for how many of them were subtasks added"): only a part that
    # nothing quoted holds is said to be missing (on the tuning sets, 19 of 21 such notes were on answers holding
    # every fact asked).
    missing = [part for part in missing if not _quoted_holds(scorer, part, sentences)]
    text = composer.line(best.candidate, sentences, _focus(parts), figures=question.wants_quantity)
    if missing:
        text += "\n" + MISSING_PARTS.format(" or ".join(f"“{p.text}”" for p in missing))
    return Draft(text, composer.citations, False, [], [p.text for p in missing])


def _quoted_holds(scorer: Scorer, part: Part, sentences: list[SentenceHit]) -> bool:
    """Whether the quoted sentences hold what the part asks: for a figure, a figure the question does not state
    within five words of one of the part's own words (not its names); otherwise `quoted_part_coverage` of the
    part's weighted words."""
    if not part.wants_quantity:
        return scorer.coverage(part.text, " ".join(h.text for h in sentences)) >= scorer.weights.quoted_part_coverage
    own = set(terms(part.text)) - set(terms(" ".join(scorer.names)))
    stated = set(FIGURE_TOKEN.findall(scorer.question.text))
    for hit in sentences:
        for match in FIGURE_TOKEN.finditer(hit.text):
            if match.group(1) not in stated and own & words_beside(hit.text, match.start(), match.end(),
                                                                   FIGURE_NEIGHBOURHOOD, FIGURE_NEIGHBOURHOOD):
                return True
    return False


def spelling_of(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], name: str) -> list[SentenceHit]:
    """The sentence where the paper spells out a short name the question uses ("Model Selection with Aptitude
    Test (Model-SAT)"), when no chosen sentence does: it says what the name stands for, though the short name's
    own sentences are nearer the question."""
    if any(spelled_out(name, h.text) for h in chosen):
        return []
    hits = sorted((h for h in scorer.hits if h.paper_id == candidate.paper.paper_id), key=lambda h: h.number)
    return [h for h in hits if spelled_out(name, h.text)][:1]


def stated_sizes(text: str) -> set[str]:
    """Model sizes in the text, normalised ("7-billion-parameter", "7B" and "7 billion" are all "7B")."""
    return {f"{m.group(1)}{'B' if (m.group(2) or m.group(3)).lower().startswith('b') else 'M'}"
            for m in STATED_SIZE.finditer(text)}


def uncovered_terms(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit]) -> set[str]:
    """The asking words of the question that neither the chosen sentences, the paper's title (save the thing
    asked for) nor a name of the question holds: what the answer has not yet addressed."""
    held = set(terms(" ".join([*scorer.names, *(h.text for h in chosen)])))
    # The title holding "reward" does not say which reward the question asks for.
    held |= set(terms(candidate.paper.title)) - scorer.asked_things
    return scorer.asked - held


def completing(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], room: int) -> list[SentenceHit]:
    """Sentences of the paper that hold what the question asks and the chosen ones do not ("… and what does
    it optimise?"), most telling first, while they add enough of it and score near the best."""
    scored = scorer.for_question(candidate.paper.paper_id)
    if not scored:
        return []
    floor = scorer.weights.residual_score_share * scored[0].score
    # The thing asked for ("what reward signals …") counts as much as the question's rarest word.
    most = max((scorer.weight(t) for t in scorer.asked), default=0.0)
    weight = {t: most if t in scorer.asked_things else scorer.weight(t) for t in scorer.asked}
    total = sum(weight.values())
    added: list[SentenceHit] = []
    while len(added) < room:
        open_terms = uncovered_terms(scorer, candidate, chosen + added)
        gains = [(sum(weight[t] for t in open_terms & set(terms(s.hit.text))) / (total or 1.0), s)
                 for s in scored if s.hit not in chosen + added and s.score >= floor and not URL.search(s.hit.text)
                 and not (scorer.sets_problem(s.hit) and not MEASUREMENT.search(s.hit.text))]
        gain, best = max(gains, key=lambda g: (g[0], g[1].score), default=(0.0, None))
        if best is None or gain < scorer.weights.residual_min_gain:
            break
        added.append(best.hit)
    return added


def _neighbour(scored: list[ScoredSentence], best: ScoredSentence, chosen: SentenceHit,
               max_sentences: int, cutoff: float) -> list[SentenceHit]:
    """A neighbouring sentence of the same paper that scores nearly as well may complete the answer."""
    for item in scored:
        if (max_sentences > 1 and item.hit.paper_id == chosen.paper_id and abs(item.hit.number - chosen.number) == 1
                and item.score >= cutoff * best.score):
            return [item.hit]
    return []


def list_conditions(question: Question, names: list[str], table: PaperTable, first: Paper | None,
                    rare_share: float) -> list[str]:
    """"Which papers evaluate on Mind2Web?", "the MATH-500 results across the collection", "which papers use
    Minecraft as a testbed?": names a listed paper must mention. A name after "on", "than"…; a specific name (a
    version, a benchmark, one the corpus lacks); or a name few papers use (at most `rare_share` of them) that the
    first paper found mentions. A name the first paper lacks describes the topic instead ("the algorithm
    popularized by DeepSeek"), and an aside (`is_aside`: "soft prompts for CLIP or ViT") is not needed."""
    text = folded(question.text)
    rare = np.log1p(1 / rare_share)

    def is_rare(name: str) -> bool:
        return (first is not None and mentions_form(name, f"{first.title}\n{first.abstract}")
                and max((table.idf.get(t, table.max_idf) for t in terms(name)), default=0.0) >= rare)

    return [n for n in names if is_condition(n, text)
            or ((is_specific(n, table.vocabulary) or is_rare(n)) and not is_aside(n, text))]


def is_aside(name: str, text: str) -> bool:
    """Whether the name is one side of an "or" ("Monte Carlo or best-first tree search", "R2R or Habitat") or
    stands in brackets ("R2R (including its Habitat version)"): no condition every listed paper must meet."""
    name = re.escape(folded(name))
    return re.search(rf"{name}(?:\s+[\w-]+)?\s+or\b|\bor\s+(?:[\w-]+\s+)?{name}|\([^()]*{name}[^()]*\)",
                     text, re.IGNORECASE) is not None


EACH = re.compile(r"\beach\b", re.IGNORECASE)
# "of those three", "among these papers": the words pointing at the previous answer's papers, which a paper's
# text need not hold.
PREVIOUS_PAPERS = re.compile(r"\b(?:of|among|from)\s+(?:those|these|them)(?:\s+(?:two|three|four|five|six|papers?|"
                             r"works?|methods?|studies|ones?))*\b", re.IGNORECASE)


def best_on_topic(scorer: Scorer) -> dict[str, ScoredSentence]:
    """Each paper's best sentence for the question's topic (no bonus for figures), best papers first: what
    decides which papers a list or a topic ranking takes."""
    best: dict[str, ScoredSentence] = {}
    for item in scorer.for_question(wants_quantity=False):
        best.setdefault(item.hit.paper_id, item)
    return best


def answer_list(question: Question, scorer: Scorer, evidence: Evidence, threshold: float) -> Draft:
    """Every paper whose evidence covers the question, one line each, leading with the facts asked. Which
    papers qualify is decided on the topic (no bonus for figures); papers that give the figure asked for come
    first, and what each line quotes covers every part it can."""
    best_per_paper = best_on_topic(scorer)
    top = max((s.score for s in best_per_paper.values()), default=0.0)
    restricted = question.restrict_to_previous and evidence.previous is not None
    if top < threshold:
        return _none_of_previous(evidence.previous) if restricted else abstention(scorer.candidates)
    first = scorer.candidates[0].paper if scorer.candidates else None
    conditions = list_conditions(question, scorer.names, scorer.table, first, scorer.weights.rare_name_share)
    # With such a condition, mentioning it is what qualifies a paper (with the topic coverage below), not its score.
    cutoff = 0.0 if conditions else max(threshold, scorer.weights.several_relative_cutoff * top)
    texts = {paper_id: f"{item.candidate.paper.title} {item.candidate.paper.abstract}"
             for paper_id, item in best_per_paper.items()}
    # "Which of those three train their agents with RL?", of three agent papers: a word every one of them
    # holds ("agents") does not tell them apart; the rest of the question does.
    shared = frozenset.intersection(*(frozenset(terms(t)) for t in texts.values())) \
        if restricted and len(texts) >= 2 else frozenset()
    asked = PREVIOUS_PAPERS.sub(" ", question.text) if restricted else question.text
    coverage = {paper_id: scorer.coverage(asked, text, shared) if set(terms(asked)) - shared else 1.0
                for paper_id, text in texts.items()}
    top_coverage = max(coverage.values(), default=0.0)
    lead = _clear_lead(coverage, best_per_paper, scorer.weights) if restricted else None
    qualifying = []
    for paper_id, item in best_per_paper.items():
        paper = item.candidate.paper
        # A paper whose abstract spreads the topic over several sentences covers the question about as well as
        # the best-covering one, though no single sentence of it scores near the best.
        spread = (coverage[paper_id] >= scorer.weights.list_relative_coverage * top_coverage
                  and item.score >= scorer.weights.list_spread_cutoff * top)
        if item.score < cutoff and not spread:
            continue
        if not all(meets_condition(n, paper, question.text, scorer.names, scorer.table.acronyms,
                                   scorer.table.acronym_of) for n in conditions):
            continue
        # "Which of those is training-free?": the few words asked must hold for the paper itself.
        needed = scorer.weights.follow_up_coverage if restricted else scorer.weights.list_topic_coverage
        if coverage[paper_id] < needed and paper_id != lead:
            continue
        sentences, missing = covering_sentences(scorer, item.candidate, threshold, scorer.weights.sentences_per_line)
        if missing and sentences:
            # "… and what is each change meant to achieve?": a part whose own words no sentence holds is
            # answered, as far as the paper allows, by its next-best sentence for the whole question.
            floor = scorer.weights.part_threshold_share * threshold
            others = [s for s in scorer.for_question(paper_id) if s.hit not in sentences
                      and s.score >= floor and not URL.search(s.hit.text)]
            for part in missing:  # of the kind the part asks for, where the paper has one ("what benefit": a result)
                others = _of_kind(scorer, others, part)
            sentences += [s.hit for s in others][:1]
        answered = not any(p.wants_quantity for p in missing)
        figures = [h for h in sentences if has_figure(h.text, "how large", question.text)]
        if answered and figures and any(p.wants_quantity for p in question.parts):
            sentences = figures  # lead with the figure asked for: the topic is why the paper is listed at all
        # "Which papers test agents on WebShop?": a paper listed for the condition it meets quotes where it does.
        sentences += _meeting(scorer, item.candidate, sentences, conditions, question.wants_quantity)
        # As in a comparison, a line says what the work does: the problem its abstract sets out first restates
        # the question's topic ("… can be merged into a single model") and is quoted only when nothing else is.
        sentences = [h for h in sentences if not scorer.sets_problem(h)] or sentences or [item.hit]
        if any(EACH.search(p.text) and not (p.wants_quantity or p.wants_names) for p in question.parts[1:]) \
                and not any(reports_result(h.text) for h in sentences):
            # "… and what does each contribute?": what a paper did is its work and what the work achieved.
            results = [s.hit for s in scorer.for_question(paper_id) if reports_result(s.hit.text)
                       and not URL.search(s.hit.text)]
            sentences += results[:1]
        sentences = _naming(scorer, item.candidate, sentences) + sentences
        sentences = sentences[:scorer.weights.sentences_per_line]
        # As for a comparison's side: what a writer asks of each listed work ("on what tasks", "what is
        # distinctive") is often in a sentence the topic's words do not reach (docs/EVAL.md, fourteenth pass).
        sentences += _likeliest(scorer, item.candidate, sentences, scorer.weights.line_words)
        qualifying.append((not answered, -item.score, item, sentences))
    composer = Composer(scorer.hits)
    lines = [composer.line(item.candidate, sentences, _focus(question.parts), bullet=True,
                           figures=question.wants_quantity)
             for _, _, item, sentences in sorted(qualifying, key=lambda q: q[:2])[:scorer.weights.max_lines]]
    if not lines:
        return _none_of_previous(evidence.previous) if restricted else abstention(scorer.candidates)
    return Draft("\n".join(lines), composer.citations, False, [])


def _clear_lead(coverage: dict[str, float], best: dict[str, ScoredSentence], weights: ComposerSettings) -> str | None:
    """Of the previous answer's papers, the one a "which of those …" follow-up picks out though it holds fewer of
    the follow-up's words than `follow_up_coverage` asks ("tried on a physical robot" of a paper "validated on a
    real robot arm"): it holds `follow_up_lead_coverage` of them, `follow_up_lead_ratio` times as many as any
    other, and has the best sentence for the question of them all. Choosing among a few papers is a comparison."""
    if len(coverage) < 2:
        return None
    ranked = sorted(coverage, key=coverage.get, reverse=True)
    lead, runner_up = ranked[0], ranked[1]
    if coverage[lead] < weights.follow_up_lead_coverage \
            or coverage[lead] < weights.follow_up_lead_ratio * coverage[runner_up] \
            or best[lead].score < max(item.score for item in best.values()):
        return None
    return lead


def _meeting(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], conditions: list[str],
             figures: bool) -> list[SentenceHit]:
    """For each condition of a list that no chosen sentence mentions, the paper's best sentence that does (one
    with a figure first, when the question asks for one)."""
    added: list[SentenceHit] = []
    for name in conditions:
        if any(mentions_form(name, h.text) for h in chosen + added):
            continue
        naming = [s.hit for s in scorer.for_question(candidate.paper.paper_id) if mentions_form(name, s.hit.text)]
        if figures:
            naming.sort(key=lambda h: not has_figure(h.text, "how large", scorer.question.text))
        added += naming[:1]
    return added


def _naming(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit]) -> list[SentenceHit]:
    """The sentence that names the paper's work ("… introduces PCB-Merging (Parameter Competition Balancing)"),
    when the title does not lead with the name and no chosen sentence introduces it: a list says what each
    listed work is called."""
    # A title's lead names the work when it is short ("LServe: …"); "When to Act, When to Wait: …" is a phrase.
    lead = title_lead(candidate.paper.title)
    if (lead and len(lead.split()) <= NAME_WORDS) or any(scorer.introduces_work(h) for h in chosen):
        return []
    naming = [s.hit for s in scorer.for_question(candidate.paper.paper_id, wants_quantity=False)
              if scorer.introduces_work(s.hit)]
    return naming[:1]


LOCATOR = re.compile(r"\b(?:in|from)\s+(?:the|that|this|a)\s+(?:[\w'‘’\"“”-]+\s+){0,6}?(?:paper|work|study|article|"
                     r"preprint)\b[^?.]*", re.IGNORECASE)


def definition_subject(question: Question, works: dict[str, Candidate | None]) -> tuple[str, Candidate] | None:
    """(name, paper) when the question asks what a named work is, and little else."""
    if not question.defines:
        return None
    asking = " ".join(asking_sentences(question.text)[1])
    # "What is LOOP in the paper on interactive agents (AppWorld)?": a name where the question says which paper
    # is not the one asked about.
    unlocated = LOCATOR.sub(" ", folded(asking))
    for name, candidate in sorted(works.items(), key=lambda item: -len(item[0])):
        if is_condition(name, folded(question.text)):
            continue  # "How does X do on Mind2Web?" is not about Mind2Web
        if not mentions(name, unlocated) and len(works) > 1:
            continue  # "What is it?" is about the one work named before; "How do A and B differ?" defines neither
        if candidate is not None and len(terms(_rest_of(name, asking))) <= DEFINITION_REST_WORDS:
            return name, candidate
    return None


def asks_what_only(question: Question, name: str) -> bool:
    """Whether the question asks what the name is and little else ("What is DPO?", not "What is the title of the
    LLM paper that …")."""
    asking = " ".join(asking_sentences(question.text)[1])
    return question.defines and mentions(name, asking) and len(terms(_rest_of(name, asking))) <= DEFINITION_REST_WORDS


def _rest_of(name: str, asking: str) -> str:
    """The asking words besides the name; "What is LOOP in the work on RL for long-horizon agents?": the clause
    says where X is, not what else to answer."""
    return LOCATOR.sub(" ", re.sub(re.escape(folded(name)), " ", folded(asking), flags=re.IGNORECASE))


def answer_definition(question: Question, scorer: Scorer, subject: tuple[str, Candidate], threshold: float) -> Draft:
    """The sentence that introduces the named work (where its paper says what it is), not its results."""
    name, candidate = subject
    in_title = mentions(name, candidate.paper.title)
    scored = scorer.for_question(candidate.paper.paper_id)
    # Where an abstract first names a work is where it says what the work is.
    first_named = min((s.hit.number for s in scored if mentions_form(name, s.hit.text)), default=None)
    best = None
    for item in scored:
        text = item.hit.text
        named = mentions_form(name, text)  # "we propose Stepwise ORMs (SORMs)" names SORM
        # "We propose X", "… (X)", a sentence opening with "X is a …", or "X, a …" / "X: a …" anywhere.
        escaped = re.escape(folded(name))
        introduces = INTRODUCTION.search(text) or spelled_out(name, text) or re.match(
            r"\W*(?:the\s+)?" + escaped + r"[)\"”]?(?:,| is| are| was)\s+(?:a|an|the)\b", folded(text),
            re.IGNORECASE) or appositive(name, text)
        if not named and not (in_title and introduces):
            continue
        score = item.hit.similarity + (scorer.weights.introduction_bonus if introduces else 0.0)
        score += scorer.weights.first_mention_bonus if item.hit.number == first_named and not in_title else 0.0
        score -= scorer.weights.measurement_bonus if MEASUREMENT.search(text) or URL.search(text) else 0.0
        score -= scorer.weights.introduction_bonus if len(text.split()) < SHORT_SENTENCE_WORDS else 0.0
        score -= scorer.weights.position_penalty * item.hit.number
        if best is None or score > best[0]:
            best = (score, item)
    if best is None:
        return answer_fact(question, scorer, candidate, threshold, 1)
    chosen = [best[1].hit]
    # The sentence after the introduction usually says how the work does it ("It works by …").
    following = [h for h in scorer.hits if h.paper_id == chosen[0].paper_id and h.number == chosen[0].number + 1]
    if following and not any(p.search(following[0].text) for p in (MEASUREMENT, RESULT, URL)) \
            and (mentions(name, following[0].text) or DESCRIBES.match(following[0].text)
                 or set(question_names(chosen[0].text)) & set(question_names(following[0].text))
                 or set(terms(" ".join(following[0].text.split()[:SUBJECT_WORDS]))) & set(terms(chosen[0].text))):
        chosen += following
    if not in_title:
        chosen += spelling_of(scorer, candidate, chosen, name)
    chosen += typed_answers(scorer, candidate, chosen, scorer.weights.sentences_per_line - len(chosen))
    chosen += completing(scorer, candidate, chosen, scorer.weights.sentences_per_line - len(chosen))
    # Writers of "what is X?" want two or three things about X, most of them in sentences near the introduction
    # that say how X works: the fitted model's likeliest such sentences join it, as on a list's line.
    chosen += _likeliest(scorer, candidate, chosen, scorer.weights.line_words, describing=True)
    composer = Composer(scorer.hits)
    return Draft(composer.line(candidate, chosen, []), composer.citations, False, [])


def answer_generic(scorer: Scorer, name: str, threshold: float) -> Draft:
    """"What is DPO?" where many papers use DPO and none introduces it: the sentences of those papers that say
    what it is (spelling it out, "X is a …", "X, a …"), not what it scored; one per paper, the two best."""
    by_paper: dict[str, tuple[float, ScoredSentence]] = {}
    for item in scorer.for_question():
        text = item.hit.text
        if not mentions(name, text) or URL.search(text):
            continue
        says = spelled_out(name, text) or appositive(name, text) or re.search(
            rf"(?<![\w-]){re.escape(unmarked(name))}[)\"”]?\s+(?:is|are|has become|has emerged as|refers to)\b", unmarked(text))
        if not says:
            continue
        score = item.score - (scorer.weights.measurement_bonus if MEASUREMENT.search(text) else 0.0)
        if item.hit.paper_id not in by_paper or score > by_paper[item.hit.paper_id][0]:
            by_paper[item.hit.paper_id] = (score, item)
    best = sorted(by_paper.values(), key=lambda pair: -pair[0])[:GENERIC_SENTENCES]
    if not best or best[0][1].score < threshold:
        return abstention(scorer.candidates)
    composer = Composer(scorer.hits)
    lines = [composer.line(item.candidate, [item.hit], [], bullet=len(best) > 1) for _, item in best]
    return Draft("\n".join(lines), composer.citations, False, [])


def method_run(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], room: int) -> list[SentenceHit]:
    """"How does X work?": the sentences right after the chosen ones, up to where the abstract turns to
    experiments and results (an abstract says what a work is, then how it works, then what it found)."""
    last = max(c.number for c in chosen)
    following = sorted((h for h in scorer.hits if h.paper_id == candidate.paper.paper_id and h.number > last),
                       key=lambda h: h.number)
    run: list[SentenceHit] = []
    for hit in following:
        if len(run) >= room or hit.number != last + 1 + len(run) \
                or any(p.search(hit.text) for p in (MEASUREMENT, RESULT, URL, REPORTING, EXPERIMENTS)):
            break
        run.append(hit)
    return run


def typed_answers(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], room: int) -> list[SentenceHit]:
    """For each part asking how the work works or which things, the paper's best sentence of that kind (its
    subject the work; names the question lacks) when the chosen sentences hold none."""
    added: list[SentenceHit] = []
    for index, part in enumerate(scorer.question.parts):
        for kind in scorer.kinds(part):
            if len(added) >= room or any(kind(h, candidate) for h in chosen + added):
                continue
            best = next((s.hit for s in scorer.for_part(index, candidate.paper.paper_id) if kind(s.hit, candidate)
                         and not URL.search(s.hit.text)), None)
            if best is not None:
                added.append(best)
    return added


def appositive(name: str, text: str) -> bool:
    """"… via Hogwild! Inference: a parallel inference engine …", "X, an agent that …": the text says what the
    name is right after it (not "In X, an optimizer …", where the name is a setting)."""
    for match in re.finditer(r"(?<![\w-])" + re.escape(unmarked(name)) + r"[)\"”]?[,:]\s+(?:a|an)\b", unmarked(text),
                             re.IGNORECASE):
        before = unmarked(text)[:match.start()].split()
        if not before or before[-1].lower() not in PREPOSITIONS:
            return True
    return False


def introduces_name(name: str, text: str) -> bool:
    """Whether the sentence says what the name is: spelled out, introduced ("we propose X"), "X, a …", "X is
    a …"."""
    return (spelled_out(name, text) or appositive(name, text) or introduced_as(name, text)
            or re.search(r"(?<![\w-])" + re.escape(unmarked(name)) + r"[)\"”]?\s+(?:is|are)\s+(?:a|an)\b", unmarked(text),
                         re.IGNORECASE) is not None)


def spelled_out(name: str, text: str) -> bool:
    """"Optimization with Trace Oracle (OPTO)", "MASH (Modeling Abstention …)": the text spells the name out."""
    escaped = re.escape(unmarked(name))
    return re.search(rf"[A-Z][\w-]*(?:\s+[\w-]+){{1,8}}\s+\({escaped}\)|(?<![\w-]){escaped}\s+\([A-Z]", unmarked(text)) is not None


def side_by_side(question: Question, works: dict[str, Candidate | None], described: list[str] = ()) -> list[str]:
    """The named works the question sets side by side: two names joined by and/or/vs/"compared with", or every
    named work when a comparing word ("differ", "compare") is used. Only works named in their paper's title, or
    absent from the corpus, count: a model or benchmark an abstract mentions is not a work being compared. A
    work the question describes beside a named one (`described`) counts too."""
    text = folded(question.text)
    eligible = [n for n, c in works.items() if (c is None or names_work(n, c) or n in described)
                and not is_condition(n, text)]
    sides: list[str] = []
    positions = sorted((text.find(n), n) for n in eligible if text.find(n) >= 0)
    for (a, first), (b, second) in zip(positions, positions[1:]):
        if JOINED.fullmatch(text[a + len(first):b]):
            sides += [n for n in (first, second) if n not in sides]
    if not sides and question.compares:
        sides = eligible
        if len(sides) < 2 and re.match(r"\W*compare\b", text, re.IGNORECASE):
            # "Compare how the top model fared on MOAT with …": in an imperative comparison a titled work is a side
            # though "on" precedes it ("On WebArena, how does A compare with B" keeps WebArena a condition).
            titled = [n for n, c in works.items() if c is not None and mentions(n, c.paper.title)]
            sides = titled if len({works[n].paper.paper_id for n in titled}) == 2 else sides
    if not sides and len(eligible) == 2 and any(PLURAL_REFERENCE.search(p.text) and not any(
            mentions(n, p.text) for n in eligible) for p in question.parts):
        # "Put A's best agent next to B's: what success rates do they report?": two titled works, then an ask
        # of "they" that names neither, asks it of both.
        sides = eligible
    if not sides:
        # "What reward does A add, and what does B add?": each part asks about a work of its own.
        own = [named[0] for part in question.parts
               if len(named := [n for n in eligible if mentions(n, part.text)]) == 1]
        sides = own if len(own) >= 2 and len(set(own)) == len(own) else []
    distinct = {works[n].paper.paper_id if works[n] else n for n in sides}
    present = [n for n in sides if works[n] is not None]
    return sides if len(distinct) >= 2 and present else []


# A title of fewer content words than this ("Reward Models") says too little to pick out one paper.
TITLE_WORDS = 4
# "what success rates do they report": an ask of more than one work.
PLURAL_REFERENCE = re.compile(r"\b(?:they|their|them|each|both)\b", re.IGNORECASE)
# A name of the question that one of this many top papers uses keeps the question on the papers' topic.
OFF_TOPIC_NAME_PAPERS = 3
# "What is X?" asks about X when at most this many words of it are not X's.
DEFINITION_REST_WORDS = 4
# "What is DPO?" answered from the papers that use it: this many of their sentences, from as many papers.
GENERIC_SENTENCES = 2
# "the step-level Q-value model paper", "the best-first tree search method for LM agents": a work described by
# what it does, headed by a word for a work.
WORK_NOUN = re.compile(r"\b(?:paper|work|study|survey|method|approach|model|system|framework|technique|algorithm|"
                       r"benchmark|dataset|agent)s?\b", re.IGNORECASE)
DESCRIPTION = r"((?:the|a|an)\s+[^,;:?!()\"“”—–]{3,90}?)"


def described_beside(name: str, text: str) -> str | None:
    """The description of a second work that the question joins to a named one ("Compare Agent Q and the
    step-level Q-value model paper", "how do the best-first tree search method for LM agents and WebPilot
    compare"), when it reads as a work of its own: a word for a work and at least two words of content. After
    the name it runs to the first place where it so reads ("LIMA vs the paper on balancing pre-training and
    instruction tuning — …", not "the paper")."""
    escaped = re.escape(folded(name))
    joiner = r"\s+(?:and|or|vs\.?|versus|with|to|against|(?:\w+\s+)?compared?\s+(?:with|to|against))\s+"
    ends = r"(?=\s*(?:[,;:?!—–]|$|\s(?:compare|compares|differ|differs|do|does|did|is|are|each|in|on)\b))"
    text = folded(text)
    gloss = r"(?:\s*\([^()]{0,40}\))?"  # "Multi-Agent Collaboration Mechanisms (the survey) vs. the … study"
    if joined := re.search(rf"(?<![\w-]){escaped}(?![\w-]){gloss}{joiner}(?=(?:the|a|an)\s)", text, re.IGNORECASE):
        rest = text[joined.end():]
        for end in re.finditer(ends, rest, re.IGNORECASE):
            if re.fullmatch(DESCRIPTION, rest[:end.start()], re.IGNORECASE) and described(rest[:end.start()]):
                return rest[:end.start()]
    match = re.search(rf"{DESCRIPTION}{joiner}['‘\"“]?(?:(?:the|a|an)\s+)?{escaped}(?![\w-])", text, re.IGNORECASE)
    return match.group(1) if match and described(match.group(1)) else None


def phrases_beside(name: str, text: str) -> list[list[str]]:
    """The words set against a named work, up to the nearest punctuation ("Context-aware preference modeling vs.
    FLR: …", "glider vs model-SAT", "restmcts* and alphamath both use MCTS"): for each side of the name, the phrases
    that may be the other work's title words, longest first: the whole run, then fewer of its words, keeping those
    nearest the joiner ("alphamath both use MCTS", …, "alphamath"), so the last is the one word all of them hold."""
    escaped = re.escape(folded(name))
    joiner = r"\s+(?:and|or|vs\.?|versus|with|against|(?:\w+\s+)?compared?\s+(?:with|to|against))\s+"
    phrase = r"([\w'*-]+(?:\s+[\w'*-]+){0,7})"
    stop = r"\s*(?:[:;,.?!—–)]|\s-\s|$)"
    text = folded(text)
    before = re.search(rf"(?:^|[:;,.?!—–(]\s*|\s-\s){phrase}{joiner}['‘\"“]?{escaped}(?![\w-])", text, re.IGNORECASE)
    after = re.search(rf"(?<![\w-]){escaped}['’\"”]?{joiner}{phrase}{stop}", text, re.IGNORECASE)
    runs = []
    if before:
        words = before.group(1).split()
        runs.append([" ".join(words[-n:]) for n in range(len(words), 0, -1)])
    if after:
        words = after.group(1).split()
        runs.append([" ".join(words[:n]) for n in range(len(words), 0, -1)])
    return runs


def described(text: str) -> bool:
    """Whether a description reads as a work of its own: a word for a work and two more words of content."""
    return WORK_NOUN.search(text) is not None and len(terms(text)) >= 3


def described_pair(text: str) -> list[str]:
    """Two works the question describes, neither named ("Compare the paper asking whether small models can win
    with the work that treats scaling as a graph problem"): each description, when both read as works."""
    text = folded(text)
    for pattern in (rf"\bcompare\s+{DESCRIPTION}\s+(?:with|to|and|against)\s+{DESCRIPTION}\s*(?:[?.!]|$)",
                    rf"\bhow\s+(?:do|does)\s+{DESCRIPTION}\s+(?:and|compare\s+with)\s+{DESCRIPTION}\s+(?:differ|compare)\b"):
        match = re.search(pattern, text, re.IGNORECASE)
        if match and all(described(d) for d in match.groups()):
            return list(match.groups())
    return []


def answer_comparison(question: Question, scorer: Scorer, evidence: Evidence, sides: list[str], threshold: float,
                      max_sentences: int) -> Draft:
    """One line per named work, each from its own paper; named works not in the corpus are said to be missing."""
    scorer = scorer.comparing()
    composer = Composer(scorer.hits)
    lines, missing, seen = [], [], set()
    for name in sides:
        candidate = evidence.works[name]
        if candidate is None:
            missing.append(name)
            continue
        if candidate.paper.paper_id in seen:
            continue
        seen.add(candidate.paper.paper_id)
        # The parts that name this work (an "(a) … (b) …" question), else every part.
        # The parts about this work: those naming it, or naming no other work of the comparison.
        indices = [i for i, p in enumerate(question.parts) if mentions(name, p.text)
                   or not any(mentions(other, p.text) for other in sides if other != name)]
        per_line = scorer.weights.sentences_per_side
        sentences, _ = covering_sentences(scorer, candidate, threshold, per_line - 1, indices or None)
        sentences += completing(scorer, candidate, sentences, per_line - 1 - len(sentences))
        # What the work is comes first: the introduction, when none of the chosen sentences is one.
        profile = _profile(scorer, candidate, sentences, name)
        leading = [h for h in profile[:1] if INTRODUCTION.search(h.text)]
        sentences = leading + sentences + profile[len(leading):]
        # Before a paper introduces its work it sets out the problem: not what the work does, unless asked, or
        # unless it says what the approach the work is set against lacks ("DPO relies on paired preference data").
        introduced = scorer.introduced_at.get(candidate.paper.paper_id, 0)
        against = [n for n in scorer.names if len(sides) == 1 and not mentions(n, name) and not mentions(name, n)]
        sentences = ([h for h in sentences if h.number >= introduced or any(mentions(n, h.text) for n in against)]
                     if not scorer.asks_problem else []) or sentences
        sentences = sentences[:per_line]
        if sentences:
            # Beside them, the sentences likeliest to hold what is asked (measured: taking a full side's last place
            # instead lost a fact that place held).
            sentences += _likeliest(scorer, candidate, sentences, scorer.weights.side_words)
            lines.append(composer.line(candidate, sentences, _focus(question.parts), bullet=True,
                                       figures=question.wants_quantity))
    if not lines or (missing and question.wants_quantity and len(sides) == 2
                     and not any(EACH.search(p.text) for p in question.parts)):
        # "How much faster is A than B?" with B not indexed: a figure of A alone does not answer it ("the gains
        # each reports" asks it of each work: A's is an answer).
        return abstention(evidence.candidates, MISSING_WORKS.format(", ".join(missing)) if missing else None)
    if missing:
        lines.append(MISSING_WORKS.format(", ".join(missing)))
    return Draft("\n".join(lines), composer.citations, False, [], missing)


def _likeliest(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], words: int,
               describing: bool = False) -> list[SentenceHit]:
    """Of the paper's sentences that the fitted sentence model ranks likeliest to hold what the question asks (the
    first `likeliest_sentences`), those the chosen ones leave out: the first always, the others while the chosen
    and added sentences stay within `words`, the model finds them likely enough (`likeliest_probability`) and they
    do not set out the paper's problem. The writers of unseen comparisons and lists ask two or three facts of each
    work, and a side or line quoting the work's introduction and one result held one or two (docs/EVAL.md,
    thirteenth, fourteenth and sixteenth passes). `describing`: only sentences saying what the work is or how it
    works, none reporting a result or how it was evaluated (a definition's)."""
    ranked = [(probability, hit) for probability, hit in scorer.model_ranking(candidate.paper.paper_id)
              if not (describing and evaluates(hit.text))][:scorer.weights.likeliest_sentences]
    added: list[SentenceHit] = []
    for rank, (probability, hit) in enumerate(ranked):
        if hit in chosen or rank and (_words(chosen + added + [hit]) > words or scorer.sets_problem(hit)
                                      or probability < scorer.weights.likeliest_probability):
            continue
        added.append(hit)
    return added


def _words(sentences: list[SentenceHit]) -> int:
    return sum(len(h.text.split()) for h in sentences)


def _profile(scorer: Scorer, candidate: Candidate, chosen: list[SentenceHit], name: str) -> list[SentenceHit]:
    """What a comparison needs of each work beside what the parts asked: what it does (the sentence that
    introduces it, by name where one does), for a question on how the works work another sentence on that, and
    what it achieves (its best sentence with a figure), whichever the chosen lack."""
    scored = scorer.for_question(candidate.paper.paper_id, wants_quantity=False)
    introducing = [s.hit for s in scored if INTRODUCTION.search(s.hit.text)]
    # "We propose … (CREAM)", "we introduce … (GRPO-D)", not "We then introduce the regularization …".
    named = [h for h in chosen + introducing if INTRODUCTION.search(h.text) and scorer.introduces_work(h, [name])]
    introduction = named[0] if named else introducing[0] if introducing else None
    added = [introduction] if introduction is not None and introduction not in chosen else []
    # The sentence right after the introduction says what the work is made of ("We include 40 … tasks").
    added += [h for h in (method_run(scorer, candidate, [introduction], 1) if introduction else [])
              if h not in chosen]
    if any(p.wants_mechanism for p in scorer.question.parts):
        # "How does each do it?": a second sentence on how the work works, not its results.
        added += [s.hit for s in scored if s.hit not in chosen + added and scorer.describes_work(s.hit, candidate)][:1]
    if not any(has_figure(h.text, "how large") for h in chosen + added):
        added += [s.hit for s in scored if has_figure(s.hit.text, "how large", scorer.question.text)][:1]
    return [h for h in added if h not in chosen]


FIELD_PHRASES = {
    "authors": "lists {} [{}]", "org": "is listed under the organisation {} [{}]",
    "upvotes": "has {} on the listing [{}]", "date": "is dated {} on the listing [{}]",
}
FIELD_NAMES = {"authors": "author count", "upvotes": "upvote count", "date": "date", "org": "organisation",
               "names": "author names"}
RANKING_PHRASES = {"date": ("is the latest", "is the earliest"), "upvotes": ("has the most upvotes", "has the fewest upvotes"),
                   "authors": ("has the most authors", "has the fewest authors")}
ORDER_PHRASES = {"date": ("is the later one", "came first"), "upvotes": ("has more upvotes", "has fewer upvotes"),
                 "authors": ("has more authors", "has fewer authors")}
LOW_ORDER = re.compile(r"\b(first|earlier|earliest|older|oldest|before|fewer|fewest|less|least|lowest|shorter)\b",
                       re.IGNORECASE)


def answer_metadata(question: Question, scorer: Scorer, evidence: Evidence, threshold: float) -> Draft:
    """Every field asked, for the paper asked about, or for each of the two papers an across-paper question
    sets apart, with which of them comes first or has more."""
    candidates = scorer.candidates
    if question.ranks or question.ranks_topic:
        return answer_ranking(question, scorer, evidence, threshold)
    if len(evidence.sides) >= 2:
        papers = evidence.sides
    else:
        scored = scorer.for_question()
        subject = named_subject(question, evidence.works)
        # A named paper, or one the previous answer named ("How many authors does it have?"), is known: its
        # listing answers without any sentence matching the question.
        if subject is None and evidence.previous is None and (not scored or scored[0].score < threshold):
            return abstention(candidates)
        # The paper is the one named, else the best retrieved one: its sentences need not be the ones closest
        # to a metadata question.
        papers = [subject or candidates[0]]
    composer = Composer(scorer.hits)
    lines, gaps = [], []
    values: dict[tuple[str, str], tuple[object, int]] = {}
    for candidate in papers:
        line = _listing_line(question, candidate, composer, gaps, values)
        if line:
            lines.append(line)
    if not lines:
        return abstention(candidates, " ".join(listing_gaps(gaps)))
    if question.orders and len(papers) >= 2:
        lines += _orderings(question, papers, values)
    lines += listing_gaps(gaps)
    return Draft("\n".join(lines), composer.citations, False, [], gap_notes(gaps))


def answer_ranking(question: Question, scorer: Scorer, evidence: Evidence, threshold: float) -> Draft:
    """"Which paper has the most upvotes?": the best papers on the field, each cited to its listing, which one
    leads, and among how many listings that give the field. With a topic ("Which paper on web agents has the most
    upvotes?") the papers ranked are those the topic qualifies, as for a list."""
    field_name = question.metadata_fields[0]
    low = LOW_ORDER.search(question.text) is not None
    among = RANKED_AMONG
    if question.ranks:
        ranked, count, tied = evidence.ranked, evidence.ranked_among, evidence.ranked_tied
    else:
        best = best_on_topic(scorer)
        top = max((item.score for item in best.values()), default=0.0)
        cutoff = max(threshold, scorer.weights.several_relative_cutoff * top)
        valued = [(value, item.candidate) for item in best.values() if item.score >= cutoff
                  and (value := _sortable(item.candidate, field_name)) is not None]
        valued.sort(key=lambda pair: pair[0] if low else -pair[0])  # stable: ties keep the topic's order
        ranked, count = [c for _, c in valued[:RANKED_SHOWN]], len(valued)
        tied = sum(1 for value, _ in valued if valued and value == valued[0][0])
        among = RANKED_AMONG_TOPIC
    if not ranked:
        return abstention(scorer.candidates, RANKED_NONE.format(RANKED_FIELDS[field_name]))
    composer = Composer(scorer.hits)
    values: dict[tuple[str, str], tuple[object, int]] = {}
    lines = [_listing_line(question, candidate, composer, [], values) for candidate in ranked]
    marks = "".join(f"[{values[(c.paper.paper_id, field_name)][1]}]" for c in ranked[:tied])
    phrase = RANKING_PHRASES[field_name][1 if low else 0]
    if tied == 1:
        lines.append(f"“{ranked[0].paper.title}” {phrase} {marks}.")
    else:
        # "the fewest authors": many single-author listings tie; the answer says how many, not one of them.
        lines.append(TIED.format(tied, phrase.replace("has the", "the").replace("is the", "the"), marks))
    lines.append(among.format(f"{count} paper{'s' if count != 1 else ''}", RANKED_FIELDS[field_name]))
    return Draft("\n".join(lines), composer.citations, False, [])


def collection_size(table: PaperTable) -> Draft:
    """"How many papers are in the collection?": the index's own count and the span of its dated listings (from
    the table's date column: no paper is read)."""
    dates = table.numbers["date_number"]
    dates = dates[~np.isnan(dates)].astype(int)
    span = (COLLECTION_SPAN.format(_iso(int(dates.min())), _iso(int(dates.max())), len(table.order) - len(dates))
            if len(dates) else "")
    return Draft(COLLECTION.format(len(table.order), span), [], False, [])


def _iso(date_number: int) -> str:
    text = str(date_number)
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def answer_filtered(question: Question, scorer: Scorer, evidence: Evidence) -> Draft:
    """"Which papers were published in 2021?": the papers the filters admit, each with the listing field they
    bound (the date unless upvotes or authors are bounded), cited, and how many there are."""
    if not evidence.ranked:
        return abstention(scorer.candidates, "No paper matches the question and its filters.")
    field_name = evidence.ranked_field
    shown = replace(question, metadata_fields=[field_name])
    composer = Composer(scorer.hits)
    lines = [_listing_line(shown, c, composer, [], {}) for c in evidence.ranked]
    order = {"date": "newest", "upvotes": "most upvoted", "authors": "most authors"}[field_name]
    lines.append(FILTERED_ALL.format(evidence.ranked_among) if evidence.ranked_among == len(lines)
                 else FILTERED_SOME.format(evidence.ranked_among, len(lines), order))
    return Draft("\n".join(lines), composer.citations, False, [])


def with_listing(question: Question, draft: Draft, scorer: Scorer) -> Draft:
    """The draft, then the listing fields asked for, of the paper it answered from."""
    by_id = {c.paper.paper_id: c for c in scorer.candidates}
    candidate = by_id.get(draft.citations[0].paper_id) if draft.citations else None
    if candidate is None:
        return draft
    composer = Composer(scorer.hits)
    composer.citations = list(draft.citations)
    gaps: list[tuple[str, str]] = []
    lines = [draft.text, _listing_line(question, candidate, composer, gaps, {}), *listing_gaps(gaps)]
    return Draft("\n".join(line for line in lines if line), composer.citations, False, draft.notes,
                 draft.missing + gap_notes(gaps))


def _listing_line(question: Question, candidate: Candidate, composer: Composer, gaps: list[tuple[str, str]],
                  values: dict[tuple[str, str], tuple[object, int]]) -> str:
    """“Title” lists 5 authors [1] and has 3 upvotes on the listing [2].: each field asked that the listing
    has, cited (an organisation stands in for a missing author count); the others are added to `gaps` as
    (title, field name), and each cited value to `values` for ordering two papers."""
    facts = candidate.paper.metadata_facts()
    said = []
    for asked in question.metadata_fields:
        field_name = asked
        if asked == "names":
            # No listing names its authors: that is said, and how many there are is cited when listed.
            gaps.append((candidate.paper.title, FIELD_NAMES[asked]))
            field_name = "authors"
        if field_name == "authors" and "authors" not in facts and "org" in facts:
            field_name = "org"
        if field_name not in facts:
            if asked != "names":
                gaps.append((candidate.paper.title, FIELD_NAMES[field_name]))
            continue
        number = composer.cite(candidate, facts[field_name], field_name)
        said.append(FIELD_PHRASES[field_name].format(facts[field_name], number))
        values[(candidate.paper.paper_id, field_name)] = (_sortable(candidate, field_name), number)
    return f"“{candidate.paper.title}” " + " and ".join(said) + "." if said else ""


def listing_gaps(gaps: list[tuple[str, str]]) -> list[str]:
    """One line per paper whose listing lacks a field asked: “The listing of “T” gives no date and no upvote
    count.”"""
    missing: dict[str, list[str]] = {}
    for title, name in gaps:
        missing.setdefault(title, []).append(name)
    return [LISTING_GAPS.format(title, " and no ".join(names)) for title, names in missing.items()]


def gap_notes(gaps: list[tuple[str, str]]) -> list[str]:
    """The missing listing fields as a draft's `missing` entries: "the date of “T”"."""
    return [f"the {name} of “{title}”" for title, name in gaps]


def _sortable(candidate: Candidate, field_name: str) -> object:
    paper = candidate.paper
    return {"date": paper.date_number, "upvotes": paper.upvotes, "authors": paper.authors}.get(field_name)


def _orderings(question: Question, papers: list[Candidate], values: dict) -> list[str]:
    """"Which came first / has more upvotes": the comparison of two cited values, cited to both."""
    first, second = papers[0], papers[1]
    wants_low = LOW_ORDER.search(question.text) is not None
    lines = []
    for field_name in question.metadata_fields:
        a = values.get((first.paper.paper_id, field_name))
        b = values.get((second.paper.paper_id, field_name))
        if field_name not in ORDER_PHRASES or not a or not b or a[0] is None or b[0] is None or a[0] == b[0]:
            continue
        high, low = (first, second) if a[0] > b[0] else (second, first)
        winner, phrase = (low, ORDER_PHRASES[field_name][1]) if wants_low else (high, ORDER_PHRASES[field_name][0])
        lines.append(f"“{winner.paper.title}” {phrase} [{min(a[1], b[1])}][{max(a[1], b[1])}].")
    return lines
