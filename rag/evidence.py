"""The evidence stage: from a read question to the papers that may answer it (`search` -> `Retrieved`) and
the sentences an answer is composed from (`gather` -> `extractive.Evidence`): named works looked up by name,
the papers of a previous answer for a follow-up about them, every paper meeting a list's condition."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np

from rag import extractive
from rag import names as names_of
from rag.config import RagSettings
from rag.query import Question
from rag.retrieval import GENERIC, Candidate, PaperIndex
from rag.text import expansion_pattern, folded, terms
from rag.types import Filters

# "Which paper has the most upvotes?": the column the answer ranks (it names `extractive.RANKED_SHOWN` papers).
RANKED_COLUMNS = {"upvotes": "upvotes", "authors": "authors", "date": "date_number"}
# "Which papers were published in 2021?": how many of the papers the filters admit the answer names.
LISTED_PAPERS = 10
# How much of a previous answer is searched for the names of its papers.
PREVIOUS_ANSWER_CHARS = 600


@dataclass
class Retrieved:
    # The question as it is answered: a which-paper question whose condition several papers meet asks for them all.
    question: Question
    candidates: list[Candidate]  # the ranked papers
    vector: np.ndarray  # the search text's embedding (with the history for a follow-up)
    answer_vector: np.ndarray  # the user's own words' embedding, what the answer is scored against
    previous: list[Candidate] | None  # the papers the previous answer named, for a follow-up about them
    filters: Filters  # the filters searched with: the caller's, over those read from the question
    # For a list question with a named condition ("… on ALFWorld"): the papers that mention it, retrieved or not.
    meeting: list[Candidate] = field(default_factory=list)


def search(question: Question, index: PaperIndex, k: int, filters: Filters | None) -> Retrieved:
    """The ranked papers for the question, searched with the caller's filters and those the question sets; for
    a list with a named condition, the papers that mention it first (`conditions_first`)."""
    active = (filters or Filters()).merged_with(question.filters)
    pending = index.embed_soon(question.search_text)  # embedded while the search scores BM25
    # A follow-up is retrieved with its history but answered for the user's own words.
    answer_vector = index.embed(question.text) if question.previous_question else None
    previous = _previous_papers(question, index, answer_vector)
    within = None
    if question.restrict_to_previous and question.previous_question:
        # "Which of those …": the papers the previous answer named (else those its question retrieves).
        within = {c.paper.paper_id for c in previous or index.search(question.previous_question, k=k, filters=active)}
    candidates = index.search(question.search_text, k=k, filters=active, within=within, query_vector=pending,
                              expand=question.wants_several)
    vector = pending.result()
    answer_vector = vector if answer_vector is None else answer_vector
    # "Which paper evaluates agents on GAIA?": one paper asked for, but the answer may be a list (`_one_of_several`).
    one_asked = question.wants_paper and not question.wants_several and not question.previous_question \
        and not question.compares
    meeting = []
    if one_asked or (question.wants_several and not question.restrict_to_previous
                     and (previous is None or question.excludes_previous)):
        names, works, _ = _works(question.text, candidates, index, answer_vector)
        if not one_asked or _one_of_several(works):
            meeting = _meeting_conditions(question, names, candidates, index, answer_vector, active)
        if one_asked:
            if len(meeting) < 2:
                meeting = []
            else:
                question = replace(question, wants_several=True)
        if meeting:  # the described works are looked up only where there is a ranking to change: it may search
            # A comparison ("A vs. B") keeps its ranking: papers that mention one side are not what it asks for.
            described = _described(question, works, index, active)
            if not extractive.side_by_side(question, works | described, list(described)):
                candidates = conditions_first(candidates, meeting)[:k]
    return Retrieved(question, candidates, vector, answer_vector, previous, active, meeting)


def _one_of_several(works: dict[str, Candidate | None]) -> bool:
    """Whether a question asking for one paper may be answered by several: it names no paper's own work
    ("Which benchmark was Sibyl evaluated on?" asks about Sibyl's paper). Then, where two or more papers meet a
    condition a list would hold its papers to (`extractive.list_conditions`: "… on GAIA"), the answer lists
    them rather than picking one."""
    return not any(c is not None and extractive.names_work(n, c) for n, c in works.items())


def _meeting_conditions(question: Question, names: list[str], ranked: list[Candidate], index: PaperIndex, vector,
                        active: Filters) -> list[Candidate]:
    """"Name every paper that runs experiments on ALFWorld": every paper that mentions a name the list's papers
    must mention (`extractive.list_conditions`), retrieved or not, most relevant to the name first."""
    first = ranked[0].paper if ranked else None
    conditions = extractive.list_conditions(question, names, index.table, first,
                                            index.settings.composer.rare_name_share)
    found = {}
    for name in conditions:
        # "BIG-Bench Hard": also the papers that write only its acronym (BBH).
        short = names_of.shortened(name, index.table.acronym_of)
        for form in [name] + ([short] if short else []):
            for candidate in index.mentioning(form, vector, active, index.settings.condition_papers):
                found.setdefault(candidate.paper.paper_id, candidate)
    return list(found.values())


def conditions_first(ranked: list[Candidate], meeting: list[Candidate]) -> list[Candidate]:
    """The ranking with the papers that meet the list's conditions first (retrieved ones in their order, then
    the others): a paper that mentions ALFWorld once, deep in its abstract, answers "which papers run
    experiments on ALFWorld" though the question's other words find other papers first."""
    if not meeting:
        return ranked
    ids = {c.paper.paper_id for c in meeting}
    retrieved = {c.paper.paper_id for c in ranked}
    return ([c for c in ranked if c.paper.paper_id in ids] + [c for c in meeting if c.paper.paper_id not in retrieved]
            + [c for c in ranked if c.paper.paper_id not in ids])


