"""Reading a question: validation, constraints stated in words, intent, and follow-up condensing."""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from rag.names import MONTH, respelled
from rag.text import ENUMERATOR, LONE_SURROGATE, terms
from rag.types import Filters, QuestionError, turns

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Lone UTF-16 surrogates: what Python makes of invalid UTF-8 in argv, or a JSON "\ud800"; not text.
YEAR = r"((?:19|20)\d{2})"
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
# "Which (recent) papers ...", "list works on ...", "compare A and B": the answer spans several papers.
MULTI = re.compile(
    r"\b(which|what|list|name|any|all|several|some)\s+(?:[\w-]+\s+){0,3}(papers|works|studies|methods|approaches|"
    r"ones|models|benchmarks|systems|frameworks|resources|datasets|agents|techniques|variants)\b|"
    # "What defenses … are proposed in the collection?": asked of the whole collection, so of several papers.
    r"\b(?:in|across|from|among)\s+(?:the|this|your)\s+(?:collection|corpus|index|library)\b|"
    r"\bcompare\b[^?]*\band\b|\bpapers (that|which|about|on|where|with)\b|\b(of|among) (those|these)\b|"
    r"\b(does|did) each\b|\beach (one|paper|of them)\b|\bare there\b|\bname them\b|\bacross the\b|"
    r"\b(?:any|every|each)\s+(?:[\w-]+\s+){0,2}(paper|work|study|method|model|benchmark|system|framework|agent|"
    r"dataset)\b|"
    # "Name everything that is evaluated on X": a quantifier over the whole collection asks for every paper.
    r"\b(?:everything|anything|all)\s+(?:that|which|evaluated|tested|trained|using|about|on)\b",
    re.IGNORECASE,
)
# "The paper that … ran its experiments on which benchmarks?": one paper's benchmarks, not a list of papers.
ONE_PAPER = re.compile(r"\b(?:the|this|that|a|one)\s+(?:[\w-]+\s+){0,3}?(?:paper|study|thesis|preprint)\b|\bits\b",
                       re.IGNORECASE)
LIST_OF_PAPERS = re.compile(r"\bpapers\b|\bworks\b|\bstudies\b|\b(of|among) (those|these)\b|\bare there\b|"
                            r"\bacross the\b|\bname them\b", re.IGNORECASE)
METADATA_FIELDS = {
    "org": re.compile(r"\b(which|what) (organi[sz]ation|org|lab|company|institution|group)\b|\b(organi[sz]ation|org) "
                      r"(is it|it is) listed\b|\bwho is it listed under\b", re.I),
    "authors": re.compile(r"\bhow many (authors|people|researchers)\b|\bauthor (count|list)s?\b|\bnumber of authors\b|"
                          r"\b(more|fewer|most|fewest) authors\b|\bby how many authors\b", re.I),
    # Who wrote it: the listings give author counts, never names (`Paper.metadata_facts`), so this is said.
    "names": re.compile(r"\bwho (?:wrote|authored|are (?:the|its|their) authors|were (?:the|its|their) authors|"
                        r"is (?:the|its) (?:first |lead )?author)\b|\b(?:which|whose) authors\b|\bnames? of (?:the|its) "
                        r"authors\b|\bauthors? names\b", re.I),
    "upvotes": re.compile(r"\bupvote", re.I),
    "date": re.compile(r"\bwhen (was|did|were)\b|\bwhat date\b|\b(publication|listing|release) date\b|"
                       r"\bpublished (on|when)\b|\b(which|what) (day|date|month|year)s?\b|\bdated\b|\bdates\b|\bdate listed\b|"
                       r"\b(?:its|the|their) (?:listing |publication |release )?date\b|"
                       r"\b(came|come|was|were|listed|published|released|posted|appeared) (out )?(first|earlier|later|before|after)\b|"
                       r"\bbefore or after\b|"
                       r"\b(older|newer|more recent)\b|\b(oldest|newest|earliest|latest|most recent) (paper|entry|listing|one)\b",
                       re.I),
}
# Words that ask for metadata but say nothing about which paper: left out of the search text.
METADATA_WORDING = re.compile(
    r"\b(how many|what|which|in what|when|is|was|were|does|did|do|the|paper|dated|year|date|day|month|authors?|"
    r"upvotes?|organi[sz]ation|lab|company|institution|listed|credited|have|has|published|on|for|in)\b",
    re.I,
)
# A part asks for a number when it asks "how much/many" or names a measured quantity (an accuracy, a rate, a
# speed-up, a gain...).
QUANTITY = re.compile(
    r"^\s*how (?:well|accurately)\b|"  # "how well did it do?" asks for a result; "tests how well …" does not
    r"\b(how (much|many|fast|quickly|often|large|small|big|long)|by (?:how|what)\b|(?<!\bit )(?<!\bthey )(?<!\bthat )(?<!\bwho )"
    r"(fraction|percentage|share|proportion|accurac(?:y|ies)|scores?|rates?|speed-?ups?|ratios?|improvements?|gains?|"
    r"compression|reductions?|drops?|increases?|decreases?|cost|compute|figures?|numbers|results?|latency|throughput|"
    r"percent|size))\b",
    re.I,
)
WHICH_PAPER = re.compile(r"\b(which|what) (paper|work|study|method|framework|benchmark)\b|\btitle of\b|"
                         r"\bname of the (paper|method)\b", re.IGNORECASE)
FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|but|so|then)\b|\b(those|these|them|they|their|it|its|that one|"
    r"this one|the same|the first|the second|the latter|the former)\b",
    re.IGNORECASE,
)
# "it", "its results", "the second one": the question is about a paper the previous answer named.
REFERS_TO_PREVIOUS = re.compile(r"(?<!\bof )(?<!\bamong )(?<!\bfrom )\b(those|these)\b|"
                                r"\b(it|its|they|their|them|that one|this one|the same|the first|the second|"
                                r"the third|the latter|the former|that paper|this paper|that method|this method|"
                                r"that work|the paper|the method)\b", re.IGNORECASE)
# "The second one", "the latter": which paper of the previous answer, in the order it named them (0-based; -1 the
# last).
ORDINAL = re.compile(r"\bthe (first|second|third|fourth|fifth|last)(?= (?:one|paper|work|study|method|approach|model|"
                     r"system|framework|benchmark)s?\b)|\bthe (former|latter)\b", re.IGNORECASE)
ORDINALS = {"first": 0, "former": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1, "latter": -1}
RESTRICT_TO_PREVIOUS = re.compile(r"\b(of|among|from) (those|these|them)\b|\bwhich one\b", re.IGNORECASE)


QUESTION_WORD = r"(?:how|what|which|where|when|why|who|whom|whose|whether)\b"
# Where a question asks several things: another question sentence, an enumerator "(a)", "(ii)", or "and"/"plus"
# before a new question word ("how much faster is it, and what accuracy does it keep?"). An "and" between
# nouns ("instructions and data") does not split.
PART_BREAK = re.compile(
    rf"\?\s+|;\s+|\s*{ENUMERATOR}\s*|"
    r",?\s+(?:and|plus|as well as|but|also)\s+(?=(?:also\s+)?"
    r"(?:(?:on|in|at|to|for|from|with|by|of|under|along|across|over|into|through|after|before)\s+)?(?:how|what|which|where|when|why|who|whom|whose|whether|is|are|"
    r"was|were|does|do|did|can|could|give|name|list)\b)",
    re.IGNORECASE,
)
# A sentence of the question that asks something: a question, or a request ("Give the scores.").
ASKING = re.compile(r"\?\s*$|^(?:and\s+|so\s+|also\s+)?(?:give|name|list|tell|show|compile|describe|explain|summari[sz]e|"
                    r"report|provide|state|compare|find|identify|what|which|how|who|where|when|why|is|are|does|do|did|"
                    r"can|could|please|i(?:'d| would) like|i want|i need)\b", re.IGNORECASE)
# "What is it called, how many heads …": a comma before a question word starts another ask, once the piece
# itself asks ("In the model that …, how much faster …" is one ask after a lead-in).
# ", into how many categories …", ", on which benchmark …": a preposition may lead the next ask.
COMMA_ASK = re.compile(rf",\s+(?=(?:(?:in|into|on|at|for|from|by|with|across|over|of|to|under)\s+)?{QUESTION_WORD})",
                       re.IGNORECASE)