def gather(retrieved: Retrieved, index: PaperIndex, k: int, settings: RagSettings) -> extractive.Evidence:
    """The papers and sentences the answer is composed from: the top papers (all k for a list question),
    the paper of each named work (looked up by name when retrieval missed it) and, for a follow-up about
    the previous answer, only the papers that answer named."""
    parsed = retrieved.question
    candidates, vector, answer_vector, previous, active = (retrieved.candidates, retrieved.vector,
                                                           retrieved.answer_vector, retrieved.previous,
                                                           retrieved.filters)
    if previous is not None:
        ids = {c.paper.paper_id for c in previous}
        if parsed.excludes_previous:
            candidates = [c for c in candidates if c.paper.paper_id not in ids]
        else:
            dense = index.dense_scores_within(vector, ids)
            candidates = sorted((Candidate(c.paper, c.score, dense.get(c.paper.paper_id, 0.0), c.bm25)
                                 for c in previous), key=lambda c: -c.dense)
    top = candidates[:k if parsed.wants_several or parsed.restrict_to_previous else settings.answer_papers]
    names, works, generic_names = _works(parsed.text, top, index, answer_vector)
    # Works are looked up by name in the whole index: the filters still decide which may answer.
    works = {name: c for name, c in works.items() if c is None or active.admits(c.paper)}
    sides = [c for c in _sides(parsed, works, index, answer_vector) if active.admits(c.paper)]
    described = _described(parsed, works, index, active)
    works |= described
    pool: dict[str, Candidate] = {}
    # A follow-up about the previous answer's papers reads only those; elsewhere named works join the pool.
    about_previous = previous is not None and not parsed.excludes_previous
    extra = [] if about_previous else sides + [c for c in works.values() if c is not None]
    # "Name every paper that runs experiments on ALFWorld": every paper mentioning it is a candidate.
    extra += retrieved.meeting
    for candidate in top + extra:
        pool.setdefault(candidate.paper.paper_id, candidate)
    # "What is DPO?": a name many papers use and none introduces; what they say it is, from every paper using it.
    generic = next((n for n in generic_names if not works and extractive.asks_what_only(parsed, n)), None)
    if generic is not None:
        extra += index.mentioning(generic, answer_vector, active, settings.condition_papers)
    ranked, with_value, tied, ranked_field = [], 0, 0, None
    if parsed.ranks:
        # "Which paper has the most upvotes?": the collection ranked on the field, within the filters.
        ranked_field = parsed.metadata_fields[0]
        ranked, with_value, tied = index.ranked_by(RANKED_COLUMNS[ranked_field], active,
                                                   extractive.LOW_ORDER.search(parsed.text) is not None,
                                                   extractive.RANKED_SHOWN)
    if parsed.lists_filtered:
        # "Which papers were published in 2021?": the papers the filters admit, best on the field they bound.
        ranked_field = filtered_field(active)
        ranked, with_value, _ = index.ranked_by(RANKED_COLUMNS[ranked_field], active, False, LISTED_PAPERS)
    hits = index.sentences_of(list(pool), answer_vector)
    part_vectors = ([answer_vector] if len(parsed.parts) == 1
                    else list(index.encoder.encode([p.text for p in parsed.parts])))
    # Words no paper uses are embedded only where `off_topic_words` weighs them: most questions skip the encoder.
    unknown = (extractive.unknown_words(parsed.text, index.table.vocabulary)
               if top and extractive.topic_word_band(top[0].dense, settings.composer) else [])
    word_vectors = dict(zip(unknown, index.encoder.encode(unknown))) if unknown else {}
    return extractive.Evidence(list(pool.values()), hits, part_vectors, works, names, previous, sides,
                               list(described), question_vector=answer_vector, word_vectors=word_vectors,
                               ranked=ranked, ranked_among=with_value, ranked_tied=tied,
                               ranked_field=ranked_field, generic=generic)


def filtered_field(filters: Filters) -> str:
    """The listing field a filter-only list shows and is ordered by: upvotes or authors when the filters bound
    them, else the date (newest first)."""
    if filters.min_upvotes is not None:
        return "upvotes"
    if filters.min_authors is not None or filters.max_authors is not None:
        return "authors"
    return "date"


def _works(text: str, ranked: list[Candidate], index: PaperIndex, vector) -> tuple[list[str], dict, list[str]]:
    """Every name in the question, the named works (name -> its paper, or None for a name no paper mentions
    that is specific enough to matter, such as Toolformer or Orca 2), and the names too many papers use to be
    one work's (GRPO, DPO). A multi-word name found as a whole replaces its words."""
    vocabulary = index.table.vocabulary
    phrases = names_of.phrase_names(text)
    works: dict[str, Candidate | None] = {}
    covered: set[str] = set()
    for phrase in phrases:
        found = index.find_named(phrase, ranked, vector)
        if isinstance(found, Candidate) or (found is None and not names_of.has_connector(phrase)):
            works[phrase] = found if isinstance(found, Candidate) else None
            covered |= set(phrase.split())
    singles = [n for n in names_of.question_names(text, index.title_leads)
               if n not in covered and not any(n in phrase for phrase in works)]
    generic: list[str] = []
    for name in singles:
        found = index.find_named(name, ranked, vector)
        if found == GENERIC:
            generic.append(name)
        # "Directional Stimulus Prompting … what gain did DSP get": a short form the question itself spells
        # out is the spelled-out work, though no paper uses the short form.
        if found is None and name.isupper() and (spelled := expansion_pattern(name).search(text)):
            found = index.find_named(spelled.group(0), ranked, vector)
        if isinstance(found, Candidate):
            works[name] = found
        elif found is None and names_of.is_specific(name, vocabulary):
            works[name] = None
    # "Sakana's 'The AI Scientist'", "Meta's Llama 3": a name no paper mentions that owns another name of the
    # question is whose work it is, not a work asked about.
    folded_text = folded(text)
    owners = [n for n, c in works.items() if c is None and any(
        re.search(rf"(?<![\w-]){re.escape(folded(n))}['’]s\s+['‘\"“]?(?:the\s+)?{re.escape(folded(other))}(?![\w-])",
                  folded_text, re.IGNORECASE) for other in works if other != n)]
    for owner in owners:
        del works[owner]
    return list(works) + [n for n in singles if n not in works], works, generic