ASKS_FIRST = re.compile(rf"(?:and\s+|so\s+|also\s+)?(?:{QUESTION_WORD}|(?:please\s+)?(?:tell me|give|list|name|report|"
                        r"state|provide)\b)", re.IGNORECASE)
# More parts than this are not separate asks but a pasted text: the first ones stand for it.
MAX_PARTS = 6
# "What does MASH stand for", "what kind of method is it", "the name of the technique": asks for an introduction.
# "What is that model called?": the answer is a name (and where the paper introduces it).
CALLED = r"\bcalled\??$|\bcalled what\b|\bname of\b"
NAMING = re.compile(CALLED + r"|\b(stand for|stands for|what kind of|what type of|what sort of|"
                    r"what (?:is|are) (?:it|they|this|these)\b|acronym)|"
                    r"^(?:so\s+|and\s+)?what(?:'s| is| are)\s+(?:\S+\s*){1,3}$|"  # a part that is only "what is X"
                    r"^(?:(?:can|could|would) you\s+(?:please\s+)?)?(?:explain|describe)\s+(?:\S+\s*){1,4}$",  # "explain X"
                    re.IGNORECASE)
# "Which benchmarks did it use?", "what are the three algorithms?": a part that asks for named things (answered by
# a sentence holding names the question does not), not for a paper, a quantity or what something is.
ASKS_NAMES = re.compile(
    r"\b(?:which|what)\s+(?:(?:are|were)\s+the\s+)?(?:(?:two|three|four|five|several|main|key|other)\s+)?"
    r"(?!(?:is|are|was|were|does|do|did|can|could|would|will|has|have|had|kind|type|sort|paper|papers|work|works|"
    r"study|studies|about|if|the|it|its|they|this|that|these|those|each|happens|makes|problem|problems|mechanism|"
    r"idea|method|approach)\b)"
    r"[a-z][\w-]*\s+(?:[a-z][\w-]*\s+){0,2}(?:does|do|did|is|are|was|were|can|could|has|have|had|it|they|each)\b|"
    r"\b(?:which|what)\s+(?:are|were)\s+(?:the|its|their)\s+(?:\w+\s+){0,2}\w+s\b",
    re.IGNORECASE)
# "How does X defend against …", "what mechanism does it rely on": a part that asks how a work works, answered
# by a sentence whose subject is the work, not by its results or its motivation.
HOW_IT_WORKS = (r"^(?:and\s+|so\s+)?(?:(?:explain|describe|tell me)\s+how\b(?!\s+(?:well|much|many|fast|often|large|long|big|small)\b)|how\s+(?:does|do|did|is|are|was|were|can)\b)"
                r"(?!\s+(?:\S+\s+){0,8}?(?:compare|fare|perform|rank|score|differ|do)\b)")
ASKS_MECHANISM = re.compile(
    HOW_IT_WORKS + r"|\b(?:mechanism|procedure|how (?:it|they) works?)\b|\bwhere\b[^?]{0,40}\bcomes? from\b|"
    r"\b(?:differ|different|differences?)\s+in\s+how\b(?!\s+(?:well|much|many|fast|often|large|long|big|small)\b)|"
    r"\bwhat\s+(?:does|do|did)\s+(?:\S+\s+){0,4}?do\b|\bhow\s+(?:does|do|did)\s+each\b",
    re.IGNORECASE)
# "What main benefit does each claim?", "what is each change meant to achieve?": a part that asks what a work
# achieved, answered by a sentence reporting a result, not by its motivation or its setup.
ASKS_OUTCOME = re.compile(r"\b(?:benefits?|advantages?|achieve|gains?|effects?|impact|outcomes?|payoff|pay off)\b",
                          re.IGNORECASE)
# "How much does it raise the success rate", "how much faster": a figure of a change, not a level.
ASKS_CHANGE = re.compile(r"\bhow much (?:\w+\s+){1,4}?(?:raise|improve|boost|increase|reduce|cut|lower|lift|speed|"
                         r"accelerate|shrink|save|gain)\b|\bhow much (?:better|faster|more|less|higher|lower|"
                         r"smaller|larger|quicker|cheaper)\b|\bby how much\b|\bby what (?:factor|margin)\b|"
                         r"\bhow (?:big|large|much|high)\s+(?:was|is|were|are)\s+(?:the|its|their)\s+(?:\w+\s+)?"
                         r"(?:jump|gain|improvement|increase|boost|drop|reduction|speed-?up|margin|lift|leap)s?\b",
                         re.IGNORECASE)