def _sides(parsed: Question, works: dict, index: PaperIndex, vector) -> list[Candidate]:
    """The two papers an across-paper metadata question ("which came first, A or B?") sets apart: each side
    by the work it names, else by retrieving its own words."""
    if not parsed.metadata_fields or parsed.mixes_metadata:
        return []
    titled = {n: c for n, c in works.items() if c is not None and names_of.mentions(n, c.paper.title)}
    if not parsed.orders:  # "AgentRxiv vs MetaGPT: how many authors each?": the two named papers
        papers = list({c.paper.paper_id: c for c in titled.values()}.values())
        return papers if len(papers) == 2 and extractive.side_by_side(parsed, titled) else []
    descriptions = parsed.sides
    if not descriptions and len({c.paper.paper_id for c in titled.values()}) == 1:
        name = next(iter(titled))  # "Was A listed before the paper on X?": A, and the rest of the question
        descriptions = [name, re.sub(re.escape(name), " ", parsed.text)]
    sides: list[Candidate] = []
    for description in descriptions:
        taken = {c.paper.paper_id for c in sides}
        named = [c for n, c in titled.items() if names_of.mentions(n, description) and c.paper.paper_id not in taken]
        found = named or [c for c in index.search(description, k=len(taken) + 1) if c.paper.paper_id not in taken]
        if found:
            sides.append(found[0])
    return sides if len(sides) == 2 else []


def _described(parsed: Question, works: dict, index: PaperIndex, filters: Filters) -> dict[str, Candidate]:
    """A second work the question describes beside the one work it names ("Compare Agent Q and the step-level
    Q-value model paper"): the description -> the paper its own words retrieve (not the named one)."""
    text = folded(parsed.text)
    named = {n: c for n, c in works.items() if c is not None and extractive.names_work(n, c)
             and not extractive.is_condition(n, text)}
    absent = [n for n, c in works.items() if c is None]
    if parsed.metadata_fields or parsed.previous_question or len(absent) > 1 or (absent and named):
        return {}
    if absent:
        # "LIMA vs the paper on balancing pre-training and instruction tuning": a work the corpus lacks, set
        # beside one the question describes; the description is answered and the named work said to be missing.
        description = extractive.described_beside(absent[0], parsed.text)
        found = index.search(description, k=1, filters=filters) if description else []
        return {description: found[0]} if found else {}
    if not named and (pair := extractive.described_pair(parsed.text)):
        # Two described works: each description retrieves its own paper, and they must be two papers.
        first = index.search(pair[0], k=1, filters=filters)
        second = [c for c in index.search(pair[1], k=2, filters=filters)
                  if not first or c.paper.paper_id != first[0].paper.paper_id]
        return {pair[0]: first[0], pair[1]: second[0]} if first and second else {}
    if len({c.paper.paper_id for c in named.values()}) != 1:
        return {}
    name, candidate = next(iter(named.items()))
    description = extractive.described_beside(name, parsed.text)
    if description is None:
        # "Context-aware preference modeling vs. FLR", "glider vs model-SAT": the other side in words of one
        # paper's title (BM25 may not find "Language to Rewards": its words are common).
        for phrases in extractive.phrases_beside(name, parsed.text):
            if found := _titled(phrases, index, filters, candidate.paper.paper_id):
                return found
        return {}
    if any(names_of.mentions(n, description) for n in works):
        return {}
    found = [c for c in index.search(description, k=2, filters=filters)
             if c.paper.paper_id != candidate.paper.paper_id]
    return {description: found[0]} if found else {}


def _titled(phrases: list[str], index: PaperIndex, filters: Filters, other: str) -> dict[str, Candidate]:
    """The first of the phrases (longest first, the last one word that all hold) that exactly one paper's title
    (not `other`'s) holds as whole words, with that paper. One or two words must be a title's leading name
    ("glider" for "Glider: …") or hold a word no English dictionary has ("alphamath"): "gas" in one title is not
    that paper's name. Only the titles holding the last word are read: at 100k papers that is one scan."""
    nearest = phrases[-1].lower()
    pool = [(paper_id, title) for paper_id, title in index.table.folded_titles.items()
            if nearest in title and paper_id != other]
    for phrase in phrases:
        words = phrase.lower().split()
        if not terms(phrase) or (len(words) < 3 and phrase.lower() not in index.title_leads
                                 and names_of.ordinary(words)):
            continue
        pattern = re.compile(rf"(?<![\w-]){re.escape(phrase.lower())}(?![\w-])")
        titled = [paper_id for paper_id, title in pool if pattern.search(title)
                  and filters.admits(index.papers[paper_id])]
        if len(titled) == 1:
            found = index.search(phrase, k=1, filters=filters, within=set(titled))
            return {phrase: found[0]} if found else {}
    return {}


def _previous_papers(parsed: Question, index: PaperIndex, vector) -> list[Candidate] | None:
    """The papers the previous answer named, by title (or its lead, "LServe") or by a work's name that a
    title carries or an abstract introduces (MASH), for "which of those …" follow-ups and ones about "it" (only
    the one an ordinal points to: "the second one"); None when the question is not about them or none can be
    found."""
    if not parsed.previous_question or not parsed.previous_answer:
        return None
    if not (parsed.restrict_to_previous or parsed.excludes_previous or parsed.refers_to_previous):
        return None
    retrieved = index.search(parsed.previous_question, k=10, query_vector=index.embed(parsed.previous_question))
    answer_text = folded(parsed.previous_answer)
    named = [c for c in retrieved if names_of.mentions(c.paper.title.split(":")[0], answer_text)]
    # The answer's first lines name its papers; later names are what they quote (benchmarks, baselines).
    _, works, _ = _works(parsed.previous_answer[:PREVIOUS_ANSWER_CHARS], retrieved, index, vector)
    for name, found in works.items():
        if found is not None and extractive.names_work(name, found) and found not in named:
            named.append(found)
    if parsed.ordinal is not None and parsed.ordinal < len(ordered := in_answer_order(named, works, answer_text)):
        return [ordered[parsed.ordinal]]  # "What did the second one report?"
    if not named and parsed.refers_to_previous and not extractive.found_nothing(parsed.previous_answer):
        # "Yes: an RL-based rewriting approach …", then "Which baselines did it beat?": an answer that describes
        # its paper without naming it means the paper its words find, when the question found it too.
        described = index.search(parsed.previous_answer, k=1, query_vector=index.embed(parsed.previous_answer))
        named = [c for c in retrieved[:3] if described and c.paper.paper_id == described[0].paper.paper_id]
    return list({c.paper.paper_id: c for c in named}.values()) or None


CONDITION_BEFORE = re.compile(r"\b(?:on|at|than|against|over|beyond|besides|with|to)\s+(?:the\s+)?(?:[a-z]+\s+)?$",
                              re.IGNORECASE)


def in_answer_order(named: list[Candidate], works: dict, answer_text: str) -> list[Candidate]:
    """The papers in the order the answer names them, each once (a paper found by its title and by a name of its
    work comes as two candidates)."""
    distinct = list({c.paper.paper_id: c for c in named}.values())
    return sorted(distinct, key=lambda c: _named_at(c, works, answer_text))


def _named_at(candidate: Candidate, works: dict, answer_text: str) -> int:
    """Where the answer first names the paper: its title's lead, or a name of the work the answer uses (not a
    name the paper merely mentions, such as its baseline's)."""
    names = [candidate.paper.title.split(":")[0], *(n for n, c in works.items() if c is not None and
                                                     c.paper.paper_id == candidate.paper.paper_id
                                                     and extractive.names_work(n, c))]
    # "WebRL … evaluated on WebArena. PAE …": a benchmark the answer names after "on" is no item of its list.
    text = names_of.unmarked(answer_text)  # where `first_mention` counts its offsets
    found = [at for n in names if (at := names_of.first_mention(n, answer_text)) is not None
             and not CONDITION_BEFORE.search(text[:at])]
    return min(found, default=len(answer_text))


def scope(retrieved: Retrieved, index: PaperIndex, k: int, matching: int | None) -> str | None:
    """Where the filters (given, or read from the question) leave fewer papers than asked for, how many
    they leave ("0 of 314 papers match the filters (dated 2024-01-01 or later and at least 20 upvotes).")."""
    active = retrieved.filters
    if matching is None or len(retrieved.candidates) >= k:
        return None
    advice = " Clear or widen them to search every paper." if matching < k else ""
    return f"{matching} of {len(index)} papers match the filters ({active.conditions()}).{advice}"