# "What are the three kinds of tasks?": how many things the part asks for.
ITEM_COUNT = re.compile(r"\b(?:which|what|the|name|list)\s+(?:(?:are|were)\s+(?:the\s+)?)?"
                        r"(two|three|four|five|six|seven|eight|2|3|4|5|6|7|8)\s+(?:[a-z][\w-]*\s+){0,2}?"
                        r"(?:[a-z][\w-]*s)\b", re.IGNORECASE)
COUNTS = {w: n for n, w in enumerate("zero one two three four five six seven eight".split())}
# "How does X decide how many rollouts …": a quantity inside a how-it-works question is not what it asks.
ASKS_HOW_IT_WORKS = re.compile(HOW_IT_WORKS, re.IGNORECASE)
# Words that only ask ("name them", "give the figures"): a part made of nothing else is no part of its own.
ASK_WORDS = frozenset(terms("give name list tell show compile report provide state each them one papers paper "
                            "figure figures number numbers score scores result results detail details"))
# "… and what does each propose?", "which method does each use?": asks whose words are all stopwords for
# retrieval, yet ask something. ("How does it work?" after "What is X" stays with the definition.)
ASKS_WITH_STOPWORDS = re.compile(r"\b(?:propos(?:e|es|ed)|use[sd]?|using|methods?|approach(?:es)?)\b", re.I)


def only_asks(piece: str) -> bool:
    """Whether the piece only asks for what other parts say ("name them", "give the figures")."""
    return set(terms(piece)) <= ASK_WORDS and not ASKS_WITH_STOPWORDS.search(piece)


# "What is X?", "What does X do?", "Explain X": the answer is what introduces X, not its results.
DEFINITION = re.compile(
    r"^(?:so\s+|and\s+)?(?:(?:what|who)(?:'s| is| are| was)\s+(?:the\s+(?:core\s+|main\s+|key\s+|basic\s+)?"
    r"(?:idea|point|purpose|goal|gist)\s+(?:of|behind)\s+)?|(?:give me\s+)?(?:an?\s+)?(?:one-line\s+|short\s+|brief\s+)?"
    r"(?:description|summary|overview)\s+of\s+|what\s+(?:does|do|did)\s+\S+(?:\s+\S+){0,3}?\s+do\b|"
    r"how\s+(?:does|do|did)\s+|(?:explain|describe)\s+|tell me (?:about|what)\s+)",
    re.IGNORECASE,
)
# Words that set two named works side by side.
COMPARISON = re.compile(r"\b(compare[sd]?|comparing|comparison|differ|differs|different|difference|differences|versus|vs\.?|"
                        r"whereas|contrast|relative to)\b", re.IGNORECASE)
# Across-paper metadata questions: "which came first", "which has more upvotes".
ORDERING = re.compile(r"\b(first|earlier|earliest|later|latest|newer|older|more recent|more|fewer|most|fewest|"
                      r"longer|shorter|before or after)\b", re.IGNORECASE)
# The listing fields papers can be ranked on or filtered by.
RANKED_FIELDS = ("upvotes", "authors", "date")
# "the most upvotes", "the fewest authors", "the oldest paper": a ranking of the collection on a listing field.
SUPERLATIVE = re.compile(r"\b(?<!at )(most|fewest|least|highest|lowest|oldest|newest|earliest|latest)\b", re.I)  # not "at least"
# The words a ranking question is made of besides the field's own (METADATA_WORDING): no topic among them.
RANKING_WORDS = frozenset(terms("most fewest least highest lowest oldest newest earliest latest recent upvoted top "
                                "entry listing listed collection one single ever overall all time number count papers "
                                "from after before since during until between"))
# "How many papers are in the collection?", "how many papers do you have?": a question about the index itself.
COLLECTION_SIZE = re.compile(r"^\W*how many (?:papers|entries|articles|works)\s+(?:are (?:there|indexed|in (?:the|this|your) "
                             r"(?:collection|corpus|index|database))|(?:do|does) (?:you|it|the (?:collection|corpus|index)) "
                             r"(?:have|hold|contain|cover)|(?:have you|has it) (?:got|indexed))\W*$", re.IGNORECASE)
# The words a question asking for the papers its filters admit is made of: no topic among them.
FILTER_WORDS = RANKING_WORDS | frozenset(terms(
    "which what list show give name all any there were was are is have has had new published posted released appeared "
    "dated listed "
    "out came come in of on with than more over least fewer less under at most authors upvotes year years month "
    "january february march april may june july august september october november december prior to "
    "jan feb mar apr jun jul aug sep sept oct nov dec"))
# Where an across-paper question separates its two papers: "A or B", "A vs B", "A and B", "does A have more … than B".
# Tried in this order; the first that yields exactly two sides wins.
SIDES = [re.compile(p, re.IGNORECASE) for p in (r",?\s+(?<!before )or\s+(?!after\b)", r"\s+(?:vs\.?|versus)\s+",
                                                r",?\s+and\s+(?=the\b)", r"\s+than\s+")]
# "What reward signals do …", "which datasets are …": the thing asked for, which the answer's quotes must name
# (a title that holds the word does not say which reward).
ASKED_THING = re.compile(r"\b(?:what|which)\s+(?!(?:is|are|was|were|do|does|did|of|kind|type|sort)\b)"
                         r"((?:[\w-]+\s+){0,2}?[\w-]+)\s+(?=(?:do|does|did|is|are|was|were|has|have|had|can|could|"
                         r"would|will|should)\b)", re.IGNORECASE)


def asked_things(text: str) -> list[str]:
    """The things a question asks for by a which/what phrase ("reward signals", "datasets")."""
    return ASKED_THING.findall(text)


# "Between A, the paper on X, and B, …, which …": two sides, each possibly with a description after a comma.
BETWEEN = re.compile(rf"\bbetween\s+(.+?),?\s+and\s+(.+?)(?:,\s*(?={QUESTION_WORD})|\?|$)", re.IGNORECASE)
# "authors and date", "date, upvotes": a listing field named bare right after another one.
FIELD_WORDS = {"date": "date", "dates": "date", "upvotes": "upvotes", "authors": "authors", "org": "org"}
JOINED_FIELD = re.compile(r"(?:\band|,|\bplus)\s+(?:the\s+|its\s+|their\s+)?(dates?|upvotes|authors|org)\b", re.I)
# A follow-up asking for a different paper than the ones already named ("Is there another paper doing this?").
ANOTHER = re.compile(r"\b(another|other|else|different)\b", re.IGNORECASE)
# "On which other benchmark did they show gains" asks where the same paper did: after a preposition, "which
# other …" is a condition, not another paper.
OTHER_CONDITION = re.compile(r"\b(?:on|in|at|to|with|for|over|against|from|than|under|across|beyond)\s+"
                             r"(?:which|what)\s+(?:other|different)\b", re.IGNORECASE)


@dataclass
class Part:
    """One thing the question asks: its own words, whether it asks for a number, and whether it asks what
    something is or is called (answered where the paper introduces it)."""

    text: str
    wants_quantity: bool
    wants_name: bool = False
    wants_names: bool = False  # asks which things (benchmarks, tasks, modules): answered by names
    wants_mechanism: bool = False  # asks how a work works: answered where the work is the subject
    items: int = 0  # "the three kinds of tasks": how many things it asks for (0: not said)
    wants_outcome: bool = False  # asks what a work achieved: answered by a sentence reporting a result
    wants_called: bool = False  # asks what a work is called: answered where the paper gives it its name
    wants_change: bool = False  # asks by how much something changed: answered by a sentence reporting a change


@dataclass
class Question:
    text: str  # the user's words, cleaned
    search_text: str  # what retrieval embeds: condensed with history for follow-ups
    filters: Filters = field(default_factory=Filters)
    wants_several: bool = False
    wants_quantity: bool = False
    wants_paper: bool = False
    metadata_fields: list[str] = field(default_factory=list)
    mixes_metadata: bool = False  # listing fields asked beside other parts (`parts` then holds the others)
    previous_question: str | None = None
    previous_answer: str | None = None
    restrict_to_previous: bool = False
    refers_to_previous: bool = False
    excludes_previous: bool = False
    ordinal: int | None = None  # "the second one": the previous answer's paper in that place (`ORDINALS`)
    parts: list[Part] = field(default_factory=list)
    defines: bool = False  # "what is X?": answered by the sentence that introduces X
    compares: bool = False  # words that set things side by side ("differ", "vs", "which is faster")
    orders: bool = False  # "which came first", "which has more upvotes": metadata across papers
    sides: list[str] = field(default_factory=list)  # the two papers an across-paper question describes
    ranks: bool = False  # "which paper has the most upvotes?": the collection ranked on a listing field
    ranks_topic: bool = False  # "which paper on web agents has the most upvotes?": the papers on a topic, ranked
    lists_filtered: bool = False  # "which papers are from 2021?": the papers the question's filters admit
    asks_size: bool = False  # "how many papers are in the collection?": about the index itself

    @property
    def from_listings(self) -> bool:
        """Answered from the index and its listings alone (its size, a ranking, the papers filters admit): no
        abstract sentence to quote, nothing for an LLM to write."""
        return self.asks_size or self.ranks or self.lists_filtered


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
            f"The question is {len(question):,} characters long; the limit is {max_chars:,}. Ask something "
            "shorter, or split it into several questions."
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
    if m := re.search(rf"\b({MONTH.pattern})\s+{YEAR}\b", text, re.I):
        # "in December 2024": that month of that year.
        month, year = MONTHS.index(m.group(1).lower()[:3]) + 1, int(m.group(2))
        found.date_from = f"{year}-{month:02d}-01"
        found.date_to = f"{year}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}"
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


def asking_sentences(text: str) -> tuple[list[str], list[str]]:
    """(every sentence, the ones that ask): statements around the asking ("I read a paper on X.") are context."""
    # "A study of safety heads: what is its algorithm called?", "RoboBrain vs TaskMatrix.AI — which one …?": the
    # lead-in before the colon or dash is a statement ("Explain ArCHer — how does it …?" asks twice).
    sentences: list[str] = []
    for piece in re.split(rf"(?<=[.?!])\s+(?=[A-Z(])|(?::|\s+(?:--?|[—–]))\s+(?={QUESTION_WORD})", text, flags=re.I):
        if sentences and re.search(r"\s[A-Z][\w-]*!$", sentences[-1]):
            sentences[-1] += f" {piece.strip()}"  # "Hogwild! Inference": a name's "!" ends no sentence
        elif piece.strip():
            sentences.append(piece.strip())
    return sentences, [s for s in sentences if ASKING.search(s)] or sentences


def item_count(text: str) -> int:
    """How many things a part asks for, when it says ("which two tasks", "the 3 modules"), at least two for
    "what are the parts …"; else 0."""
    match = ITEM_COUNT.search(text)
    if match is None:
        return 2 if re.search(r"\b(?:which|what)\s+(?:are|were)\s+the\b", text, re.IGNORECASE) else 0
    word = match.group(1).lower()
    return int(word) if word.isdigit() else COUNTS[word]


# "What do they add to get better results": the purpose clause after the ask says why, it asks nothing.
# ("what did the intervention do to accuracy" and "to Colored Objects" are no purpose: a verb follows "to").
PURPOSE = re.compile(r"(\W*(?:what|which)\s+(?:do|does|did)\s.+?)(?<!\bdo)\s+(?:in order\s+|so as\s+)?to\s+"
                     r"(?!(?:the|a|an|its|their|this|that|these|those|in|on|at|by|with|for|of)\b)(?-i:[a-z])\w*\b.*",
                     re.IGNORECASE)


def asks_quantity(part: str) -> bool:
    """Whether the part asks for a number: not how a work works, not which thing (see `heads_ask`), and not
    in a purpose clause."""
    asked = purpose.group(1) if (purpose := PURPOSE.fullmatch(part)) else part
    return heads_ask(QUANTITY, asked) and not ASKS_HOW_IT_WORKS.search(asked)


def heads_ask(pattern: re.Pattern, part: str) -> bool:
    """Whether the part asks for what the pattern matches, not for which thing: in "on which benchmark did it show
    improvements" the measurement word comes after the thing asked for."""
    found = pattern.search(part)
    names = ASKS_NAMES.search(part)
    return found is not None and (names is None or found.start() < names.end())


def comma_asks(piece: str) -> list[str]:
    """The asks a piece joins with commas ("how many tasks, what share did it solve"); a lead-in clause before
    the first ("In the work where …, how many …") stays with it."""
    asks = COMMA_ASK.split(piece)
    if len(asks) > 1 and not ASKS_FIRST.match(asks[0].strip()):
        asks = [f"{asks[0]}, {asks[1]}"] + asks[2:]
    return asks


def read_part(piece: str) -> Part:
    """What one ask of a question wants: a number (of a change), a name, names, how a work works, an outcome."""
    counts = asks_quantity(piece)
    outcome = not counts and heads_ask(ASKS_OUTCOME, piece)
    called = re.search(CALLED, piece, re.IGNORECASE) is not None
    return Part(piece, counts, bool(NAMING.search(piece)),
                wants_names=not counts and not outcome and (ASKS_NAMES.search(piece) is not None or called),
                wants_mechanism=not counts and ASKS_MECHANISM.search(piece) is not None,
                items=0 if counts else item_count(piece), wants_outcome=outcome, wants_called=called,
                wants_change=counts and ASKS_CHANGE.search(piece) is not None)


def question_parts(text: str) -> list[Part]:
    """The separate things a question asks, each with its own words; one part when it asks one thing."""
    _, asking = asking_sentences(text)
    pieces = [re.sub(r"(?:^|\s+)(?:and|or)$", "", p.strip(" ,.;:?")).strip(" ,") for s in asking
              for piece in PART_BREAK.split(s) for p in comma_asks(piece)]
    pieces = [p for p in pieces if terms(p) or ASKS_WITH_STOPWORDS.search(p)]
    if len(pieces) > 1 and not QUANTITY.search(pieces[0]) and len(terms(pieces[0])) <= 3 \
            and not re.match(r"(how|what|which|where|when|why|who|is|are|does|do|did|can|explain|describe)\b", pieces[0],
                             re.I):
        pieces = pieces[1:]  # a lead-in such as "For LServe:" before "(a) ... (b) ..." is context, not a part
    quantity = any(QUANTITY.search(p) for p in pieces if only_asks(p))
    # A vague part ("How does each change it?") keeps its own words: the answerer scores it together with the
    # whole question, which says what "it" is.
    pieces = list(dict.fromkeys(p for p in pieces if not only_asks(p)))[:MAX_PARTS]
    parts = [read_part(p) for p in pieces]
    if quantity and parts and not any(p.wants_quantity for p in parts):
        # "Which papers …? Give the scores.": each paper's figure
        parts = [replace(p, wants_quantity=True) for p in parts]
    return parts or [Part(text, bool(QUANTITY.search(text)))]


def question_sides(text: str) -> list[str]:
    """The two papers an across-paper question describes ("which came first, the paper on X or the one on Y?"),
    each in its own words; [] when it does not set two apart."""
    if between := BETWEEN.search(text):
        return [between.group(1).strip(" ,"), between.group(2).strip(" ,")]
    body = re.split(r"[:,]\s+(?=(?:the|a|an)\b)|:\s*", text, maxsplit=1)
    body = body[1] if len(body) == 2 else text
    for separator in SIDES:
        sides = [s.strip(" ,.?") for s in separator.split(body) if s.strip(" ,.?")]
        if len(sides) == 2:
            return sides
    return []


def analyse(question: object, *, max_chars: int, history: list | None = None,
            spellings: Mapping[str, str] | None = None) -> Question:
    """What the question asks. `spellings` (`PaperTable.lead_spellings`) respells the names a user typed
    otherwise than their titles ("webrl" as WebRL), in the question and the one before it."""
    text = respelled(clean_question(question, max_chars), spellings or {})
    last = turns(history)[-1:]
    previous, previous_answer = (last[0].question, last[0].answer) if last else (None, None)
    if previous is not None:
        previous = respelled(previous, spellings or {})
    is_follow_up = previous is not None and (FOLLOW_UP.search(text) is not None or len(terms(text)) <= 2)
    restricts = is_follow_up and bool(RESTRICT_TO_PREVIOUS.search(text))
    fields = sorted((m.start(), name) for name, pattern in METADATA_FIELDS.items() if (m := pattern.search(text)))
    if fields:
        # "number of authors and date?": beside a field asked, a bare field word joined to it is asked too.
        asked = {name for _, name in fields}
        joined = {(m.start(), FIELD_WORDS[m.group(1).lower()]) for m in JOINED_FIELD.finditer(text)}
        fields = sorted(set(fields) | {(start, name) for start, name in joined if name not in asked})
    # "How many authors, and who are they?": the count asked is the listing's whole answer about its authors.
    metadata_fields = [name for _, name in fields if name != "names" or all(n != "authors" for _, n in fields)]
    parts = question_parts(text)
    # "When was X posted, and how much faster is it?": the listing answers one part, the abstract the others.
    listing_parts = [p for p in parts if any(pattern.search(p.text) for pattern in METADATA_FIELDS.values())]
    content_parts = [p for p in parts if p not in listing_parts]
    mixes_metadata = bool(metadata_fields and listing_parts and content_parts)
    if mixes_metadata:
        parts = content_parts
    listing_text = " ".join(p.text for p in listing_parts) if mixes_metadata else text
    search_text = METADATA_WORDING.sub(" ", text) if metadata_fields and not mixes_metadata else text
    if is_follow_up:
        search_text = f"{previous} {search_text}"
    orders = bool(metadata_fields) and bool(ORDERING.search(listing_text))
    filters = filters_in_words(text)
    ranking = ranks_on_a_field(text, metadata_fields, mixes_metadata, is_follow_up)
    # A ranking question made only of the field's words (years belong to the filters) ranks the whole collection.
    topical = bool({t for t in terms(search_text) if not t.isdigit()} - RANKING_WORDS)
    return Question(
        text=text,
        search_text=search_text,
        filters=filters,
        wants_several=bool(MULTI.search(text)) and not (metadata_fields and not mixes_metadata)
        and (bool(LIST_OF_PAPERS.search(text)) or not ONE_PAPER.search(text)),
        wants_quantity=any(p.wants_quantity for p in parts),
        wants_paper=bool(WHICH_PAPER.search(text)),
        metadata_fields=metadata_fields,
        mixes_metadata=mixes_metadata,
        previous_question=previous if is_follow_up else None,
        previous_answer=previous_answer if is_follow_up else None,
        restrict_to_previous=restricts,
        refers_to_previous=is_follow_up and bool(REFERS_TO_PREVIOUS.search(text)),
        # "Do any of them cover languages other than English?": "of them" picks among the previous papers, so
        # "other" there is about something else, not other papers.
        excludes_previous=is_follow_up and not restricts and bool(ANOTHER.search(OTHER_CONDITION.sub(" ", text))),
        ordinal=ORDINALS[(ordinal.group(1) or ordinal.group(2)).lower()]
        if is_follow_up and (ordinal := ORDINAL.search(text)) else None,
        parts=parts,
        defines=len(parts) == 1 and not QUANTITY.search(text)
        and any(DEFINITION.search(s) for s in asking_sentences(text)[1]),
        compares=bool(COMPARISON.search(text)),
        orders=orders,
        sides=question_sides(text) if orders else [],
        ranks=ranking and not topical,
        ranks_topic=ranking and topical,
        lists_filtered=lists_filtered(text, metadata_fields, filters, is_follow_up),
        asks_size=not is_follow_up and COLLECTION_SIZE.search(text) is not None and filters == Filters(),
    )


def ranks_on_a_field(text: str, metadata_fields: list[str], mixes_metadata: bool, is_follow_up: bool) -> bool:
    """Whether the question ranks papers on one listing field ("Which paper has the most upvotes?", "What is the
    oldest paper?", "Which paper on web agents has the most upvotes?"): a superlative, one field, and no two papers
    set apart. Without words of a topic it ranks the whole collection."""
    return (len(metadata_fields) == 1 and metadata_fields[0] in RANKED_FIELDS and not mixes_metadata and not is_follow_up
            and SUPERLATIVE.search(text) is not None and not question_sides(text))


def lists_filtered(text: str, metadata_fields: list[str], filters: Filters, is_follow_up: bool) -> bool:
    """Whether the question asks only which papers its own filters admit ("Which papers were published in
    2021?", "List the papers with more than 20 authors."): filters in its words and no word of a topic."""
    return (not is_follow_up and set(metadata_fields) <= set(RANKED_FIELDS) and filters != Filters()
            and not {t for t in terms(text) if not t.isdigit()} - FILTER_WORDS)
