"""Fast tests of how a question is read and how an answer is composed, on small hand-made papers (no index,
no model). Every phrasing here is written for these tests and appears in no eval file; the same code runs on
the real index in test_ask.py and in `rag eval`."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from rag.config import ComposerSettings
from rag.corpus import Paper
from rag.evaluation import citation_problems, dev_test_split
from rag.evidence import conditions_first, in_answer_order
from rag.extractive import (
    framing_length,
    ABSTAIN_TEXT,
    alternatives,
    Draft,
    asks_what_only,
    Evidence,
    _name_sentences,
    Scorer,
    answer,
    appositive,
    completing,
    clause_of,
    covering_sentences,
    described_beside,
    described_pair,
    phrases_beside,
    enumerated,
    definition_subject,
    extended,
    introduced_as,
    introduces_name,
    named_subject,
    off_topic_words,
    reports_result,
    has_figure,
    is_condition,
    list_conditions,
    meets_condition,
    side_by_side,
    stated_sizes,
    uncovered_terms,
)
from rag.names import (acronym_expansions, first_mention, in_title_words, is_specific, lead_spellings, mentions, mentions_form, names_a_version, phrase_names,
                       question_names, respelled, version_of)
from rag.query import analyse, asked_things, question_parts, question_sides
from rag.retrieval import Candidate, SentenceHit, title_acronyms
from rag.selector import SentenceModel
from rag.table import WORD as TABLE_WORD
from rag.text import acronyms, expansion_pattern, folded, sentence_spans, terms
from rag.types import Answer, Filters, Turn


def read(question: str, history: list | None = None):
    return analyse(question, max_chars=2000, history=history)


# --- reading the question ----------------------------------------------------------------------------------

def test_a_question_asking_two_things_has_two_parts():
    parts = question_parts("How many GPUs did the cluster use, and what throughput did it sustain?")
    assert [p.text for p in parts] == ["How many GPUs did the cluster use", "what throughput did it sustain"]
    assert all(p.wants_quantity for p in parts)


def test_a_part_asking_what_something_is_called_wants_its_introduction():
    parts = question_parts("What does QUILT stand for, and how much faster is it?")
    assert [p.wants_name for p in parts] == [True, False] and [p.wants_quantity for p in parts] == [False, True]
    assert question_parts("What is the pruning rule in that paper called?")[0].wants_name


def test_a_comma_before_a_question_word_starts_another_part_once_the_piece_asks():
    parts = question_parts("What is the sampler called, how many steps does it take, and what FID does it reach?")
    assert [p.text for p in parts] == ["What is the sampler called", "how many steps does it take",
                                       "what FID does it reach"]
    # A lead-in clause before the comma is not an ask of its own.
    parts = question_parts("In the sampler that skips noise levels, one per step, how many steps does it need?")
    assert len(parts) == 1
    # A lead-in before a colon is a statement: context, not a part.
    parts = question_parts("A study of diffusion samplers for audio: what is the new audio sampler called, and "
                           "how many denoising steps does it use?")
    assert [p.text for p in parts] == ["what is the new audio sampler called", "how many denoising steps does it use"]
    # A lead-in clause stays with the first ask; the asks after it are parts of their own.
    parts = question_parts("In the study where a kiln learns its own schedule, how many glazes did they test, "
                           "what share cracked, and how long was a firing?")
    assert [p.text for p in parts] == ["In the study where a kiln learns its own schedule, how many glazes did "
                                       "they test", "what share cracked", "how long was a firing"]
    # A preposition may lead the next ask.
    parts = question_parts("How many clips does the archive hold, into how many genres are they sorted?")
    assert [p.text for p in parts] == ["How many clips does the archive hold", "into how many genres are they sorted"]


def test_a_request_splits_like_a_question_and_plural_dates_ask_for_the_listing():
    parts = question_parts("Tell me the size of the pottery corpus, and how many glazes does it cover?")
    assert [p.text for p in parts] == ["Tell me the size of the pottery corpus", "how many glazes does it cover"]
    parts = question_parts("Give the kiln count of KilnNet, how many studios used it, and what it saved?")
    assert len(parts) == 3
    question = read("Which was listed earlier, KilnNet or GlazeGPT, and on what dates?")
    assert question.metadata_fields == ["date"] and not question.mixes_metadata and question.orders


def test_a_purpose_clause_after_a_what_ask_asks_no_number():
    assert not question_parts("What do the kiln papers change to cut firing costs?")[0].wants_quantity
    # "to" before a noun, or after "do", is no purpose: the measurement is asked.
    assert question_parts("What did the new glaze do to crack rates?")[0].wants_quantity
    assert question_parts("What does KilnNet compare to in crack rates?")[0].wants_quantity


def test_an_ask_made_of_retrieval_stopwords_is_still_a_part():
    parts = question_parts("Which papers fire stoneware, and what does each propose?")
    assert [p.text for p in parts] == ["Which papers fire stoneware", "what does each propose"]
    assert len(question_parts("Which papers fire stoneware, and which method does each use?")) == 2
    # "Name them" only asks for what the other part says; "how does it work" stays with "What is X".
    assert len(question_parts("Which papers fire stoneware? Name them.")) == 1
    assert len(question_parts("What is KilnNet, and how does it work?")) == 1


def test_how_well_asks_for_a_result_only_when_it_is_the_question():
    parts = question_parts("What does GlazeGPT predict, and how well does it do on stoneware?")
    assert [p.wants_quantity for p in parts] == [False, True]
    assert not question_parts("Which paper tests how well kilns keep their heat?")[0].wants_quantity
    assert question_names("Is it better than the loss of Okafor et al. on KilnBench?") == ["KilnBench"]


def test_one_papers_benchmarks_are_not_a_list_of_papers():
    assert not read("The kiln paper with the 31% saving was tested on which datasets?").wants_several
    assert read("Which papers report results on which datasets?").wants_several
    assert read("Which benchmarks measure glaze colour prediction?").wants_several
    # Asked of the whole collection: every paper that qualifies, whatever the noun.
    assert read("What glaze recipes are proposed in the collection?").wants_several
    assert not read("Which kiln shelves can the controller skip?").wants_several
    # A quantifier over the collection ("everything that …") asks for every paper too.
    assert read("show me everything tested on KilnBench").wants_several
    assert not read("Does everything in the kiln paper hold for stoneware?").wants_several


def test_nouns_joined_by_and_stay_one_part():
    parts = question_parts("Which optimizer schedules combine warmup and cosine decay?")
    assert len(parts) == 1 and not parts[0].wants_quantity


def test_enumerated_parts_drop_their_lead_in_and_statements_are_context():
    parts = question_parts("For the kitchen-robot dataset: (a) how many demonstrations, (b) which grippers?")
    assert [p.text for p in parts] == ["how many demonstrations", "which grippers"]
    parts = question_parts("I recall a compiler paper that tunes loop tiling with RL. What speed-up did it get?")
    assert [p.text for p in parts] == ["What speed-up did it get"]


def test_a_lead_in_before_a_dash_is_context_and_an_explain_request_is_a_part():
    # a comparison's named works before the dash are what the ask is about, not a part of their own
    parts = question_parts("Loomwise vs ShuttleNet — which one was trained on more looms?")
    assert [p.text for p in parts] == ["which one was trained on more looms"]
    parts = question_parts("Explain KilnNet -- how does it schedule a firing?")
    assert [p.text for p in parts] == ["Explain KilnNet", "how does it schedule a firing"]
    assert parts[1].wants_mechanism and not parts[0].wants_mechanism


def test_a_vague_part_keeps_its_own_words_and_the_statements_are_context():
    question = read("Two tokenizers both shrink vocabularies for code. How does each prune it?")
    assert [p.text for p in question.parts] == ["How does each prune it"]
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3)])
    assert "vocabularies" in Scorer(question, evidence, table_for([KILN])).context


def test_a_request_for_figures_makes_each_part_ask_for_a_number():
    parts = question_parts("Which papers prune attention heads? Give the numbers.")
    assert [p.text for p in parts] == ["Which papers prune attention heads"] and parts[0].wants_quantity


def test_what_the_question_asks_for():
    assert read("Which studies distil chess engines into transformers?").wants_several
    assert read("Has any benchmark here measured spreadsheet agents?").wants_several
    assert not read("What improvement over the teacher does the distilled model report?").wants_several
    assert not question_parts("Which method explains what a model relies on when it scores?")[0].wants_quantity
    assert read("Describe FooNet briefly").defines and read("What is the core idea of FooNet?").defines
    assert not read("What is the accuracy of FooNet on ImageNet?").defines
    assert read("How does FooNet differ from BarNet?").compares
    assert read("How many upvotes and how many authors does the FooNet paper have?").metadata_fields == [
        "upvotes", "authors"]


def test_a_listing_field_asked_beside_other_parts_is_answered_from_the_listing():
    question = read("When was the FooNet paper posted, and how much memory does it save?")
    assert question.metadata_fields == ["date"] and question.mixes_metadata
    assert [p.text for p in question.parts] == ["how much memory does it save"]
    assert not read("When was the FooNet paper posted?").mixes_metadata


def test_across_paper_metadata_questions_name_their_two_sides():
    question = "Which was listed earlier: the survey of speech tokenizers, or the paper on protein folding?"
    assert read(question).orders and read(question).metadata_fields == ["date"]
    assert question_sides(question) == ["the survey of speech tokenizers", "the paper on protein folding"]
    assert question_sides("Does Alpha or Beta have more upvotes?") == ["Does Alpha", "Beta have more upvotes"]
    assert question_sides("Was FooNet listed before or after BarNet?") == []
    assert question_sides("Does the Alpha kiln paper list more authors than the Beta glaze study?") == [
        "Does the Alpha kiln paper list more authors", "the Beta glaze study"]
    # "Between A, a description, and B, another, which …": each side keeps its description.
    assert question_sides("Between KilnNet, the kiln controller, and GlazeGPT, the glaze model, which came first?") \
        == ["KilnNet, the kiln controller", "GlazeGPT, the glaze model"]


def test_follow_ups_about_the_previous_answer():
    history = [{"question": "Which papers compress activations?", "answer": "FooNet and BarNet."}]
    assert read("Which of those needs no retraining?", history).restrict_to_previous
    assert read("What ratio does it reach?", history).refers_to_previous
    assert read("Is there another paper doing this?", history).excludes_previous
    # "of them" picks among the previous papers: "other" is then about something else.
    among = read("Do any of them cover languages other than English?", history)
    assert among.restrict_to_previous and not among.excludes_previous
    # "Which other …" after a preposition is where the same paper did something, not another paper.
    same = read("In which other languages did they test it, and with what gain?", history)
    assert same.refers_to_previous and not same.excludes_previous
    assert read("Which of those needs no retraining?").previous_question is None  # no history, no follow-up
    odd = read("Which of those needs no retraining?", [{"question": "Which papers?", "answer": 42}])
    assert odd.previous_answer == "42" and read("And it?", [{"question": None}]).previous_question is None


# --- names -------------------------------------------------------------------------------------------------

def test_a_name_of_a_titles_words_with_others_between_is_that_title():
    title = "Secrets of Kiln Firing in Large Studios Part I: Glazes"
    assert in_title_words("Kiln Firing Part I", title) and in_title_words("Secrets of Kiln Firing Part I", title)
    assert not in_title_words("Kiln Firing Part II", title)  # "Part I" is not "Part II"
    assert not in_title_words("Part Kiln", title) and not in_title_words("Kiln", title)  # out of order; one word
    # A compared work named that way is a side of the comparison.
    part_two = make_paper("Secrets of Kiln Firing in Large Studios Part II: Ash", "We fire ash glazes.")
    works = {"Kiln Firing Part I": Candidate(make_paper(title, "We fire glazes."), 1.0, 0.6, 1.0),
             "Part II": Candidate(part_two, 1.0, 0.6, 1.0)}
    assert side_by_side(read("Kiln Firing Part I vs Part II: what does each fire?"), works) == \
        ["Kiln Firing Part I", "Part II"]


def test_names_single_and_multi_word():
    assert question_names("How does SparseGPT compare with Wanda 2?") == ["SparseGPT", "Wanda 2"]
    # Ordinary words at a sentence start are not names; an unknown word there is ("Quokkaformer ...").
    assert question_names("Roughly how fast is it?") == []
    assert question_names("Quokkaformer claims what?") == ["Quokkaformer"]
    assert phrase_names("Was Slow Feature Analysis used by Deep Kernel Shaping?") == [
        "Slow Feature Analysis", "Deep Kernel Shaping"]
    assert phrase_names("Compare Wanda with SparseGPT") == []
    assert phrase_names("How do budgets for LLM RL change?") == []  # acronyms side by side: terms, no name
    # An ordinary word at a sentence start is a name when a title leads with it.
    assert question_names("Harbor and GlazeGPT both fire pots.") == ["GlazeGPT"]
    assert question_names("Harbor and GlazeGPT both fire pots.", frozenset({"harbor"})) == ["Harbor", "GlazeGPT"]


def test_an_ordinary_word_in_a_hyphenated_compound_is_no_name():
    assert question_names("KilnNet (Kiln Firing via Guided Help-seeking) and GlazeGPT-based tools") == [
        "KilnNet", "Kiln", "Firing", "Guided", "GlazeGPT"]
    # An inflected word opening a sentence is no name; an ordinary word alone in brackets is a short form.
    assert question_names("Ablating one head of KilnNet hurts.") == ["KilnNet"]
    assert "Pots" in question_names("We score each kiln with the Pottery Output Score (Pots).")


def test_mentions_and_versions():
    assert mentions("GPT-4", "beats GPT4 and GPT 4o") and not mentions("GPT-4", "GPT-40 is not it")
    # A capitalised variant is another work ("KilnBench-Lite" is not KilnBench); a descriptive suffix is not.
    assert not mentions("KilnBench", "scores on KilnBench-Lite") and mentions("KilnBench", "a KilnBench-based test")
    # Greek letters are matched as people type them; a minor version is part of the name.
    assert mentions("rho^2-kiln", "ρ^2-Kiln: Firing Twice") and question_names("Does GPT-4.1 beat it?") == ["GPT-4.1"]
    # A name spelled like an ordinary word keeps its capitals; other names match in any case.
    assert mentions("SPARROW", "We call it SPARROW.") and not mentions("SPARROW", "a sparrow flew by")
    assert mentions("SparseGPT", "sparsegpt prunes")
    # Users drop the separators a paper writes where letters meet digits or a small letter meets a capital.
    assert mentions("Kiln4o", "a Kiln-4o agent") and mentions("PotR2", "PotR^2 glazes") and mentions("Glaze3", "Glaze-3-mini")
    assert mentions("GlazeNet", "Glaze-Net fires") and not mentions("Kiln4", "Kiln-40 fires")
    assert first_mention("KilnBench", "On KilnBench-Lite and on KilnBench") == 25  # a variant is another name
    # A recent year after a name's words is written either way; another year, or a plain number, is not it.
    assert mentions("KILN 2024", "tested on KILN24 kilns") and mentions("KILN24", "the KILN 2024 set")
    assert not mentions("KILN 2024", "KILN 2025 results") and not mentions("Top 10", "the Top 2010 list")
    assert version_of("Wanda 2") == "Wanda" and version_of("Skylark UniPic 3.0") == "Skylark UniPic"
    assert version_of("GPT-4") == "GPT" and version_of("SparseGPT") is None
    assert is_specific("Quokkaformer", {"quokka"}) and not is_specific("PPO", {"ppo"})


def test_names_typed_in_lower_case_are_respelled_as_the_papers_write_them():
    titles = ["KilnRL: Firing Pots with Rewards", "Glaze-STaR: Balancing Glazes", "PotTree*: Searching Kilns",
              "Pottery: A Survey", "Kiln Bench: Firing Tests", "Clay-Agent-E: Self-Evolving Potters",
              "KilnArena: Kilns Compared", "GlazeOven: Hot Glazes"]
    abstracts = ["We test on KilnArena-Pro with ClayGPT.", "We report the glazeoven heat."]
    spellings = lead_spellings(titles, abstracts)
    assert respelled("what does kilnrl get, and is glaze-star better?", spellings) \
        == "what does KilnRL get, and is Glaze-STaR better?"
    # A title's name with marks, and one of several words; the marks typed after it are the title's own.
    assert respelled("pottree* vs kiln bench", spellings) == "PotTree* vs Kiln Bench"
    assert respelled("how good is clay agent E?", spellings) == "how good is Clay-Agent-E?"
    # Ordinary words stay words ("pottery"); a name typed with capitals is the user's spelling; a name the
    # papers write with a variant ("KilnArena-Pro") or also in lower case ("glazeoven") is left as typed, and
    # so is a name only abstracts use ("claygpt").
    assert respelled("Is pottery in Kilnrl? What of kilnarena, glazeoven and claygpt?", spellings) \
        == "Is pottery in Kilnrl? What of kilnarena, glazeoven and claygpt?"


def test_the_previous_answers_papers_in_the_order_it_names_them_each_once():
    kiln = make_paper("KilnRL: Firing Pots", "We fire pots.")
    glaze = make_paper("GlazeNet: Glazes", "We glaze pots.")
    bench = make_paper("PotBench: A Benchmark", "We test pots.")
    answer_text = "Two: GlazeNet (the Glaze Network), tested on PotBench, and KilnRL, which fires pots."
    # GlazeNet found by its title and again by its work's name, as another candidate object.
    named = [Candidate(glaze, 1.0, 0.5, 2.0), Candidate(kiln, 1.0, 0.5, 1.0), Candidate(glaze, 0.0, 0.5, 7.0),
             Candidate(bench, 1.0, 0.5, 1.0)]
    works = {"Glaze Network": named[2]}
    ordered = in_answer_order(named, works, answer_text)
    # A benchmark named after "on" is no item of the answer's list: it comes last.
    assert [c.paper.title.split(":")[0] for c in ordered] == ["GlazeNet", "KilnRL", "PotBench"]


def test_an_ordinal_follow_up_names_its_place_in_the_previous_answer():
    history = [{"question": "Which kilns fire fastest?", "answer": "KilnA and KilnB."}]
    places = {q: analyse(q, max_chars=500, history=history).ordinal
              for q in ("And the latter, how hot?", "What did the second paper report?", "the first one?",
                        "How fast is it the first time?", "Was it the first to fire stoneware?")}
    assert places == {"And the latter, how hot?": -1, "What did the second paper report?": 1,
                      "the first one?": 0, "How fast is it the first time?": None,
                      "Was it the first to fire stoneware?": None}
    assert analyse("What did the second paper report?", max_chars=500).ordinal is None  # no conversation


def test_figures_are_measurements_or_counts_of_what_was_asked():
    assert has_figure("It cuts latency by 2.5x.", "how much faster is it")
    assert has_figure("The suite holds twelve probing tasks.", "how many tasks are there")
    assert not has_figure("The suite holds twelve probing tasks.", "how many annotators took part")
    # The verb after the subject says what was counted: "evaluate 7 models" answers "how many LMs did they evaluate".
    assert has_figure("We build a kiln agent and evaluate 7 models: A, B and C.", "how many LMs did the authors evaluate")
    # "How many X" asks for a count; a share of X answers only "how many of …" or a share asked.
    assert not has_figure("The kiln fires 80% of the planned glazes.", "how many glazes did they plan")
    assert has_figure("The kiln fires 80% of the planned glazes.", "how many of the planned glazes does it fire")
    assert has_figure("The kiln fires 80% of the planned glazes.", "what share of the planned glazes does it fire")
    assert not has_figure("We build on Llama 3.1 and Qwen2.5.", "how many parameters")
    # "How much <noun>" names what the figure measures; "how much faster" takes any measurement.
    assert not has_figure("KilnNet reaches 94% higher glaze yields.", "how much wall-clock firing time did KilnNet save")
    assert has_figure("KilnNet cuts firing time by 40%.", "how much wall-clock firing time did KilnNet save")
    assert has_figure("KilnNet reaches 94% higher glaze yields.", "how much better is KilnNet")
    # A named model's size is part of its name, not the subject's size.
    assert not has_figure("Ours beats the Llama 3 70B controller.", "how many parameters does the controller have")
    assert not has_figure("Ours beats the Qwen2.5 14B controller.", "how many parameters does the controller have")
    assert has_figure("We train a 7B controller.", "how many parameters does the controller have")
    # A size in millions or billions answers how many parameters, beside the work's name or not; a context length
    # in thousands does not.
    assert has_figure("We train a 7B model called KilnNet on firing logs.", "how many parameters does KilnNet have")
    assert not has_figure("KilnNet enables 128K long-context firing logs.", "how many extra parameters does KilnNet add")
    # A name among the counted words is not what is counted: "the 7B models with KilnNet-2" counts no recipes.
    asked = "how many glaze recipes does KilnNet-2 use for firing"
    assert not has_figure("Tuning the 7B models with KilnNet-2 helps.", asked)
    assert has_figure("KilnNet-2 draws on 12 glaze recipes.", asked)
    assert not has_figure("It ran in 2024.", "how large is it")
    assert has_figure("after 35K more steps", "how many did it need")  # no noun asked: any magnitude
    assert not has_figure("after 35K more steps", "how many annotators were hired")
    # "The size of X" takes any count; a "size gap" is not a size.
    assert has_figure("a set of 12662 prompts", "Tell me the size of the prompt set")
    assert not has_figure("a two-stage training recipe", "what size gap does each claim")
    # "number of X" asks for a count of X, unless the part asks how much (a change of that number).
    assert has_figure("The kiln suite holds 204 glazes from 17 potters.", "size figures: number of potters")
    assert not has_figure("The kiln suite holds 204 glazes.", "the number of potters and the number of studios")
    assert has_figure("The average firing count falls by 3.8x.", "how much does it cut the average number of firings")
    # A number the question itself states is not the answer.
    assert not has_figure("with 300 nurses and 40 clinics", "what did it cost", "with 300 nurses, what did it cost?")


# --- composing answers on hand-made papers ---------------------------------------------------------------

DIM = 4


def axis(i: int) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[i] = 1.0
    return vector


def make_paper(title: str, abstract: str, **meta) -> Paper:
    return Paper(paper_id=title.lower().replace(" ", "-"), title=title, abstract=abstract, url="", **meta)


def make_evidence(question, papers_and_axes, works=None, sides=None, previous=None, names=None) -> Evidence:
    """Each paper's sentences get the vectors given (one axis per sentence), so similarity is controlled."""
    candidates, hits = [], []
    for paper, sentence_axes in papers_and_axes:
        candidates.append(Candidate(paper, 1.0, 0.6, 1.0))
        for number, ((start, end), vec) in enumerate(zip(sentence_spans(paper.abstract), sentence_axes)):
            hits.append(SentenceHit(paper.paper_id, number, start, end, paper.abstract[start:end], 0.0, vec))
    question_vector = np.ones(DIM, dtype=np.float32) / 2
    for hit in hits:
        hit.similarity = float(hit.vector @ question_vector)
    part_vectors = [axis(i % DIM) for i in range(len(question.parts))]
    return Evidence(candidates, hits, part_vectors, works or {}, names or [], previous, sides or [])


def table_for(papers) -> SimpleNamespace:
    vocabulary = {t for p in papers for t in terms(f"{p.title} {p.abstract}")}
    idf = {t: 1.0 for t in vocabulary}
    words = {w for p in papers for w in TABLE_WORD.findall(folded(f"{p.title} {p.abstract}").lower())}  # as PaperTable
    acronyms = acronym_expansions(p.abstract for p in papers)
    return SimpleNamespace(idf=idf, max_idf=1.0, vocabulary=words, acronyms=acronyms,
                           acronym_of={spelled: acronym for acronym, spelled in acronyms.items()})


KILN = make_paper("KilnNet: Firing Schedules for Ceramics",
                  "We propose KilnNet, a controller for pottery kilns. "
                  "It lowers energy use by 31% on stoneware. "
                  "The controller was trained on 1,200 firing logs from five studios.")
GLAZE = make_paper("GlazeGPT: Predicting Glaze Colours",
                   "We introduce GlazeGPT, a model that predicts glaze colour from recipes. "
                   "GlazeGPT reaches 87% accuracy on held-out recipes.")
# The two made-up works by name, each found in its own paper.
KILN_AND_GLAZE = {"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(GLAZE, 1.0, 0.6, 1.0)}


def test_each_part_of_a_two_part_question_gets_its_own_sentence():
    question = read("How much energy does KilnNet save, and how many firing logs was it trained on?")
    evidence = make_evidence(question, [(KILN, [axis(2), axis(0), axis(1)])])
    scorer = Scorer(question, evidence, table_for([KILN]))
    sentences, missing = covering_sentences(scorer, evidence.candidates[0], threshold=0.3, max_sentences=4)
    assert {h.number for h in sentences} == {1, 2} and missing == []
    draft = answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4)
    assert "31%" in draft.text and "1,200" in draft.text and not draft.abstained
    # adjacent sentences become one verbatim span with one citation
    assert len(draft.citations) == 1 and draft.citations[0].quote in KILN.abstract


def test_a_fact_comes_from_the_paper_covering_the_question_not_from_one_near_sentence():
    survey = make_paper("Glaze Savings at Scale", "We survey studios. Studios save 12% of energy on average with mixing.")
    question = read("How much energy does the kiln controller save on stoneware firings, and how many firing logs "
                    "was it trained on?")
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "We propose KilnNet, a controller for pottery kilns. It lowers energy use by 31% on stoneware "
                      "firings. The controller was trained on 1,200 firing logs from five studios.")
    evidence = make_evidence(question, [(survey, [axis(0), axis(0)]), (kiln, [axis(1), axis(2), axis(3)])])
    for hit in evidence.hits:  # the survey's sentences are nearer the question's vector
        hit.similarity = 1.0 if hit.paper_id == survey.paper_id else 0.5
    table = table_for([survey, kiln])
    alone = answer(question, evidence, table, threshold=0.3, max_sentences=4,
                   weights=ComposerSettings(paper_coverage_weight=0.0))
    assert "12%" in alone.text  # its one sentence scores best
    draft = answer(question, evidence, table, threshold=0.3, max_sentences=4)
    assert "31%" in draft.text and "1,200" in draft.text and "12%" not in draft.text


def test_a_sentence_near_the_best_for_two_parts_does_not_replace_either_part_s_own_best():
    paper = make_paper("Planning for Weaving Looms", "Our loom planner is Loomwise. "
                       "The loom planner also runs on a Dobby loom in field tests. Weavers liked it.")
    question = read("What is the loom planner called, and which other loom does it run on?")
    # The second sentence scores just under the first for "called" (same words, a close vector) and best for
    # "which other loom": it must not stand in for the first, which alone holds the name.
    close = axis(0) * 0.9 + axis(1) * np.sqrt(1 - 0.9 ** 2)
    evidence = make_evidence(question, [(paper, [axis(0), close, axis(2)])])
    table = table_for([paper])
    table.idf = dict.fromkeys(table.idf, 5.0)  # every word as rare as a name few papers use
    scorer = Scorer(question, evidence, table)
    first, second = (scorer.for_part(i, paper.paper_id) for i in (0, 1))
    assert first[0].hit.number == 0 and first[1].hit.number == 1 and first[0].score - first[1].score < 0.05
    assert second[0].hit.number == 1
    sentences, missing = covering_sentences(scorer, evidence.candidates[0], threshold=0.3, max_sentences=4)
    assert sorted(h.number for h in sentences) == [0, 1] and missing == []
    assert "Loomwise" in answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=4).text


def test_a_part_whose_best_sentence_another_part_took_gets_its_best_other_sentence():
    paper = make_paper("Tidewise: Forecasting Harbour Tides",
                       "We present Tidewise, a forecaster for harbour tides. "
                       "It corrects its forecasts with gauge readings every hour. "
                       "Harbour pilots used it for a season.")
    question = read("Which harbour tide forecaster is it, and what keeps it accurate?")
    # The introduction scores best for both parts; the second part's own best other sentence answers it.
    evidence = make_evidence(question, [(paper, [axis(0), axis(0) * 0.8 + axis(2) * 0.6, axis(3)])])
    evidence.part_vectors = [axis(0), axis(0)]
    table = table_for([paper])
    table.idf = dict.fromkeys(table.idf, 5.0)  # every word as rare as a name few papers use
    scorer = Scorer(question, evidence, table)
    assert scorer.for_part(1, paper.paper_id)[0].hit.number == 0
    sentences, missing = covering_sentences(scorer, evidence.candidates[0], threshold=0.3, max_sentences=4)
    assert sorted(h.number for h in sentences) == [0, 1] and missing == []
    # No other sentence answers it well enough (a higher threshold), and the first part keeps the sentence
    # (`part_yield_share`, tested below): the part stays with the shared sentence.
    keeping = Scorer(question, evidence, table, ComposerSettings(part_yield_share=1.0))
    sentences, missing = covering_sentences(keeping, evidence.candidates[0], threshold=1.15, max_sentences=4)
    assert [h.number for h in sentences] == [0] and missing == []


def test_a_part_asking_for_a_stated_number_of_things_is_answered_by_a_sentence_listing_that_many():
    assert [p.items for p in question_parts("What were the four kinds of glaze tested, and how hot was the kiln?")] \
        == [4, 0]
    assert question_parts("Which 2 studios took part?")[0].items == 2
    assert question_parts("In the study of 5 kilns, what did it save?")[0].items == 0
    assert question_parts("What are the parts of the glazing robot?")[0].items == 2  # plural: two at least
    assert enumerated("Four glazes were tried: celadon, tenmoku, shino, and ash glaze.") == 4
    assert enumerated("We fire at cone 10, and the kiln cools or vents.") == 0  # clauses, not a list
    assert enumerated("Potters glaze and fire.") == 0
    paper = make_paper("Glaze Trials in a Gas Kiln", "Our trials cover four glaze families in detail. "
                       "They are celadon, tenmoku, shino, and ash glaze from three studios. "
                       "The kiln reached 1300 degrees.")
    question = read("What were the four glaze families in the trials, and how hot did the kiln get?")
    # The first sentence repeats the question's words and sits closest to it; only the second lists four.
    evidence = make_evidence(question, [(paper, [axis(0), axis(3), axis(1)])])
    draft = answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=4)
    assert "tenmoku" in draft.text and "1300" in draft.text


def test_how_a_work_works_is_answered_by_its_method_up_to_the_experiments():
    paper = make_paper("Kilnwright: Scheduling Pottery Firings with Language Models",
                       "Firing schedules for pottery are written by hand. "
                       "We present Kilnwright, a planner that turns a potter's notes into a firing schedule. "
                       "Kilnwright first asks a language model for a draft curve from the notes. "
                       "A thermal simulator then checks each ramp, and a repair step lowers ramps that would crack "
                       "the glaze. "
                       "Experiments in four studios show 30% fewer cracked pieces.")
    question = read("How does Kilnwright get from a potter's notes to a safe firing curve?")
    assert question.parts[0].wants_mechanism
    evidence = make_evidence(question, [(paper, [axis(2), axis(0), axis(0), axis(3), axis(1)])],
                             works={"Kilnwright": None})
    evidence.works["Kilnwright"] = evidence.candidates[0]
    draft = answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=4)
    # The steps after the introduction are the answer; the experiments sentence is not how it works.
    assert "thermal simulator" in draft.text and "30%" not in draft.text


def test_what_are_the_parts_is_answered_by_the_sentence_naming_several():
    paper = make_paper("A Glazing Robot for Small Studios",
                       "We build GlazeBot, a robot that glazes pots for small studios. "
                       "GlazeBot has two arms, the Dipper for dipping pots and the Brusher for fine lines. "
                       "Studios liked it.")
    question = read("What are the parts of the glazing robot, and what does each one do?")
    # The introduction names one new thing and sits closest to the question; the parts are in the next.
    evidence = make_evidence(question, [(paper, [axis(0), axis(2), axis(3)])])
    table = table_for([paper])
    table.idf, table.max_idf = {t: 5.0 for t in table.idf}, 5.0
    draft = answer(question, evidence, table, threshold=0.3, max_sentences=4)
    assert "Dipper" in draft.text and "Brusher" in draft.text


def test_an_acronym_question_is_answered_where_the_name_is_spelled_out():
    paper = make_paper("QUILT: Fast Quilting", "Quilting is slow by hand. "
                       "We present QUILT (Quick Universal Image Layout Tiling), a tiler for fabric patterns. "
                       "QUILT tiles patterns 3x faster than manual layout.")
    question = read("What does QUILT stand for, and how much faster is it?")
    evidence = make_evidence(question, [(paper, [axis(2), axis(2), axis(1)])])
    draft = answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=4)
    assert "Quick Universal Image Layout Tiling" in draft.text and "3x" in draft.text


def test_a_part_no_sentence_answers_is_said_to_be_missing():
    question = read("How much energy does KilnNet save, and how many kilns were sold?")
    evidence = make_evidence(question, [(KILN, [axis(2), axis(0), axis(1)])])
    draft = answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4)
    assert "31%" in draft.text and draft.missing == ["how many kilns were sold"]
    assert "does not say “how many kilns were sold”" in draft.text


def test_a_part_no_sentence_scores_for_but_the_quote_holds_is_not_said_to_be_missing():
    paper = make_paper("KilnNet: Firing Schedules for Ceramics",
                       "We propose KilnNet, a controller for pottery kilns. "
                       "It lowers energy use by 31% on stoneware and supports celadon and shino glazes. "
                       "Potters liked it.")
    question = read("How much energy does KilnNet save, and which glazes does it support?")
    evidence = make_evidence(question, [(paper, [axis(3), axis(0), axis(3)])])
    evidence.part_vectors = [axis(0), axis(2)]  # the second part is far from every sentence: it scores low
    scorer = Scorer(question, evidence, table_for([paper]))
    _, missing = covering_sentences(scorer, evidence.candidates[0], threshold=1.2, max_sentences=4)
    assert [p.text for p in missing] == ["which glazes does it support"]
    # … but the sentence quoted for the first part names the glazes: no note says the abstract lacks them.
    draft = answer(question, evidence, table_for([paper]), threshold=1.2, max_sentences=4)
    assert "celadon" in draft.text and "does not say" not in draft.text and draft.missing == []
    # A figure asked is held only by a figure beside what it counts: "31%" is not a number of kilns.
    question = read("How much energy does KilnNet save, and how many kilns were sold?")
    evidence = make_evidence(question, [(paper, [axis(3), axis(0), axis(3)])])
    draft = answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=4)
    assert draft.missing == ["how many kilns were sold"]


def test_two_works_described_without_names_are_the_two_sides():
    assert described_pair("Compare the paper that fires kilns with less gas with the model that predicts glaze "
                          "colour from recipes.") == ["the paper that fires kilns with less gas",
                                                      "the model that predicts glaze colour from recipes"]
    assert described_pair("How do the kiln firing framework and the glaze colour prediction model differ?") == [
        "the kiln firing framework", "the glaze colour prediction model"]
    # Not works of their own: no word for a work on one side.
    assert described_pair("Compare the paper that fires kilns with less gas with the old schedules.") == []


def test_a_work_described_beside_a_named_one_is_a_side_of_the_comparison():
    text = "Compare KilnNet and the glaze colour prediction model: what does each reach?"
    assert described_beside("KilnNet", text) == "the glaze colour prediction model"
    text = "How do the recipe-based glaze colour model and KilnNet differ in accuracy?"
    assert described_beside("KilnNet", text) == "the recipe-based glaze colour model"
    # Not a work of its own: no word for a work, or too few words.
    assert described_beside("KilnNet", "Compare KilnNet and the old firing schedules.") is None
    assert described_beside("KilnNet", "Compare KilnNet with the model.") is None
    question = read("Compare KilnNet and the glaze colour prediction model: what does each reach?")
    works = {"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0),
             "the glaze colour prediction model": Candidate(GLAZE, 1.0, 0.6, 1.0)}
    assert side_by_side(question, works, ["the glaze colour prediction model"]) == \
        ["KilnNet", "the glaze colour prediction model"]
    assert side_by_side(question, works) == []  # a description is no name of its own
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3), (GLAZE, [axis(0)] * 2)], works=works)
    evidence.described = ["the glaze colour prediction model"]
    lines = answer(question, evidence, table_for([KILN, GLAZE]), threshold=0.3, max_sentences=4).text.splitlines()
    assert lines[0].startswith("- “KilnNet") and lines[1].startswith("- “GlazeGPT") and "87%" in lines[1]


def test_each_side_of_a_comparison_quotes_at_most_its_sentences_per_side():
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "We propose KilnNet, a controller for pottery kilns. It reads thermocouples every second. "
                      "It plans the cooling curve from the glaze. It lowers energy use by 31% on stoneware. "
                      "Potters can override it.")
    question = read("How do KilnNet and GlazeGPT differ?")
    works = {"KilnNet": Candidate(kiln, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(GLAZE, 1.0, 0.6, 1.0)}
    evidence = make_evidence(question, [(kiln, [axis(0)] * 5), (GLAZE, [axis(0)] * 2)], works=works)
    quoted = {}
    for per_side, likeliest, words in ((2, 0, 0), (4, 0, 0), (2, 3, 0), (2, 3, 140)):
        draft = answer(question, evidence, table_for([kiln, GLAZE]), threshold=0.3, max_sentences=4,
                       weights=ComposerSettings(sentences_per_side=per_side, likeliest_sentences=likeliest,
                                                side_words=words))
        quoted[per_side, likeliest, words] = sum(len(sentence_spans(c.quote)) for c in draft.citations
                                                 if c.paper_id == kiln.paper_id)
    assert quoted[2, 0, 0] == 2 and 2 < quoted[4, 0, 0] <= 4
    # The sentence the fitted model ranks likeliest may join a side as one more; within the side's words, the
    # model's next likeliest too.
    assert 2 <= quoted[2, 3, 0] <= 3 and quoted[2, 3, 0] < quoted[2, 3, 140] <= 5


def test_a_comparison_side_leaves_out_the_problem_its_paper_sets_out_before_its_work_unless_asked():
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "Pottery kilns waste energy and both controllers and glazes face two major challenges. "
                      "We propose KilnNet, a controller for pottery kilns. It reads thermocouples every second.")
    works = {"KilnNet": Candidate(kiln, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(GLAZE, 1.0, 0.6, 1.0)}
    for question, quoted in (("How do KilnNet and GlazeGPT differ?", False),
                             ("What problem do KilnNet and GlazeGPT each address?", True)):
        parsed = read(question)
        evidence = make_evidence(parsed, [(kiln, [axis(0), axis(1), axis(2)]), (GLAZE, [axis(0)] * 2)], works=works)
        draft = answer(parsed, evidence, table_for([kiln, GLAZE]), threshold=0.3, max_sentences=4)
        assert "We propose KilnNet" in draft.text
        assert ("two major challenges" in draft.text) is quoted, question


@pytest.mark.parametrize("question, sides", [
    # Parts that each ask about a work of their own set the works side by side …
    ("Which colour does GlazeGPT predict from, and how much energy does KilnNet save?", ["GlazeGPT", "KilnNet"]),
    # … but one part naming both, or one work only, is no such pairing.
    ("How much energy does KilnNet save when GlazeGPT picks the glaze?", []),
    ("What does KilnNet read, and how much energy does it save?", []),
    # An ask of "they" after two named works asks it of both; "it", or an ask naming one of them, is about one.
    ("Set KilnNet's best schedule beside GlazeGPT's largest model: what energy use do they report?",
     ["KilnNet", "GlazeGPT"]),
    ("KilnNet's schedule beside GlazeGPT's: what energy use does it report?", []),
    ("Beside GlazeGPT, what energy use do they report for KilnNet?", []),
    # An imperative comparison sets a titled work after "on" beside the other; "On KilnNet, …" is a condition.
    ("Compare how the best kiln fared on KilnNet with the top result of GlazeGPT.", ["KilnNet", "GlazeGPT"]),
    ("On KilnNet, how does the slow kiln compare with GlazeGPT?", []),
])
def test_which_named_works_a_question_sets_side_by_side(question, sides):
    assert side_by_side(read(question), KILN_AND_GLAZE) == sides


def test_works_set_side_by_side_without_a_comparing_word():
    for question in ("Which colour does GlazeGPT predict from, and how much energy does KilnNet save?",
                     "Set KilnNet's best schedule beside GlazeGPT's largest model: what energy use do they report?"):
        assert not read(question).compares


def slow_cooling(last_sentence: str) -> Paper:
    return make_paper("Slow Cooling for Stoneware Kilns",
                      "Kiln firing schedules shape stoneware. We propose a slow cooling schedule for kiln firing. "
                      f"Pots crack less often with it. {last_sentence}")


DAMPER = make_paper("Gas Kiln Firing with Damper Control",
                    "Kiln firing in gas kilns wastes fuel. We present damper control for kiln firing. "
                    "It saves a fifth of the gas.")
# The three sentences of either kiln-firing paper: on the topic, then leaning away from it.
KILN_FIRING_LEAN = [axis(0), axis(0) * 0.9 + axis(1) * 0.43, axis(0) * 0.8 + axis(2) * 0.6]


def test_a_list_line_answers_a_part_no_sentence_words_with_the_papers_next_best_sentence():
    slow, damper = slow_cooling("Potters liked the glaze."), DAMPER
    question = read("Which papers change kiln firing, and what is each change meant to achieve?")
    lean = KILN_FIRING_LEAN
    evidence = make_evidence(question, [(slow, lean + [axis(3)]), (damper, lean)])
    evidence.part_vectors = [axis(0), -axis(0)]  # no sentence is near "what is each change meant to achieve"
    # The model's one likeliest sentence, not its further ones: in a two-paper table every word is rare.
    draft = answer(question, evidence, table_for([slow, damper]), threshold=0.5, max_sentences=4,
                   weights=ComposerSettings(likeliest_sentences=1))
    assert "Pots crack less often with it." in draft.text and "It saves a fifth of the gas." in draft.text
    assert "Potters liked the glaze." not in draft.text


def test_a_part_asking_what_a_work_achieved_is_answered_by_a_result_not_its_setup():
    parts = question_parts("Which papers change kiln firing, and what main benefit does each claim?")
    assert parts[1].wants_outcome and not parts[1].wants_names and not parts[0].wants_outcome
    slow = make_paper("Slow Cooling for Stoneware Kilns",
                      "Kiln firing schedules shape stoneware. We propose a slow cooling schedule for kiln firing. "
                      "The schedule was tuned in three studios over a winter. Pots crack 40% less often with it.")
    question = read("Which papers change kiln firing, and what main benefit does each claim?")
    lean = [axis(0), axis(0) * 0.9 + axis(1) * 0.43, axis(0) * 0.8 + axis(2) * 0.6]
    evidence = make_evidence(question, [(slow, lean + [axis(3)])])
    evidence.part_vectors = [axis(0), -axis(0)]  # no sentence is near "what main benefit does each claim"
    draft = answer(question, evidence, table_for([slow]), threshold=0.5, max_sentences=4,
                   weights=ComposerSettings(likeliest_sentences=1))
    assert "Pots crack 40% less often with it." in draft.text
    assert "tuned in three studios" not in draft.text


def test_a_part_asking_what_a_named_work_is_is_answered_by_the_sentence_introducing_it():
    paper = make_paper("Learning Glaze Recipes from Studio Notes",
                       "Potters keep notes on glaze recipes. "
                       "Unlike lookup tables, this work studies recipes and introduces Glaze Recipe Network (GlazeNet), "
                       "a model of glaze chemistry. "
                       "GlazeNet predicts colour from recipes and firing curves. "
                       "Potters in four studios liked its colour predictions.")
    question = read("What is GlazeNet and how does it predict colour?")
    evidence = make_evidence(question, [(paper, [axis(2), axis(3), axis(0) * 0.7 + axis(1) * 0.7,
                                                 axis(0) * 0.6 + axis(1) * 0.6])])
    evidence.names = ["GlazeNet"]
    draft = answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=2)
    assert "introduces Glaze Recipe Network (GlazeNet)" in draft.text
    assert "GlazeNet predicts colour" in draft.text


def test_a_cut_sentence_keeps_the_clause_with_the_figure_when_figures_are_asked():
    text = ("Trials in four studios across a whole season of work show that fuel use drops by 31% on stoneware and "
            "12% on porcelain in every firing program we ran, while keeping every glaze colour intact.")
    hit = SentenceHit("p", 0, 0, len(text), text, 0.0, axis(0))
    focus = [set(terms("which controller keeps glaze colour")), set(terms("by how much"))]
    start, end = clause_of(hit, focus)
    assert text[start:end] == "while keeping every glaze colour intact."
    start, end = clause_of(hit, focus, figures=True)
    assert "31%" in text[start:end] and text[start:end].endswith("intact.")


def test_a_figure_on_the_questions_topic_is_quoted_without_the_clauses_that_only_echo_it():
    text = ("Our study of KilnNet in four studios shows better fuel use and glaze quality than the manual schedules "
            "we compared against -- KilnNet cuts fuel use by 31% against the manual schedule for stoneware, while "
            "also holding up on larger kilns (up to the biggest chamber we built).")
    hit = SentenceHit("p", 0, 0, len(text), text, 0.0, axis(0))
    one_part = [set(terms(p.text)) for p in read("By how much does KilnNet cut fuel use?").parts]
    start, end = clause_of(hit, one_part, figures=True)
    assert text[start:end] == "KilnNet cuts fuel use by 31% against the manual schedule for stoneware"
    # One more word of the question in another clause is an echo of it; two are something it asks about.
    echo = [set(terms(p.text)) for p in read("By how much does KilnNet cut fuel use in studios?").parts]
    assert clause_of(hit, echo, figures=True) == (start, end)
    asked = [set(terms(p.text)) for p in read("By how much does KilnNet cut fuel use, as four studios found?").parts]
    start, end = clause_of(hit, asked, figures=True)
    assert text[start:end].startswith("Our study of KilnNet in four studios") and "31%" in text[start:end]
    # A part the measured clause does not touch keeps its own clause.
    two_parts = [set(terms(p.text)) for p in read("How much fuel does KilnNet save, and on how large a kiln was "
                                                  "it run?").parts]
    assert len(two_parts) == 2
    start, end = clause_of(hit, two_parts, figures=True)
    assert text[start:end].startswith("KilnNet cuts fuel use by 31%") and text[start:end].endswith("we built).")


def test_a_cut_never_ends_on_a_colon_what_it_announces_is_quoted_with_every_item():
    text = ("We present KilnNet as a controller for small studio kilns with three built-in safeguards for every "
            "firing: 1) a thermocouple cross-check; 2) a damper limit; 3) an automatic cool-down. It ships today.")
    hit = SentenceHit("p", 0, 0, text.index(" It ships"), text[:text.index(" It ships")], 0.0, axis(0))
    focus = [set(terms("What safeguards does KilnNet give small studio kilns?"))]
    start, end = clause_of(hit, focus)
    assert text[start:end].endswith("3) an automatic cool-down.") and "1) a thermocouple" in text[start:end]


def test_a_comparison_side_leads_with_the_sentence_introducing_the_work_by_name():
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "Firing pottery wastes fuel. We propose KilnNet, a controller that reads kiln thermocouples. "
                      "We then introduce a damper regularization to keep the firing curve smooth. Potters liked it.")
    question = read("How do KilnNet and GlazeGPT keep their output steady?")
    works = {"KilnNet": Candidate(kiln, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(GLAZE, 1.0, 0.6, 1.0)}
    evidence = make_evidence(question, [(kiln, [axis(1), axis(3), axis(0), axis(2)]), (GLAZE, [axis(0)] * 2)],
                             works=works)
    evidence.names = ["KilnNet", "GlazeGPT"]
    # "We then introduce a damper regularization" has introducing words but names no work: it does not stand in
    # for the sentence that says what KilnNet is.
    draft = answer(question, evidence, table_for([kiln, GLAZE]), threshold=0.3, max_sentences=4,
                   weights=ComposerSettings(sentences_per_side=2, likeliest_sentences=1))
    first = draft.text.splitlines()[0]
    assert "We propose KilnNet" in first and "damper regularization" in first and "Potters" not in first


def test_a_list_line_names_its_work_unless_a_chosen_sentence_introduces_it_by_name():
    paper = make_paper("Learning to Fire Stoneware Kilns Without Cracks",
                       "We propose Crackless, a kiln controller learned from firing logs. "
                       "To test it, we design a series of firing tasks in stoneware kilns. Pots cracked less.")
    other = make_paper("Glaze Colours from Recipes", "We study glaze colour prediction in stoneware kilns. It works.")
    question = read("Which papers run experiments in stoneware kilns?")
    evidence = make_evidence(question, [(paper, [axis(2), axis(0), axis(3)]), (other, [axis(1), axis(3)])])
    table = table_for([paper, other])
    table.idf = dict.fromkeys(table.idf, 5.0)  # every word rare, so "Crackless" is a name of the paper's own
    # "we design a series of firing tasks" has introducing words but names no work: the line still says what
    # the listed work is called.
    lines = answer(question, evidence, table, threshold=0.3, max_sentences=4).text.splitlines()
    assert lines[0].startswith("- “Learning to Fire") and "We propose Crackless" in lines[0]
    assert "we design a series of firing tasks" in lines[0]


def test_two_named_works_are_compared_each_from_its_own_paper():
    question = read("How do KilnNet and GlazeGPT differ?")
    works = KILN_AND_GLAZE
    assert side_by_side(question, works) == ["KilnNet", "GlazeGPT"]
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3), (GLAZE, [axis(0)] * 2)], works=works)
    draft = answer(question, evidence, table_for([KILN, GLAZE]), threshold=0.3, max_sentences=4)
    lines = draft.text.splitlines()
    assert lines[0].startswith("- “KilnNet") and lines[1].startswith("- “GlazeGPT")
    assert {c.paper_id for c in draft.citations} == {KILN.paper_id, GLAZE.paper_id}


def test_a_compared_work_that_is_not_in_the_corpus_is_said_to_be_missing():
    question = read("How does KilnNet compare with Potterformer?")
    works = {"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0), "Potterformer": None}
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3)], works=works)
    draft = answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4)
    assert draft.text.splitlines()[-1] == "Not in the indexed papers: Potterformer." and not draft.abstained
    # A figure of one work against a work not indexed cannot be given: the answer abstains and says why.
    question = read("How does KilnNet compare with Potterformer in accuracy?")
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3)], works=works)
    draft = answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4)
    assert draft.abstained and "Potterformer" in draft.text and not draft.citations


def test_a_missing_name_that_is_not_compared_means_abstention():
    question = read("What does Potterformer do to glaze colours?")
    evidence = make_evidence(question, [(GLAZE, [axis(0)] * 2)], works={"Potterformer": None})
    draft = answer(question, evidence, table_for([GLAZE]), threshold=0.3, max_sentences=4)
    assert draft.abstained and draft.text.startswith(ABSTAIN_TEXT) and "Potterformer" in draft.text


def test_a_name_after_on_than_or_for_a_is_a_condition():
    assert is_condition("Raku", "what does it reach on raku?") and is_condition("Glaze-7", "a rate for a glaze-7 model")
    assert is_condition("Raku", "its score on the full raku benchmark") and not is_condition("KilnNet", "what is kilnnet for?")
    # "… when it is used with PPO": what the method is combined with sets the condition too.
    assert is_condition("PPO", "how much does kilnnet gain when it is used with ppo?")
    assert is_condition("PPO", "what does kilnnet add when applied to the ppo trainer?")
    assert not is_condition("PPO", "how does kilnnet compare with ppo?")


def test_an_acronym_condition_is_met_by_the_words_the_papers_spell_it_out_with():
    acronyms = acronym_expansions(["We beat the best-known kiln schedule (BKKS) and the clay-firing baseline (CFB).",
                                   "Large kiln models (LKMs) fire pots."])
    assert acronyms == {"BKKS": "best known kiln schedule", "CFB": "clay firing baseline", "LKM": "large kiln model"}
    kiln = make_paper("KilnFlow: Firing Faster", "KilnFlow fires 20% faster than the best known kiln schedules.")
    question = "How much faster is it than the previous BKKS?"
    assert meets_condition("BKKS", kiln, question, acronyms=acronyms) and not meets_condition("BKKS", kiln, question)
    assert not meets_condition("CFB", kiln, question, acronyms=acronyms)


def test_a_condition_the_question_spells_out_is_met_by_a_paper_that_writes_only_its_acronym():
    acronyms = acronym_expansions(["We test on Kiln-Bench Hard (KBH), the hardest firing tasks."])
    acronym_of = {words: acronym for acronym, words in acronyms.items()}
    short = make_paper("GlazeOpt: Better Glazes", "GlazeOpt gains 4 points on KBH and 2 on RakuQA.")
    question = "Which papers report results on Kiln-Bench Hard?"
    assert meets_condition("Kiln-Bench Hard", short, question, acronym_of=acronym_of)
    assert not meets_condition("Kiln-Bench Hard", short, question)
    # A one-word name is no spelled-out form: "Raku" is not met by a paper writing "RQ".
    assert not meets_condition("RakuQuiz", make_paper("A", "We score on RQ."), "on RakuQuiz?",
                               acronym_of={"rakuquiz": "RQ"})


def test_a_variant_of_a_condition_counts_only_when_the_question_names_it():
    lite = make_paper("KilnNet Lite: Smaller Kilns", "We report results on KilnBench-Lite only.")
    assert not meets_condition("KilnBench", lite, "What does the small kiln model reach on KilnBench?")
    assert meets_condition("KilnBench", lite, "What does it reach on KilnBench (or its Lite version)?")
    assert not meets_condition("KilnBench", lite, "What does it reach on the full KilnBench (not the Lite one)?")
    # "Or a variant" admits any variant the paper names; "not the … variants" admits none.
    assert meets_condition("KilnBench", lite, "Which papers report results on KilnBench (or a KilnBench variant)?")
    assert not meets_condition("KilnBench", lite, "Which papers give a number on KilnBench (not the small variants)?")


def test_a_condition_no_paper_mentions_is_not_answered_from_another_benchmark():
    question = read("What energy saving does KilnNet reach on the Raku benchmark?")
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3)], works={"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0)})
    evidence.names = ["KilnNet", "Raku"]
    draft = answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4)
    assert draft.abstained and "Raku" in draft.text


def test_a_rare_name_the_first_paper_mentions_is_a_list_condition_unless_it_is_an_aside():
    papers = [make_paper(f"Kiln Paper {i}", "A study of glazes and kilns.") for i in range(40)]
    raku = make_paper("Raku Firing Agents", "We build agents that fire pots in Rakuworld and test them.")
    table = table_for(papers + [raku])
    table.idf = {t: np.log1p(41 / sum(t in terms(f"{p.title} {p.abstract}") for p in papers + [raku]))
                 for t in table.idf}
    first = raku

    def conditions(text: str, name: str) -> list[str]:
        return list_conditions(read(text), [name], table, first, rare_share=0.05)

    assert conditions("Which papers use Rakuworld as their testbed, and what does each build?", "Rakuworld")
    # Named to describe the topic: the first paper found does not use it.
    first = papers[0]
    assert not conditions("Which papers train agents the way Rakuworld popularised?", "Rakuworld")
    first = raku
    # One of two alternatives, or a remark in brackets: not needed by every listed paper.
    assert not conditions("Which papers use Rakuworld or another kiln simulator?", "Rakuworld")
    assert not conditions("Which papers test on kilns (for example in Rakuworld)?", "Rakuworld")
    # A name many papers use is the topic's vocabulary, not a condition.
    assert not conditions("Which kiln papers study glazes?", "Kiln")
    # A version no paper names is insisted on, unless it too is one of alternatives or a remark in brackets.
    assert conditions("Which papers fire pots in Rakuworld-2?", "Rakuworld-2")
    assert not conditions("Which papers fire pots in a simulator (Rakuworld-2 or similar)?", "Rakuworld-2")
    assert not conditions("Which papers fire pots in Rakuworld-2 or another kiln simulator?", "Rakuworld-2")


def test_a_condition_is_met_by_the_name_the_question_glosses_it_with():
    paper = make_paper("Flow Kilns", "We adapt a GFlowNet to sample kiln schedules.")
    names = ["Generative Flow Networks", "GFlowNets"]
    glossed_question = "Which papers use Generative Flow Networks (GFlowNets) to fire kilns?"
    assert meets_condition("Generative Flow Networks", paper, glossed_question, names)
    assert not meets_condition("Generative Flow Networks", paper, glossed_question)
    assert not meets_condition("Generative Flow Networks", paper, "Do Generative Flow Networks beat GFlowNets at kilns?",
                               names)
    # Offered as either-or, either name meets it.
    assert meets_condition("Generative Flow Networks", paper, "Do Generative Flow Networks or GFlowNets fire kilns?",
                           names)


def test_a_superscript_mark_in_a_name_is_no_letter_of_it():
    assert mentions("KilnA*", "KilnA^*: Fast Firing with Search") and mentions("K2Glaze", "We train K^2Glaze on pots.")
    assert mentions("K²Glaze", "We train K^2Glaze on pots.") and not mentions("K3Glaze", "We train K^2Glaze on pots.")


def test_a_plural_name_is_mentioned_by_its_singular():
    assert mentions_form("GlazeNets", "We adapt GlazeNet training to kilns.")
    assert not mentions("GlazeNets", "We adapt GlazeNet training to kilns.")
    assert not mentions_form("GlazeNets", "We adapt glaze networks to kilns.")
    # An acronym in the singular ("KFE rewards") is mentioned by its plural.
    assert mentions_form("KFE", "We train kiln firing estimators (KFEs) on studio logs.")
    assert mentions_form("KFEs", "We fly one KFE over the studio.")  # and a plural acronym by its singular
    assert not mentions_form("KFE", "We train KFEX models on studio logs.")


def define(name: str, title: str, abstract: str, question: str, sentence_axes=None):
    """The answer to a definition question about `name`, the only paper (each sentence on axis 0 unless given)."""
    paper = make_paper(title, abstract)
    parsed = read(question)
    axes = sentence_axes or [axis(0)] * len(sentence_spans(abstract))
    evidence = make_evidence(parsed, [(paper, axes)], works={name: Candidate(paper, 1.0, 0.6, 1.0)})
    return answer(parsed, evidence, table_for([paper]), threshold=0.3, max_sentences=4)


def test_a_definition_says_what_a_short_name_stands_for_where_the_paper_spells_it_out():
    # The sentences using the short name are nearest the question; the one spelling it out is quoted too.
    draft = define("K-Fire", "Learning Kiln Schedules from Studio Logs",
                   "Studios log every firing. We introduce Kiln Firing Estimation (K-Fire) for planning. "
                   "K-Fire plans each firing from the studio logs. K-Fire works in any gas kiln.",
                   "What does K-Fire do?", sentence_axes=[axis(1) * 0.1, axis(1) * 0.1, axis(0), axis(0)])
    assert "Kiln Firing Estimation (K-Fire)" in draft.text and "K-Fire plans each firing" in draft.text


def test_an_ask_about_a_name_alone_is_answered_where_the_paper_introduces_it():
    paper = make_paper("Kiln^2: Two-Stage Firing Control",
                       "Pottery kilns waste energy and potters want steadier results in every studio. "
                       "This raises the question: how can we design a better controller? "
                       "To this end we introduce kiln^2, a two-stage controller for electric kilns. "
                       "Its first stage predicts heat loss and its second stage sets the power. "
                       "Kiln^2 lowers energy use by 31% on stoneware.")
    question = read("What does Kiln²-Net measure, and how does it set the power in a studio?")
    # "Kiln²" of the question is the corpus's "Kiln^2"
    assert introduces_name("Kiln2", paper.abstract) and introduced_as("Kiln2", paper.abstract)
    for asked in ("Explain GlazeGPT", "what does GlazeGPT predict"):
        question = read(f"{asked}, and what accuracy does it reach?")
        scorer = Scorer(question, make_evidence(question, [(GLAZE, [axis(0), axis(1)])], names=["GlazeGPT"]),
                        table_for([GLAZE]))
        assert scorer.defined_names(scorer.question.parts[0]) == ["GlazeGPT"]
    # a part asking more than the name (what it reaches on which recipes) is no definition
    question = read("what does GlazeGPT reach on held-out recipes?")
    scorer = Scorer(question, make_evidence(question, [(GLAZE, [axis(0), axis(1)])], names=["GlazeGPT"]),
                    table_for([GLAZE]))
    assert scorer.defined_names(scorer.question.parts[0]) == []
    # the abstract's own question ("how can we design …?") introduces nothing, so the background before the
    # introduction is not how the work works, and no sentence is added for it
    evidence = make_evidence(question, [(paper, [axis(0), axis(1), axis(2), axis(3), axis(0)])])
    scorer = Scorer(question, evidence, table_for([paper]))
    assert scorer.introduced_at[paper.paper_id] == 2 and scorer.sets_problem(evidence.hits[0])
    assert all(h.number >= 2 for h in completing(scorer, evidence.candidates[0], [evidence.hits[3]], room=3))


def test_a_name_most_papers_use_gets_no_sentence_of_its_own():
    papers = [make_paper(f"Paper {i}", f"An LLM bakes bread number {i}. It works.") for i in range(4)]
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "Every LLM has heard of kilns. We propose KilnNet, a controller for pottery kilns. "
                      "It lowers energy use by 31% on stoneware.")
    question = read("How does KilnNet use an LLM to lower energy use?")
    evidence = make_evidence(question, [(kiln, [axis(0), axis(1), axis(2)])], names=["KilnNet", "LLM"])
    table = table_for([kiln, *papers])
    chosen = [evidence.hits[2]]
    table.idf["llm"] = 0.1  # LLM is in most papers: the field's word
    assert _name_sentences(Scorer(question, evidence, table), evidence.candidates[0], chosen, room=2) == []
    table.idf["llm"] = 3.0  # a rare name of the question is shown
    assert _name_sentences(Scorer(question, evidence, table), evidence.candidates[0], chosen, room=2) == \
        [evidence.hits[0]]


SLIPCAST_OPENING = ("Moulds are hard to design. We propose SlipCast, a diffusion model for mould design. "
                    "It works by denoising voxel grids conditioned on the target shape. ")


def test_definition_quotes_the_introduction_and_how_it_works():
    draft = define("SlipCast", "SlipCast: Casting Moulds by Diffusion",
                   SLIPCAST_OPENING + "SlipCast cuts design time by 40%. Code is available at https://example.org/slipcast",
                   "What is SlipCast?")
    assert "We propose SlipCast" in draft.text and "It works by denoising" in draft.text
    assert "40%" not in draft.text and "https" not in draft.text
    # Further sentences on how it works are added; how it was evaluated is not.
    draft = define("SlipCast", "SlipCast: Casting Moulds by Diffusion",
                   SLIPCAST_OPENING + "We evaluate SlipCast on three pottery benchmarks. A second network then checks "
                   "each mould for trapped air before it is cast. We also perform ablation experiments on the denoiser.",
                   "What is SlipCast?")
    assert "checks each mould for trapped air" in draft.text
    assert "We evaluate SlipCast" not in draft.text and "ablation" not in draft.text


def test_definition_of_a_name_the_title_lacks_is_where_the_abstract_spells_it_out():
    # The later sentence is the closer match (0.7 against 0.5); the first, spelled-out mention still says what
    # POKE is.
    closer = np.array([0.7, 0.7, 0.0, 0.0], dtype=np.float32)
    draft = define("POKE", "Firing Schedules as Programs",
                   "Kilns waste energy. We cast scheduling as a new setup, Program-Oriented Kiln Ensembles (POKE). "
                   "In POKE, a planner reads sensor logs and emits a schedule. POKE cuts fuel use by 12%.",
                   "I saw POKE mentioned in a ceramics thread. What is it?", [axis(1), axis(1), closer, axis(0)])
    assert "Program-Oriented Kiln Ensembles (POKE)" in draft.text and "12%" not in draft.text


def test_definition_goes_on_with_a_sentence_that_repeats_what_was_introduced():
    draft = define("GlazeLock", "GlazeLock: Sealed Recipes",
                   "Glaze recipes leak. We introduce sealed recipes, a way to keep them private. "
                   "Sealed recipes split each recipe into two shares. Sales grew by 8%.",
                   "How does GlazeLock keep recipes private?")
    assert "We introduce sealed recipes" in draft.text and "two shares" in draft.text and "8%" not in draft.text


def test_sentences_before_the_introduction_answer_only_a_question_about_the_problem():
    paper = make_paper("KilnSched: Scheduling Firings",
                       "Firing order wastes fuel in every studio. We propose KilnSched, a scheduler for kilns. "
                       "KilnSched orders firings by clay body.")
    works = {"KilnSched": Candidate(paper, 1.0, 0.6, 1.0)}
    # The first and last sentences hold the same words of the question; the first only sets out the problem.
    question = read("How does KilnSched order its firings?")
    evidence = make_evidence(question, [(paper, [axis(0)] * 3)], works=works)
    assert Scorer(question, evidence, table_for([paper])).for_question(paper.paper_id)[0].hit.number == 2
    question = read("What problem with firing order does KilnSched start from?")
    evidence = make_evidence(question, [(paper, [axis(0)] * 3)], works=works)
    assert Scorer(question, evidence, table_for([paper])).for_question(paper.paper_id)[0].hit.number == 0


def test_a_list_question_gives_one_line_per_qualifying_paper():
    question = read("Which papers on kilns or glaze use learned models, and by how much do they improve?")
    evidence = make_evidence(question, [(KILN, [axis(0), axis(0), axis(1)]), (GLAZE, [axis(0), axis(0)])])
    draft = answer(question, evidence, table_for([KILN, GLAZE]), threshold=0.3, max_sentences=4)
    lines = draft.text.splitlines()
    assert len(lines) == 2 and all(line.startswith("- “") for line in lines)
    assert "31%" in draft.text and "87%" in draft.text
    # The composer's limits are settings: with one line allowed, the list keeps its best paper only.
    one_line = answer(question, evidence, table_for([KILN, GLAZE]), threshold=0.3, max_sentences=4,
                      weights=ComposerSettings(max_lines=1))
    assert len(one_line.text.splitlines()) == 1


def test_a_list_with_a_condition_keeps_only_papers_that_mention_it():
    question = read("Which papers on kilns or glaze report results on Stoneware-Bench?")
    assert question.wants_several
    stoneware = make_paper("KilnBench: Firing Results", "We report kiln firing results on Stoneware-Bench. "
                           "Glaze colours improve on Stoneware-Bench by 12%.")
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3), (GLAZE, [axis(0)] * 2), (stoneware, [axis(0)] * 2)])
    evidence.names = ["Stoneware-Bench"]
    draft = answer(question, evidence, table_for([KILN, GLAZE, stoneware]), threshold=0.3, max_sentences=4)
    assert {c.paper_id for c in draft.citations} == {stoneware.paper_id}


def test_a_list_of_a_specific_names_results_keeps_every_paper_that_reports_it():
    question = read("Gather the Raku-9 numbers in the collection: which kiln or glaze papers give them?")
    raku = make_paper("Ash Glazes at Scale", "Ash glazes are cheap. On Raku-9 our glazes crack 40% less.")
    # The third paper is the least similar to the question; naming Raku-9 is what qualifies it.
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3), (GLAZE, [axis(0)] * 2),
                                        (raku, [np.zeros(DIM, dtype=np.float32)] * 2)])
    evidence.names = ["Raku-9"]
    draft = answer(question, evidence, table_for([KILN, GLAZE, raku]), threshold=0.6, max_sentences=4)
    assert {c.paper_id for c in draft.citations} == {raku.paper_id} and "40%" in draft.text


def test_which_of_those_says_none_when_no_previous_paper_qualifies():
    history = [{"question": "Which papers are about ceramics?", "answer": "KilnNet and GlazeGPT."}]
    question = read("Which of those uses satellite imagery?", history)
    previous = [Candidate(KILN, 1.0, 0.6, 1.0), Candidate(GLAZE, 1.0, 0.6, 1.0)]
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3), (GLAZE, [axis(0)] * 2)], previous=previous)
    draft = answer(question, evidence, table_for([KILN, GLAZE]), threshold=0.3, max_sentences=4)
    assert draft.abstained and "None of the papers of the previous answer" in draft.text


def test_which_of_those_weighs_only_the_words_that_tell_the_previous_papers_apart():
    history = [{"question": "Which papers build kilns?", "answer": "Three kiln papers."}]
    papers = [make_paper(f"{name} Kilns", f"We build {name.lower()} kilns for stoneware. Our kilns fire pots "
                                          f"{detail}.")
              for name, detail in (("Gas", "evenly"), ("Wood", "with ash glaze"), ("Electric", "at cone six"))]
    previous = [Candidate(p, 1.0, 0.6, 1.0) for p in papers]
    evidence = make_evidence(read("Which of those fire stoneware kilns with solar heat?", history),
                             [(p, [axis(0)] * 2) for p in papers], previous=previous)
    # Every one of them fires stoneware kilns; none uses solar heat.
    draft = answer(read("Which of those fire stoneware kilns with solar heat?", history), evidence,
                   table_for(papers), threshold=0.3, max_sentences=4)
    assert draft.abstained and "None of the papers of the previous answer" in draft.text
    # A question with nothing beyond what they share is met by all of them.
    shared = read("Which of those fire stoneware kilns?", history)
    both = answer(shared, make_evidence(shared, [(p, [axis(0)] * 2) for p in papers], previous=previous),
                  table_for(papers), threshold=0.3, max_sentences=4)
    assert not both.abstained and len({c.paper_id for c in both.citations}) == 3


def test_which_of_those_picks_the_one_paper_that_clearly_leads_on_the_words_asked():
    history = [{"question": "Which papers teach robots to fire kilns?", "answer": "Three kiln robot papers."}]
    question = read("Which of those left the simulator for physical kiln arms, and what yield did it report?", history)
    papers = [make_paper(f"{name} Kiln Robots", f"We train kiln robots in a simulator. Our robots fire pots {detail}.")
              for name, detail in (("Gas", "evenly with a yield of 90%. We deploy them on real kiln arms in a "
                                           "pottery"), ("Wood", "with ash glaze"), ("Electric", "at cone six"))]
    previous = [Candidate(p, 1.0, 0.6, 1.0) for p in papers]
    evidence = make_evidence(question, [(p, [axis(0)] * 2) for p in papers], previous=previous)
    # The gas paper holds fewer of the follow-up's words than `follow_up_coverage` asks ("real", not "physical"),
    # but the others hold none of them.
    draft = answer(question, evidence, table_for(papers), threshold=0.3, max_sentences=4)
    assert not draft.abstained and {c.paper_id for c in draft.citations} == {papers[0].paper_id}
    assert "90%" in draft.text
    strict = answer(question, evidence, table_for(papers), threshold=0.3, max_sentences=4,
                    weights=ComposerSettings(follow_up_lead_coverage=0.5))
    assert strict.abstained and "None of the papers of the previous answer" in strict.text
    # A second paper holding as many of those words: no paper clearly leads, and none holds enough.
    rival = make_paper("Wood Kiln Robots", "We train kiln robots in a simulator. Our robots left the pottery with kiln "
                                           "arms.")
    evidence = make_evidence(question, [(p, [axis(0)] * 2) for p in (papers[0], rival, papers[2])],
                             previous=[Candidate(p, 1.0, 0.6, 1.0) for p in (papers[0], rival, papers[2])])
    unclear = answer(question, evidence, table_for([papers[0], rival, papers[2]]), threshold=0.3, max_sentences=4)
    assert unclear.abstained


def test_metadata_of_two_papers_with_which_came_first():
    early = make_paper("Early Kilns", "An abstract about early kilns and their firing.", date="2021-03-02",
                       date_text="Mar 2, 2021", upvotes=4, authors=3)
    late = make_paper("Late Kilns", "An abstract about late kilns and their firing.", date="2023-05-06",
                      date_text="May 6, 2023", upvotes=9, authors=2)
    question = read("Which came first, the early kilns paper or the late kilns paper?")
    evidence = make_evidence(question, [(early, [axis(0)]), (late, [axis(0)])],
                             sides=[Candidate(late, 1.0, 0.6, 1.0), Candidate(early, 1.0, 0.6, 1.0)])
    draft = answer(question, evidence, table_for([early, late]), threshold=0.3, max_sentences=4)
    assert "May 6, 2023" in draft.text and "Mar 2, 2021" in draft.text
    assert draft.text.splitlines()[-1] == "“Early Kilns” came first [1][2]."
    papers = {early.paper_id: early, late.paper_id: late}
    assert citation_problems(Answer("q", draft.text, draft.citations, [], False, "x"), papers) == []


def test_a_listing_that_lacks_fields_asked_says_which_and_who_wrote_a_paper_gets_its_author_count():
    counted = make_paper("Counted Kilns", "An abstract about counted kilns and their firing.", authors=6)
    bare = make_paper("Bare Kilns", "An abstract about bare kilns and their firing.")

    def metadata_answer(text, paper):
        question = read(text)
        evidence = make_evidence(question, [(paper, [axis(0)])], works={paper.title: Candidate(paper, 1.0, 0.6, 1.0)})
        return answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=4)

    lacking = metadata_answer("How many upvotes does Bare Kilns have, and when was it posted?", bare)
    assert lacking.abstained and "The listing of “Bare Kilns” gives no upvote count and no date." in lacking.text
    # The listings count authors but never name them: the count is cited and the names said to be missing.
    assert read("Who wrote Counted Kilns?").metadata_fields == ["names"]
    assert read("How many authors does Counted Kilns have, and which authors are they?").metadata_fields == ["authors"]
    # A date "listed under" is a date, not an organisation.
    assert read("Under what date is Counted Kilns listed under, and how many upvotes?").metadata_fields == [
        "date", "upvotes"]
    who = metadata_answer("Who wrote Counted Kilns?", counted)
    assert not who.abstained and who.text.splitlines() == [
        "“Counted Kilns” lists 6 authors [1].", "The listing of “Counted Kilns” gives no author names."]
    papers = {counted.paper_id: counted}
    assert citation_problems(Answer("q", who.text, who.citations, [], False, "x"), papers) == []


def test_a_description_beside_a_named_work_reads_on_to_where_it_is_a_work_of_its_own():
    # A preposition after "the paper" does not end it; a dash does.
    text = "KilnBot vs the paper on firing stoneware with solar heat and less gas — what does each claim?"
    assert described_beside("KilnBot", text) == "the paper on firing stoneware with solar heat and less gas"
    # A quoted title's article stands between the joiner and the name; a survey is a work.
    text = "How do the big kiln survey and 'The Glaze Atlas' differ in scope?"
    assert described_beside("Glaze Atlas", text) == "the big kiln survey"
    # A gloss in brackets after the name is no part of what it is set against.
    text = "Kiln Firing Ledgers (the survey) vs. the study of glaze crawling in gas kilns: what does each cover?"
    assert described_beside("Kiln Firing Ledgers", text) == "the study of glaze crawling in gas kilns"


def test_a_side_given_in_words_of_a_title_without_an_article_is_read_up_to_its_punctuation():
    # Longest first, then fewer words, those nearest the joiner kept: a title may hold only the last of them.
    assert phrases_beside("KilnNet", "Solar-assisted stoneware firing vs. KilnNet: what does each save?") == [
        ["Solar-assisted stoneware firing", "stoneware firing", "firing"]]
    assert phrases_beside("KilnNet", "How does KilnNet compare with adaptive glaze colour prediction?") == [
        ["adaptive glaze colour prediction", "adaptive glaze colour", "adaptive glaze", "adaptive"]]
    assert phrases_beside("KilnNet", "kilnnet and glazebot both fire pots - what does each save?")[0][-1] == "glazebot"
    assert phrases_beside("KilnNet", "Compare glaze bots with KilnNet.") == [["Compare glaze bots", "glaze bots", "bots"]]
    assert phrases_beside("KilnNet", "What does KilnNet save?") == []


def test_two_quoted_titles_with_their_articles_are_the_two_sides():
    atlas, ledger = (make_paper(t, "We present this work on glazes and kilns.") for t in (
        "The Glaze Atlas: Mapping Colour", "The Kiln Ledger: Logging Firings"))
    question = read("Two views of firing: 'The Glaze Atlas' and 'The Kiln Ledger'. What does each record?")
    works = {"Glaze Atlas": Candidate(atlas, 1.0, 0.6, 1.0), "Kiln Ledger": Candidate(ledger, 1.0, 0.6, 1.0)}
    assert side_by_side(question, works) == ["Glaze Atlas", "Kiln Ledger"]
    # A title quoted with its article is the work it names (its listing answers for it).
    counted = make_paper("The Glaze Atlas: Mapping Colour", "We map glaze colour.", authors=4, date_text="May 2, 2024")
    asked = read("How many authors does 'The Glaze Atlas' list, and what is its date?")
    evidence = make_evidence(asked, [(KILN, [axis(0)] * 3), (counted, [axis(0)])],
                             works={"Glaze Atlas": Candidate(counted, 1.0, 0.6, 1.0)})
    draft = answer(asked, evidence, table_for([KILN, counted]), threshold=0.3, max_sentences=4)
    assert draft.text.startswith("“The Glaze Atlas: Mapping Colour” lists 4 authors [1]")


def test_names_offered_as_either_or_are_alternatives_not_each_a_condition():
    question = "Which papers tune prompts for kiln controllers (KilnNet or FurnaceX) on stoneware?"
    assert alternatives("FurnaceX", question, ["KilnNet", "FurnaceX"]) == ["KilnNet"]
    assert alternatives("FurnaceX", "Which papers compare KilnNet with FurnaceX?", ["KilnNet", "FurnaceX"]) == []
    # A listed paper that mentions either one meets the condition.
    assert meets_condition("FurnaceX", KILN, question, ["KilnNet", "FurnaceX"])
    assert not meets_condition("FurnaceX", KILN, "Which papers tune FurnaceX prompts?", ["FurnaceX"])


def test_a_comparison_with_a_missing_work_answers_the_present_one_when_each_is_asked():
    question = read("How does KilnNet compare with Acme's FurnaceX in what each does and the savings each reports?")
    evidence = make_evidence(question, [(KILN, [axis(0), axis(1), axis(2)])],
                             works={"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0), "FurnaceX": None})
    draft = answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4)
    assert not draft.abstained and draft.text.splitlines()[-1] == "Not in the indexed papers: FurnaceX."
    assert "31%" in draft.text
    # A figure of one work relative to a missing one is no answer.
    relative = read("How much more energy does KilnNet save than FurnaceX?")
    evidence = make_evidence(relative, [(KILN, [axis(0), axis(1), axis(2)])],
                             works={"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0), "FurnaceX": None})
    assert answer(relative, evidence, table_for([KILN]), threshold=0.3, max_sentences=4).abstained


def test_a_titles_runs_of_capitals_spell_its_works_name():
    assert "glazepower" in title_acronyms("GLAZE Prediction through EmPOWERment in Kilns")
    assert title_acronyms("KilnNet: Firing Schedules for Ceramics") == set()  # one run of capitals is no name
    assert title_acronyms("AB and CD") == set()  # four letters spell too little


def test_a_superlative_on_one_listing_field_with_no_topic_ranks_the_whole_collection():
    assert read("Which kiln paper has the most upvotes?").ranks is False  # a topic: the kiln papers
    assert read("Which has more upvotes, KilnNet or GlazeGPT?").ranks is False  # two papers set apart
    assert read("What is the most upvoted entry?").ranks and read("Which listing has the fewest authors?").ranks
    assert read("Which paper from 2023 has the most upvotes?").ranks  # the year is a filter, not a topic
    assert read("Which is the earliest paper?").metadata_fields == ["date"] and read("Which is the earliest paper?").ranks
    first = make_paper("Old Kilns", "An abstract about old kilns.", upvotes=9, date_text="May 2, 2024")
    second = make_paper("New Kilns", "An abstract about new kilns.", upvotes=4, date_text="Jun 2, 2024")
    question = read("Which paper has the most upvotes?")
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3)])
    evidence.ranked, evidence.ranked_among, evidence.ranked_tied = [Candidate(first, 0, 0, 0),
                                                                   Candidate(second, 0, 0, 0)], 7, 1
    draft = answer(question, evidence, table_for([KILN, first, second]), threshold=0.3, max_sentences=4)
    assert draft.text.splitlines() == ["“Old Kilns” has 9 upvotes on the listing [1].",
                                       "“New Kilns” has 4 upvotes on the listing [2].",
                                       "“Old Kilns” has the most upvotes [1].",
                                       "Ranked among the 7 papers whose listing gives an upvote count."]
    evidence.ranked_tied = 2  # both at the top: how many share it is said, not one of them named as first
    draft = answer(question, evidence, table_for([KILN, first, second]), threshold=0.3, max_sentences=4)
    assert draft.text.splitlines()[2] == "2 papers share the most upvotes [1][2]."
    evidence.ranked = []
    assert answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4).abstained
    # With a topic, the papers the topic qualifies (as for a list) are ranked.
    on_topic = read("Which kiln paper has the most upvotes?")
    assert on_topic.ranks_topic and not on_topic.ranks
    evidence = make_evidence(on_topic, [(first, [axis(0)]), (second, [axis(0)]), (GLAZE, [axis(3), axis(3)])])
    draft = answer(on_topic, evidence, table_for([first, second, GLAZE]), threshold=0.3, max_sentences=4)
    assert draft.text.splitlines()[2:] == ["“Old Kilns” has the most upvotes [1].",
                                           "Ranked among the 2 papers on the question's topic whose listing gives an "
                                           "upvote count."]


def test_a_question_made_only_of_filters_lists_the_papers_they_admit():
    assert read("Which papers were posted in 2023?").lists_filtered
    # A month and year is that month, and no work's name ("Janus 2024" is a name and a year, not January).
    assert read("What's new in Sept. 2024?").lists_filtered
    assert read("What's new in Sept. 2024?").filters == Filters(date_from="2024-09-01", date_to="2024-09-30")
    assert question_names("Did Janus beat KilnNet in February 2024?") == ["Janus", "KilnNet"]
    assert question_names("Does MAR beat KilnNet?") == ["MAR", "KilnNet"]  # an acronym, not March
    assert read("How did Janus 2024 fire kilns?").filters == Filters()
    assert read("Show the papers with at least 4 upvotes.").lists_filtered
    assert not read("Which kiln papers were posted in 2023?").lists_filtered  # a topic: retrieved and answered
    assert not read("Which papers were posted?").lists_filtered  # no filter
    assert not read("Show the papers with at least 4 upvotes.").ranks  # "at least" is a bound, not a superlative
    older = make_paper("Old Kilns", "An abstract about old kilns.", date_text="May 2, 2023")
    question = read("Which papers were posted in 2023?")
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3)])
    evidence.ranked, evidence.ranked_among, evidence.ranked_field = [Candidate(older, 0, 0, 0)], 12, "date"
    draft = answer(question, evidence, table_for([KILN, older]), threshold=0.3, max_sentences=4)
    assert draft.text.splitlines() == ["“Old Kilns” is dated May 2, 2023 on the listing [1].",
                                       "Papers that match: 12; the 1 newest are listed."]


def test_a_term_many_papers_use_is_defined_by_what_they_say_it_is_not_by_a_result():
    assert asks_what_only(read("What is KilnOpt?"), "KilnOpt")
    assert not asks_what_only(read("What is the title of the KilnOpt paper that fires pots with solar heat?"), "KilnOpt")
    users = [make_paper("Solar Kilns", "KilnOpt raises glaze yield by 12% on stoneware. "
                                       "KilnOpt is a schedule search that tunes firing curves from thermocouple logs."),
             make_paper("Gas Kilns", "We fire gas kilns with Kiln Schedule Optimisation (KilnOpt) and a damper model."),
             make_paper("Wood Kilns", "Wood kilns beat KilnOpt by 3%.")]
    question = read("What is KilnOpt?")
    evidence = make_evidence(question, [(users[0], [axis(0), axis(1)]), (users[1], [axis(1)]), (users[2], [axis(0)])])
    evidence.generic = "KilnOpt"
    draft = answer(question, evidence, table_for(users), threshold=0.3, max_sentences=4)
    lines = draft.text.splitlines()
    assert len(lines) == 2 and "KilnOpt is a schedule search" in draft.text and "(KilnOpt)" in draft.text
    assert "12%" not in draft.text and "Wood Kilns" not in draft.text  # results and mere mentions say what it did


def test_how_many_papers_the_collection_holds_is_said_from_the_table():
    assert read("How many papers are in your collection?").asks_size and read("how many papers do you have").asks_size
    assert not read("How many papers are there on kiln firing?").asks_size  # a topic: a list of them
    assert not read("How many papers does KilnNet cite?").asks_size
    table = SimpleNamespace(order=["a", "b", "c"], numbers={"date_number": np.array([20230502, np.nan, 20210101])})
    question = read("How many papers are in your collection?")
    draft = answer(question, make_evidence(question, [(KILN, [axis(0)] * 3)]), table, threshold=0.3, max_sentences=4)
    assert not draft.abstained and draft.citations == []
    assert draft.text == ("The collection holds 3 papers, dated 2021-01-01 to 2023-05-02 where the listing gives a "
                          "year (1 give none).")


def test_the_split_rule_alternates_within_each_kind():
    records = [{"id": f"q{i}", "type": "fact" if i < 4 else "list", "subtype": ""} for i in range(7)]
    dev, test = dev_test_split(records)
    assert [r["id"] for r in dev] == ["q0", "q2", "q4", "q6"] and [r["id"] for r in test] == ["q1", "q3", "q5"]


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_questions_are_still_refused(question):
    from rag.types import QuestionError

    with pytest.raises(QuestionError):
        read(question)


def test_an_acronym_is_held_by_its_spelled_out_form():
    assert acronyms("How do they change the KL term and the PRMs?") == {"kl": "KL", "prms": "PRM"}
    assert expansion_pattern("KL").search("a dynamic Kullback-Leibler strategy")
    assert expansion_pattern("CFG").search("applying classifier-free guidance at every step")
    # A name written in capitals spells its acronym too ("BIG-Bench Hard" for BBH); a one-letter word does not.
    assert expansion_pattern("KBH").search("results on KILN-Bench Hard")
    assert not expansion_pattern("KBH").search("results on K-Bench Hard")
    assert not expansion_pattern("KL").search("the key idea")  # one word is not two initials
    assert not expansion_pattern("CFG").search("control flow")  # nor are two of three


def test_a_sentence_holding_what_the_answer_lacks_completes_it():
    loom = make_paper("LoomNet: Planning Weaves",
                      "We propose LoomNet, a planner for weaving looms. "
                      "The planner was tested in three studios. "
                      "LoomNet optimises a thread-tension objective that keeps warps straight. "
                      "Our code is at https://example.org/loom with the tension objective.")
    question = read("What is LoomNet, and which objective does it optimise?")
    evidence = make_evidence(question, [(loom, [axis(0), axis(0), axis(1), axis(1)])])
    scorer = Scorer(question, evidence, table_for([loom]))
    intro = [h for h in evidence.hits if h.number == 0]
    assert uncovered_terms(scorer, evidence.candidates[0], intro) == {"object", "optimis"}
    added = completing(scorer, evidence.candidates[0], intro, room=2)
    # The objective sentence, not the studio sentence (no asked word) nor the link (never evidence).
    assert [h.number for h in added] == [2]
    assert completing(scorer, evidence.candidates[0], intro, room=0) == []


# --- answer types: which things, how a work works ------------------------------------------------------------

def test_a_part_asking_which_things_wants_names_and_one_asking_how_wants_the_mechanism():
    parts = question_parts("Which two glazes did it fire, and along how many kilns was it run?")
    assert [(p.wants_names, p.wants_quantity) for p in parts] == [(True, False), (False, True)]
    assert question_parts("What are the four modules of the kiln agent?")[0].wants_names
    assert question_parts("Describe the kiln agent: what are its four modules?")[1].wants_names  # its, their
    assert not question_parts("Which papers cover glazes?")[0].wants_names
    assert question_parts("How does KilnNet keep the firing even?")[0].wants_mechanism
    assert not question_parts("How does KilnNet compare with GlazeGPT?")[0].wants_mechanism
    assert not question_parts("How much fuel does KilnNet save?")[0].wants_mechanism
    # Which thing, though a measurement word follows; the measurement word heading the ask is a quantity.
    part = question_parts("On which other long-running glaze benchmark did the kiln also show gains?")[0]
    assert part.wants_names and not part.wants_quantity
    assert question_parts("What accuracy does the kiln reach on GlazeBench?")[0].wants_quantity
    assert question_parts("By what factor does the kiln cut firing time?")[0].wants_quantity


def scorer_for(question, paper: Paper) -> tuple[Scorer, Evidence]:
    """The scorer and evidence for a question over one paper, every sentence equally similar (axis 0)."""
    evidence = make_evidence(question, [(paper, [axis(0)] * len(sentence_spans(paper.abstract)))])
    return Scorer(question, evidence, table_for([paper])), evidence


def test_which_things_is_answered_by_the_sentence_with_names_the_question_lacks():
    paper = make_paper("Fire or Not: Kiln Schedules Under a Fixed Budget",
                       "Schedules matter for kilns under a fixed fuel budget. "
                       "We fire two glazes in kilns, Celadon and Tenmoku. "
                       "A fixed fuel budget limits how many kilns a studio can fire.")
    scorer, evidence = scorer_for(read("A study fired glazes under a fixed fuel budget. Which two glazes did it fire?"),
                                  paper)
    sentences, _ = covering_sentences(scorer, evidence.candidates[0], threshold=0.3, max_sentences=1)
    assert "Celadon and Tenmoku" in sentences[0].text


def test_what_a_work_is_called_is_answered_where_the_paper_gives_it_its_name():
    assert question_parts("In the kiln study, what is the proposed schedule called?")[0].wants_called
    paper = make_paper("Kilns Can Fire Stoneware Efficiently",
                       "Firing stoneware in gas kilns wastes fuel. "
                       "We propose Slow Ramp Cooling (SRC). "
                       "This schedule lets stoneware kilns fire efficiently with the Celadon glaze.")
    question = read("In the study on firing stoneware in kilns efficiently, what is the proposed schedule called?")
    # The sentence naming the work is the least similar; "Celadon" is a name the question lacks too.
    evidence = make_evidence(question, [(paper, [axis(1), axis(0) * 0.6 + axis(1) * 0.8, axis(0)])])
    table = table_for([paper])
    table.idf = dict.fromkeys(table.idf, 5.0)  # every word as rare as a name few papers use
    scorer = Scorer(question, evidence, table)
    sentences, _ = covering_sentences(scorer, evidence.candidates[0], threshold=0.3, max_sentences=1)
    assert "Slow Ramp Cooling (SRC)" in sentences[0].text


def test_by_how_much_a_work_raised_something_is_answered_by_the_change_not_the_level_before():
    part = question_parts("How much does KilnNet raise the glaze yield?")[0]
    assert part.wants_change and part.wants_quantity
    assert not question_parts("What glaze yield does KilnNet reach?")[0].wants_change
    assert question_parts("How big was the jump in glaze yield with KilnNet?")[0].wants_change  # a change noun
    paper = make_paper("KilnNet: Firing Schedules for Ceramics",
                       "The best glaze yield of hand-tuned kilns stands at around 20% per firing. "
                       "We propose KilnNet, a controller for pottery kilns. "
                       "KilnNet brings a +31% glaze yield on stoneware.")
    question = read("How much does KilnNet raise the glaze yield?")
    # The level before the work is nearest the question; the change the work brings answers it.
    evidence = make_evidence(question, [(paper, [axis(0), axis(1), axis(0) * 0.6 + axis(1) * 0.8])])
    table = table_for([paper])
    sentences, _ = covering_sentences(Scorer(question, evidence, table), evidence.candidates[0], threshold=0.3,
                                      max_sentences=1)
    assert sentences[0].text == "KilnNet brings a +31% glaze yield on stoneware."


def test_how_a_work_works_is_where_the_work_is_the_subject_not_its_results_or_its_setting():
    paper = make_paper("KilnMix: Blending Kiln Controllers",
                       "Blending controllers for kilns is hard. We introduce KilnMix, a way to blend controllers. "
                       "KilnMix improves fuel use across studios. "
                       "It weighs each controller by the entropy of its firing curve.")
    draft = define("KilnMix", paper.title, paper.abstract, "How does KilnMix blend the controllers?")
    assert "We introduce KilnMix" in draft.text and "entropy of its firing curve" in draft.text
    assert "improves fuel use" not in draft.text


def test_the_name_a_paper_gives_its_work_is_the_subject_of_how_it_works():
    paper = make_paper("Balancing Controllers for Kiln Blending",
                       "Blending kiln controllers loses detail. "
                       "This paper introduces a technique named Kiln-Balance for blending controllers. "
                       "Kiln-Balance weighs each controller by the entropy of its firing curve.")
    scorer, evidence = scorer_for(read("How does each kiln blending method work?"), paper)
    hits = {h.number: h for h in evidence.hits}
    # Neither the question nor the title names Kiln-Balance: the abstract gives its work that name.
    assert scorer.describes_work(hits[2], evidence.candidates[0])
    assert not scorer.describes_work(hits[1], evidence.candidates[0])  # the introduction says what it is


def test_before_the_work_is_introduced_it_is_the_approach_the_paper_improves_on():
    paper = make_paper("Balancing Controllers for Kiln Blending",
                       "While averaging has shown promise for kilns, it treats every controller alike. "
                       "This paper introduces a technique named Kiln-Balance for blending controllers. "
                       "It weighs each controller by the entropy of its firing curve. "
                       "We show that Kiln-Balance saves fuel.")
    scorer, evidence = scorer_for(read("How does Kiln-Balance blend controllers?"), paper)
    hits = {h.number: h for h in evidence.hits}
    assert not scorer.describes_work(hits[0], evidence.candidates[0])  # "it" is averaging, set out as the problem
    assert scorer.describes_work(hits[2], evidence.candidates[0])
    # the field's "has shown promise" reports no result of the work; "we show that" does
    assert not reports_result(hits[0].text) and reports_result(hits[3].text)


def test_a_list_line_says_what_the_work_does_not_the_problem_it_sets_out():
    mix = make_paper("Blending Kiln Controllers", "Several kiln controllers can be blended into a single controller. "
                     "We propose KilnMix, which weighs each controller by its firing entropy. KilnMix saves 9% fuel.")
    crumbs = make_paper("Kiln Breadcrumbs", "Merging kiln controllers into a single controller is popular. "
                        "We introduce Breadcrumbs, which masks small controller weights. It saves 4% fuel.")
    question = read("Which papers blend several kiln controllers into a single controller, and what is distinctive "
                    "about each?")
    evidence = make_evidence(question, [(mix, [axis(0), axis(1), axis(2)]), (crumbs, [axis(0), axis(1), axis(2)])])
    draft = answer(question, evidence, table_for([mix, crumbs]), threshold=0.3, max_sentences=4)
    assert "firing entropy" in draft.text and "masks small controller weights" in draft.text
    assert "can be blended" not in draft.text and "is popular" not in draft.text
    # the authors at work before their "we propose" are past the problem
    paper = make_paper("Kiln Probes", "Kilns are hard to read. We construct a Kiln Probe Benchmark (KPB) of six "
                       "tasks. We then propose a probe.")
    scorer, evidence = scorer_for(read("What does KPB hold?"), paper)
    assert [scorer.sets_problem(h) for h in sorted(evidence.hits, key=lambda h: h.number)] == [True, False, False]


def test_a_name_followed_by_what_it_is_introduces_it_but_a_setting_does_not():
    assert appositive("Kiln! Mind", "We build it as Kiln! Mind: a planner that reads logs.")
    assert not appositive("POKE", "In POKE, a planner reads sensor logs.")
    assert sentence_spans("We build Kiln! Mind: a planner. It works.") == [(0, 31), (32, 41)]
    # A sentence glued to the next one ("… every shelf.To fix this, …") still ends there; "e.g." does not end one.
    text = "Kilns heat unevenly across every shelf.To fix this, we add dampers, e.g.Celadon ones."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Kilns heat unevenly across every shelf.", "To fix this, we add dampers, e.g.Celadon ones."]


def test_a_quantity_inside_a_how_it_works_question_is_not_what_it_asks():
    parts = question_parts("How does KilnNet decide how many firings each pot gets?")
    assert [(p.wants_quantity, p.wants_mechanism) for p in parts] == [(False, True)]
    assert question_parts("Explain how GlazeGPT mixes its recipes.")[0].wants_mechanism
    assert not question_parts("Explain how well GlazeGPT does on stoneware.")[0].wants_mechanism
    assert not question_parts("How does KilnNet's way of firing pots compare with GlazeGPT's?")[0].wants_mechanism
    # "What is X" beside another ask wants X's introduction.
    assert [p.wants_name for p in question_parts("What is KilnNet and how does it fire pots?")] == [True, False]
    # "Could you explain X?": what X is, as "what is X?" asks.
    assert [p.wants_name for p in question_parts("Could you explain KilnNet? How does it keep pots from cracking?")] == [
        True, False]


def test_a_long_lead_in_before_the_work_as_subject_still_describes_the_work():
    paper = make_paper("KilnStar: Searching Firing Plans",
                       "We propose KilnStar, a planner for kilns. "
                       "By pairing A* search with a clay-specific cost model, it prunes costly firing plans early. "
                       "Studios liked the plans. We also perform ablations of the cost model.")
    scorer, evidence = scorer_for(read("How does KilnStar plan a firing?"), paper)
    described = [scorer.describes_work(h, evidence.candidates[0]) for h in evidence.hits]
    # The introduction, an outcome and the authors' experiments are not how it works.
    assert described == [False, True, False, False]


def test_a_work_its_abstract_introduces_is_the_subject_and_a_benchmark_after_on_is_a_condition():
    kiln = make_paper("Firing Smarter with Learned Schedules",
                      "Kilns waste fuel. This paper introduces the Adaptive Kiln Scheduling Agent (AKSA), a planner. "
                      "AKSA cuts fuel use on stoneware.")
    other = make_paper("GlazeGPT: Predicting Glaze Colours", "GlazeGPT reaches 87% accuracy on KilnBench recipes.")
    works = {"AKSA": Candidate(kiln, 1.0, 0.6, 1.0), "KilnBench": Candidate(other, 1.0, 0.6, 1.0)}
    question = read("By what percentage does AKSA cut fuel use?")
    assert named_subject(question, works) is works["AKSA"]
    # "How does AKSA do on KilnBench?": about AKSA, never a definition of KilnBench.
    assert definition_subject(read("How does AKSA perform on KilnBench?"), works)[0] == "AKSA"
    # Where the work is ("in the paper on …") says which AKSA, not something more to answer.
    works = {"AKSA": Candidate(kiln, 1.0, 0.6, 1.0)}
    assert definition_subject(read("What is AKSA in the paper on smarter kiln firing with learned fuel-saving "
                                   "schedules?"), works)[0] == "AKSA"
    assert definition_subject(read("What is AKSA and how does it schedule firings across several studios with "
                                   "shared kilns?"), works) is None
    assert definition_subject(read("What is AKSA from the 'firing is fun' kiln scheduling paper?"), works)[0] == "AKSA"
    # A name inside that clause is where to look, not what is asked.
    works = {"AKSA": Candidate(kiln, 1.0, 0.6, 1.0), "StoneBench": Candidate(other, 1.0, 0.6, 1.0)}
    assert definition_subject(read("What is AKSA in the work on learned fuel schedules (StoneBench)?"),
                              works)[0] == "AKSA"
    # The sentence that introduces a work in the plural ("Glaze Oracles (GOs)") says what one of them is.
    oracle = make_paper("Learning When Glazes Fail", "Glazes fail often. We propose Glaze Oracles (GOs), which "
                        "predict crazing from a recipe alone. Later we retrain the GO on porcelain firings.")
    question = read("How does a GO work?")
    evidence = make_evidence(question, [(oracle, [axis(0)] * 3)])
    evidence.works = {"GO": evidence.candidates[0]}
    draft = answer(question, evidence, table_for([oracle]), threshold=0.3, max_sentences=4)
    assert "We propose Glaze Oracles (GOs)" in draft.text, draft.text
    # An acronym spelled out in passing is no work of the paper's.
    assert not introduced_as("KV", "Serving needs memory to keep the key-value (KV) cache of each request.")


def test_an_area_in_metres_is_no_magnitude():
    assert not has_figure("We evaluated it in an 836m^2 real world environment.", "what success rate")
    assert has_figure("They train a 405B model.", "how large is the model")


def test_a_name_the_papers_extend_is_not_absent():
    assert re.search(extended("REST APIs"), "we collect 1,000 RESTful APIs from a hub")
    assert not re.search(extended("REST APIs"), "we collect 1,000 APIs from a hub")


def test_a_version_the_papers_lack_is_absent_even_where_they_name_another_version():
    assert names_a_version("KilnNet", "KilnNet2: Firing Twice") and names_a_version("KilnNet", "uses KilnNet 2.1.")
    assert not names_a_version("KilnNet", "KilnNetwork pipelines") and names_a_version("KilnNet", "KilnNet.")
    second = make_paper("KilnNet2: Firing Schedules, Revisited", "We present KilnNet2, a kiln controller. "
                        "It lowers energy use by 40% on porcelain.")
    question = read("What does KilnNet3 add over KilnNet2?")
    evidence = make_evidence(question, [(second, [axis(0), axis(1)])],
                             works={"KilnNet3": None, "KilnNet2": Candidate(second, 1.0, 0.6, 1.0)})
    draft = answer(question, evidence, table_for([second]), threshold=0.3, max_sentences=4)
    assert draft.abstained and "KilnNet3" in draft.text


def test_a_quoted_whole_title_is_the_subject_and_its_paper_must_meet_the_condition():
    titled = make_paper("Searching Firing Plans with Trees",
                        "We propose a best-first search over firing plans. It fires 19% more pots on KilnBench.")
    other = make_paper("GlazeGPT: Predicting Glaze Colours", "On GlazeBench, GlazeGPT reaches 87% accuracy.")
    works = {"Searching Firing Plans with Trees": Candidate(titled, 1.0, 0.6, 1.0),
             "GlazeBench": Candidate(other, 1.0, 0.6, 1.0)}
    question = read("What accuracy does the search from 'Searching Firing Plans with Trees' reach on GlazeBench?")
    assert named_subject(question, works) is works["Searching Firing Plans with Trees"]
    evidence = make_evidence(question, [(titled, [axis(0), axis(1)]), (other, [axis(0)])], works=works)
    evidence.names = list(works)
    draft = answer(question, evidence, table_for([titled, other]), threshold=0.3, max_sentences=4)
    # Another paper's figure on that benchmark is not the answer.
    assert draft.abstained and "87%" not in draft.text and "does not mention GlazeBench" in draft.text


def test_a_word_no_paper_uses_where_a_condition_stands_is_a_name_no_paper_mentions():
    works = {"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0)}
    question = read("how much more energy does kilnnet save than zorbflux?")
    evidence = make_evidence(question, [(KILN, [axis(0), axis(1), axis(2)])], works=works)
    evidence.names = list(works)
    draft = answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4)
    # KilnNet's 31% is not a comparison with zorbflux, which no paper mentions.
    assert draft.abstained and "31%" not in draft.text and "does not mention zorbflux" in draft.text
    # An English word there is a paraphrase, not a name ("than ordinary kilns").
    question = read("how much more energy does kilnnet save than ordinary kilns?")
    evidence = make_evidence(question, [(KILN, [axis(0), axis(1), axis(2)])], works=works)
    evidence.names = list(works)
    assert not answer(question, evidence, table_for([KILN]), threshold=0.3, max_sentences=4).abstained


def test_a_list_paper_that_spreads_the_topic_over_its_abstract_qualifies_below_the_sentence_cut_off():
    question = read("Which papers blend kiln controllers for pottery studios?")
    single = make_paper("BlendKiln: One Controller", "We blend kiln controllers for pottery studios into one.")
    spread = make_paper("StudioMix: Shared Firing",
                        "Each studio runs a kiln. We blend the controllers with a learned weighting. It suits pottery.")
    off_topic = make_paper("GlazeGPT: Predicting Glaze Colours", "We predict glaze colours.")
    papers = [single, spread, off_topic]
    evidence = make_evidence(question, [(single, [axis(0)]), (spread, [axis(1), axis(2), axis(3)]),
                                        (off_topic, [axis(3)])])
    # Its best sentence scores under 0.8 of the best paper's; its abstract covers the question as well.
    strict = ComposerSettings(several_relative_cutoff=0.8)
    draft = answer(question, evidence, table_for(papers), threshold=0.3, max_sentences=4, weights=strict)
    assert "StudioMix" in draft.text and "GlazeGPT" not in draft.text
    by_sentence_only = strict.model_copy(update={"list_relative_coverage": 1.0, "list_spread_cutoff": 1.0})
    draft = answer(question, evidence, table_for(papers), threshold=0.3, max_sentences=4, weights=by_sentence_only)
    assert "StudioMix" not in draft.text and "BlendKiln" in draft.text


def test_the_thing_asked_for_is_quoted_even_where_the_title_holds_its_word():
    assert asked_things("What reward signals does KilnMix use, and which datasets are used?") == [
        "reward signals", "datasets"]
    assert asked_things("What is KilnMix, and what does it do?") == []
    paper = make_paper("KilnMix: Training Kiln Agents with Learned Rewards",
                       "We propose KilnMix, a way to train kiln agents for pottery studios. "
                       "Kiln agents trained with KilnMix fire more pots than hand-tuned schedules. "
                       "We design a glaze reward and a heat reward for each firing.")
    scorer, evidence = scorer_for(read("What rewards do KilnMix kiln agents train with?"), paper)
    chosen = [evidence.hits[1]]
    # "reward" is in the title, yet the title does not say which rewards: the sentence naming them is added.
    assert uncovered_terms(scorer, evidence.candidates[0], chosen) == {"reward"}
    assert [h.number for h in completing(scorer, evidence.candidates[0], chosen, room=1)] == [2]


WEIGHTS = ComposerSettings()


def test_a_question_on_a_topic_the_papers_lack_abstains_saying_which_words_no_paper_uses():
    question = read("Which papers forecast tomorrow's weather for pottery?")
    evidence = make_evidence(question, [(KILN, [axis(0), axis(1), axis(2)])])
    table = table_for([KILN])
    table.idf["kilnnet"] = 4.0  # a word few papers use
    far = 0.2
    evidence.candidates[0].dense = far
    assert off_topic_words(question, evidence, table, WEIGHTS) == ["forecast", "tomorrow", "weather"]
    draft = answer(question, evidence, table, threshold=0.3, max_sentences=4)
    assert draft.abstained and "weather" in draft.text and draft.citations == []
    # Near papers, or a work the papers name, make the unknown words ordinary ones.
    evidence.candidates[0].dense = 0.6
    assert off_topic_words(question, evidence, table, WEIGHTS) == []
    # Not far, not close: the unknown words say so only when one of them carries the question.
    evidence.candidates[0].dense = 0.5
    evidence.question_vector = axis(0)
    evidence.word_vectors = {"forecast": axis(1), "tomorrow": axis(2), "weather": axis(3)}
    assert off_topic_words(question, evidence, table, WEIGHTS) == []
    evidence.word_vectors["weather"] = axis(0) * 0.6 + axis(3) * 0.8
    assert off_topic_words(question, evidence, table, WEIGHTS) == ["forecast", "tomorrow", "weather"]
    evidence.word_vectors = {}
    evidence.candidates[0].dense = far
    evidence.works = {"KilnNet": evidence.candidates[0]}
    assert off_topic_words(question, evidence, table, WEIGHTS) == []
    evidence.works = {}
    # A name few papers use, which a top paper uses, keeps the question on the papers' topic (ordinary words such as
    # "biggest" are missing from abstracts too); a name every paper uses does not.
    named = read("Does any paper use KilnNet in the weather? Which one got the biggest gain?")
    evidence.names = ["KilnNet"]
    assert off_topic_words(named, evidence, table, WEIGHTS) == []
    common = SimpleNamespace(**{**vars(table), "idf": {**table.idf, "kilnnet": 0.1}})
    assert "biggest" in off_topic_words(named, evidence, common, WEIGHTS)
    evidence.names = []
    # A contraction is no topic word; a follow-up's own words are not its whole topic.
    assert off_topic_words(read("Which controller shouldn't use energy?"), evidence, table, WEIGHTS) == []
    follow_up = read("And does it know the weather?", history=[Turn("Which papers fire kilns?", "KilnNet fires kilns.")])
    assert follow_up.previous_question and off_topic_words(follow_up, evidence, table, WEIGHTS) == []


def test_quoted_titles_are_set_side_by_side_and_where_something_comes_from_asks_how_it_works():
    kiln, glaze = make_paper("Secrets of Kilns Part I: Heat", "We study kilns."), GLAZE
    works = {"Secrets of Kilns Part I": Candidate(kiln, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(glaze, 1.0, 0.6, 1.0)}
    question = read("How do 'Secrets of Kilns Part I' and GlazeGPT each keep the heat even?")
    assert side_by_side(question, works) == ["Secrets of Kilns Part I", "GlazeGPT"]
    # A gloss in brackets after the first name does not part the two.
    works = {"KilnNet": Candidate(KILN, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(glaze, 1.0, 0.6, 1.0)}
    question = read("What does each of KilnNet (the kiln controller) and GlazeGPT add to a studio?")
    assert side_by_side(question, works) == ["KilnNet", "GlazeGPT"]
    assert question_parts("How do KilnNet and GlazeGPT differ in where their recipes come from?")[0].wants_mechanism


def test_each_line_of_a_list_names_its_work_when_the_title_does_not():
    question = read("Which papers blend kiln controllers into one?")
    unnamed = make_paper("Blending Kiln Controllers Without Retraining",
                         "Kiln controllers can be blended into one controller for every studio. "
                         "This paper introduces BlendKiln (Balanced Kiln Blending), a way to weigh controllers.")
    evidence = make_evidence(question, [(unnamed, [axis(0), axis(1)])])
    draft = answer(question, evidence, table_for([unnamed]), threshold=0.3, max_sentences=4)
    assert "BlendKiln (Balanced Kiln Blending)" in draft.text
    papers = {unnamed.paper_id: unnamed}
    assert citation_problems(Answer("q", draft.text, draft.citations, [], False, "x"), papers) == []
    # A title that leads with a phrase, not a short name, does not name the work either.
    phrased = make_paper("Fire Slowly, Cool Slowly: Blending Kiln Controllers",
                         "Kiln controllers can be blended into one controller for every studio. "
                         "This paper introduces BlendKiln (Balanced Kiln Blending), a way to weigh controllers.")
    evidence = make_evidence(question, [(phrased, [axis(0), axis(1)])])
    assert "BlendKiln (Balanced Kiln Blending)" in answer(question, evidence, table_for([phrased]), threshold=0.3,
                                                          max_sentences=4).text


def test_the_names_that_answer_which_things_are_not_the_works_own_name():
    paper = make_paper("Offline Firing for Kilns",
                       "We propose OFK (Offline Firing for Kilns), an offline method. "
                       "It optimises the Arrhenius Equation of each glaze.")
    question = read("What is OFK, and what objective does it optimise?")
    evidence = make_evidence(question, [(paper, [axis(0)] * 2)])
    table = table_for([paper])
    table.idf, table.max_idf = {t: 5.0 for t in table.idf}, 5.0  # every word as rare as a name can be
    scorer = Scorer(question, evidence, table)
    assert [scorer.new_names(h) for h in evidence.hits] == [[], ["Arrhenius", "Equation"]]


def test_each_side_of_a_comparison_opens_with_what_the_work_is():
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "Kilns crack pots when heated unevenly. Uneven heat wastes fuel in every studio. "
                      "Studios deal with uneven heat by hand. "
                      "We propose KilnNet, a controller for pottery kilns. It reads thermocouples every second.")
    question = read("How do KilnNet and GlazeGPT each deal with uneven heat, what does it waste in studios, and why "
                    "do pots crack?")
    works = {"KilnNet": Candidate(kiln, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(GLAZE, 1.0, 0.6, 1.0)}
    evidence = make_evidence(question, [(kiln, [axis(0)] * 5), (GLAZE, [axis(0)] * 2)], works=works)
    # Three parts, each covered by a sentence of the problem: the line still keeps room for the introduction.
    draft = answer(question, evidence, table_for([kiln, GLAZE]), threshold=0.3, max_sentences=4)
    kiln_line = next(line for line in draft.text.splitlines() if "KilnNet: Firing" in line)
    assert "We propose KilnNet" in kiln_line


def test_one_work_set_against_an_approach_the_papers_only_mention_gets_a_comparison_line():
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "Hand-tuned schedules fire kilns step by step and react to each reading. "
                      "We propose KilnNet, a controller that plans the whole firing curve ahead. "
                      "KilnNet cuts fuel use by 31% on stoneware.")
    question = read("How does KilnNet differ from hand-tuned kiln schedules?")
    works = {"KilnNet": Candidate(kiln, 1.0, 0.6, 1.0)}
    # The sentence about the other approach is the most similar; the line says what KilnNet is and what it
    # achieves, not how the other approach works (the problem set out before KilnNet is introduced).
    evidence = make_evidence(question, [(kiln, [axis(0), axis(0) * 0.6 + axis(1) * 0.8, axis(2)])], works=works)
    draft = answer(question, evidence, table_for([kiln]), threshold=0.3, max_sentences=4)
    assert "We propose KilnNet, a controller that plans the whole firing curve ahead." in draft.text
    assert "KilnNet cuts fuel use by 31%" in draft.text and "react to each reading" not in draft.text


def test_one_work_set_against_a_named_approach_keeps_what_the_paper_says_that_approach_lacks():
    kiln = make_paper("Firing Kilns by Plan",
                      "Unlike a plan, KilnPID reacts to each reading and overshoots on stoneware. "
                      "We propose KilnPlan, a controller that plans the whole firing curve ahead. "
                      "KilnPlan cuts fuel use by 31% on stoneware.")
    question = read("How does KilnPlan differ from KilnPID?")
    works = {"KilnPlan": Candidate(kiln, 1.0, 0.6, 1.0), "KilnPID": Candidate(kiln, 1.0, 0.6, 1.0)}
    evidence = make_evidence(question, [(kiln, [axis(0), axis(0) * 0.6 + axis(1) * 0.8, axis(2)])], works=works)
    evidence.names = ["KilnPlan", "KilnPID"]
    draft = answer(question, evidence, table_for([kiln]), threshold=0.3, max_sentences=4)
    assert "KilnPID reacts to each reading" in draft.text and "We propose KilnPlan" in draft.text


def test_each_side_of_a_comparison_says_what_the_work_is_made_of_after_its_introduction():
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "Kilns crack pots when heated unevenly. "
                      "We propose KilnNet, a benchmark of kiln firing logs. "
                      "It holds 900 logs from twelve studios across three clay bodies. "
                      "Controllers tuned on it crack 20% fewer pots.")
    question = read("How do KilnNet and GlazeGPT differ in what they are?")
    works = {"KilnNet": Candidate(kiln, 1.0, 0.6, 1.0), "GlazeGPT": Candidate(GLAZE, 1.0, 0.6, 1.0)}
    # The results sentence is closest to the question; the one after the introduction says what KilnNet holds.
    evidence = make_evidence(question, [(kiln, [axis(2), axis(1), axis(3), axis(0)]), (GLAZE, [axis(0)] * 2)],
                             works=works)
    draft = answer(question, evidence, table_for([kiln, GLAZE]), threshold=0.3, max_sentences=4)
    kiln_line = next(line for line in draft.text.splitlines() if "KilnNet: Firing" in line)
    assert "We propose KilnNet" in kiln_line and "900 logs" in kiln_line


def test_a_request_in_the_first_person_asks_and_its_date_is_a_listing_field():
    parts = question_parts("How much fuel does KilnNet save? I'd like the average and the worst-case drop.")
    assert [p.text for p in parts] == ["How much fuel does KilnNet save", "I'd like the average and the worst-case drop"]
    assert all(p.wants_quantity for p in parts)
    assert read("The kiln white paper: how many authors does it list, and what is its date?").metadata_fields == \
        ["authors", "date"]
    assert question_parts("What is the kiln model called?")[0].wants_names
    # A bare field word joined to an asked field is asked too; alone it asks nothing of the listing.
    assert read("KilnNet listing: number of authors and date?").metadata_fields == ["authors", "date"]
    assert read("When was KilnNet listed, and which authors and studios built it?").metadata_fields == ["date", "names"]
    assert read("Which kiln papers are up to date?").metadata_fields == []


def test_a_model_size_the_question_states_must_be_in_the_paper_and_a_size_is_no_score():
    assert stated_sizes("How does the 7-billion-parameter KilnNet compare with the 70B one?") == {"7B", "70B"}
    assert stated_sizes("sizes from 13 billion to 70 billion parameters") == {"13B", "70B"}
    assert not has_figure("It beats 13B and 30B kiln models.", "What glaze score does it get")
    assert has_figure("It is a 13B kiln model.", "How large is the model")
    paper = make_paper("KilnLM: Language Models for Kilns",
                       "We train KilnLM in sizes from 13 billion to 70 billion parameters. "
                       "The 70B KilnLM recalls 91% of firing facts.")
    question = read("How well does the 7B KilnLM recall firing facts?")
    evidence = make_evidence(question, [(paper, [axis(0)] * 2)], works={"KilnLM": Candidate(paper, 1.0, 0.6, 1.0)})
    draft = answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=4)
    assert draft.abstained and "mentions no 7B model" in draft.text


def test_those_in_a_follow_up_refers_to_the_previous_answer():
    history = [Turn("What is KilnNet about?", "KilnNet is about firing schedules with two parts: a planner and a sensor.")]
    question = read("What was wrong with the usual way of training those two parts?", history)
    assert question.refers_to_previous and not question.restrict_to_previous
    question = read("Which of those is training-free?", history)
    assert question.restrict_to_previous


def test_a_sentence_naming_what_the_one_before_describes_is_quoted_with_it():
    paper = make_paper("Cooling Schedules for Stoneware",
                       "Stoneware cracks when kilns cool fast. "
                       "We cool the kiln in three slow ramps held at the quartz inversion. "
                       "We call this method RampCool. "
                       "RampCool halves the cracked pots.")
    question = read("What is RampCool?")
    evidence = make_evidence(question, [(paper, [axis(2), axis(1), axis(0), axis(3)])],
                             works={"RampCool": Candidate(paper, 1.0, 0.6, 1.0)})
    draft = answer(question, evidence, table_for([paper]), threshold=0.3, max_sentences=1)
    # "this method" is the three slow ramps: the sentence saying so comes with the name.
    assert "three slow ramps" in draft.text and "We call this method RampCool" in draft.text
    assert "Stoneware cracks" not in draft.text


def test_a_paper_called_by_its_title_words_is_the_subject_of_a_fact_question():
    slow = make_paper("Slow Cooling Schedules for Stoneware Kilns",
                      "Kilns crack pots. We propose slow cooling schedules for stoneware kilns. "
                      "On Raku-4 they save 12% energy.")
    other = make_paper("Glaze Prediction Networks",
                       "We predict glazes. On Raku-9 our networks save 30% energy in kilns.")
    question = read("What energy saving did the slow cooling approach for stoneware kilns report on Raku-9?")
    evidence = make_evidence(question, [(slow, [axis(0)] * 3), (other, [axis(0)] * 2)])
    evidence.names = ["Raku-9"]
    draft = answer(question, evidence, table_for([slow, other]), threshold=0.3, max_sentences=2)
    # The other paper's Raku-9 figure is no answer about the slow-cooling paper.
    assert draft.abstained and "30%" not in draft.text and "does not mention Raku-9" in draft.text
    # The title's words spread over a long question describe no one paper.
    spread = read("Which network, slow to train, predicts glazes for stoneware, and what energy do cooling kilns "
                  "save on Raku-9?")
    evidence = make_evidence(spread, [(slow, [axis(0)] * 3), (other, [axis(0)] * 2)])
    evidence.names = ["Raku-9"]
    assert "30%" in answer(spread, evidence, table_for([slow, other]), threshold=0.3, max_sentences=2).text


def test_a_figure_asked_of_a_numbered_model_comes_only_from_a_paper_naming_it():
    bench = make_paper("KilnBench 2: Harder Firing Tests",
                       "We introduce KilnBench 2, a harder firing benchmark. Models score 20 points lower on it "
                       "than on KilnBench.")
    question = read("What accuracy does Glaze-7B reach on KilnBench 2?")
    evidence = make_evidence(question, [(bench, [axis(0)] * 2)],
                             works={"KilnBench 2": Candidate(bench, 1.0, 0.6, 1.0)})
    evidence.names = ["Glaze-7B", "KilnBench 2"]
    draft = answer(question, evidence, table_for([bench]), threshold=0.3, max_sentences=2)
    assert draft.abstained and "Glaze-7B" in draft.text and "20 points" not in draft.text
    # The same figure asked of the benchmark itself is answered.
    question = read("How much lower do models score on KilnBench 2?")
    evidence = make_evidence(question, [(bench, [axis(0)] * 2)],
                             works={"KilnBench 2": Candidate(bench, 1.0, 0.6, 1.0)})
    evidence.names = ["KilnBench 2"]
    assert "20 points" in answer(question, evidence, table_for([bench]), threshold=0.3, max_sentences=2).text


def test_a_list_asking_what_each_contributes_adds_what_each_work_achieved():
    gas = make_paper("Gas Kilns in Stoneware", "We study stoneware kilns. We build a gas kiln controller for "
                     "stoneware. It cuts fuel use by 30% in stoneware firing.")
    wood = make_paper("Wood Kilns in Stoneware", "We study stoneware kilns. We build a wood kiln scheduler for "
                      "stoneware. It raises glaze quality by 12% in stoneware firing.")
    for question, expected in (("Which papers build stoneware kilns, and what does each contribute?", True),
                               ("Which papers build stoneware kilns?", False)):
        parsed = read(question)
        evidence = make_evidence(parsed, [(gas, [axis(1), axis(0), axis(2)]), (wood, [axis(1), axis(0), axis(2)])])
        # The model's one likeliest sentence: in a two-paper table every word is rare, and its further ones would
        # be the rest of these three-sentence abstracts.
        draft = answer(parsed, evidence, table_for([gas, wood]), threshold=0.3, max_sentences=4,
                       weights=ComposerSettings(likeliest_sentences=1))
        assert ("30%" in draft.text and "12%" in draft.text) is expected, question


def test_a_sentence_spelling_out_the_one_before_after_the_introduction_says_how_the_work_works():
    paper = make_paper("KilnNet: Self-Taught Firing",
                       "Specifically, kilns waste fuel. We propose KilnNet, a kiln controller. "
                       "More specifically, the kiln learns from its own previous firings. "
                       "More specifically, KilnNet cuts fuel use by 30%. "
                       "This is achieved using a reward that outperforms fixed schedules.")
    question = read("How does KilnNet learn?")
    evidence = make_evidence(question, [(paper, [axis(0)] * 5)])
    scorer = Scorer(question, evidence, table_for([paper]))
    candidate = evidence.candidates[0]
    described = [scorer.describes_work(h, candidate) for h in sorted(evidence.hits, key=lambda h: h.number)]
    # Before the introduction it sets out the problem; a figure is a result, not how it works.
    assert described == [False, False, True, False, True]


def test_a_follow_up_about_the_one_paper_the_conversation_fixed_needs_only_cover_a_part():
    history = [{"question": "Which paper builds a kiln controller?", "answer": "KilnNet: Firing Schedules for Ceramics."}]
    question = read("What did they build on top of it?", history)
    previous = [Candidate(KILN, 1.0, 0.6, 1.0)]
    evidence = make_evidence(question, [(KILN, [axis(0)] * 3)], previous=previous)
    best = Scorer(question, evidence, table_for([KILN])).for_question()[0].score
    # A threshold just above the best sentence's score: the fixed paper still answers the follow-up …
    draft = answer(question, evidence, table_for([KILN]), threshold=best / 0.95, max_sentences=2)
    assert not draft.abstained and draft.citations[0].paper_id == KILN.paper_id
    # … which the same words without the conversation do not.
    alone = read("What did they build on top of it?")
    evidence = make_evidence(alone, [(KILN, [axis(0)] * 3)])
    assert answer(alone, evidence, table_for([KILN]), threshold=best / 0.95, max_sentences=2).abstained


def test_a_quote_leaves_out_the_framing_its_sentence_opens_with_unless_the_question_asks_about_it():
    opening = "To cope with these cracking problems, we propose KilnNet, a controller for pottery kilns."
    assert opening[framing_length(opening, set()):] == "we propose KilnNet, a controller for pottery kilns."
    assert framing_length(opening, set(terms("What cracking problems does KilnNet cope with?"))) == 0
    for kept in ("Although glazes crack, KilnNet fires them.", "In Rakuworld, KilnNet fires 40 pots.",
                 "KilnNet, a controller, fires pots.", "For 12 kilns, the schedule halves energy use."):
        assert framing_length(kept, set()) == 0, kept
    kiln = make_paper("KilnNet: Firing Schedules for Ceramics",
                      "Kilns waste energy. Specifically, our controller lowers energy use by 31% on stoneware.")
    question = read("How much energy does KilnNet save?")
    draft = answer(question, make_evidence(question, [(kiln, [axis(1), axis(0)])],
                                           works={"KilnNet": Candidate(kiln, 1.0, 0.6, 1.0)}),
                   table_for([kiln]), threshold=0.3, max_sentences=2)
    (citation,) = draft.citations
    assert citation.quote == "our controller lowers energy use by 31% on stoneware."
    assert citation.quote in kiln.abstract and "Specifically" not in draft.text
    assert "…our controller lowers energy use by 31% on stoneware. [1]" in draft.text  # the cut is shown


def test_a_list_ranks_the_papers_meeting_its_condition_first():
    def candidate(paper_id: str) -> SimpleNamespace:
        return SimpleNamespace(paper=SimpleNamespace(paper_id=paper_id))

    ranked = [candidate(p) for p in ("glaze", "kiln", "raku")]
    meeting = [candidate(p) for p in ("raku", "slip")]
    assert [c.paper.paper_id for c in conditions_first(ranked, meeting)] == ["raku", "slip", "glaze", "kiln"]
    assert conditions_first(ranked, []) == ranked


def test_a_part_gives_up_its_best_sentence_to_a_part_that_has_no_other():
    paper = make_paper("Burrow: Tracking Moles in Garden Footage",
                       "Trackers lose moles in 60% of the clips that garden cameras hold. "
                       "We introduce Burrow, a benchmark of 240 tracking clips from garden cameras. "
                       "Trackers tuned on Burrow clips beat the older baseline by 9 points on garden clips. "
                       "Gardeners labelled every clip.")
    question = read("How many clips does Burrow hold, and by how much do tuned trackers beat the baseline?")
    results = axis(0) * 0.95 + axis(1) * np.sqrt(1 - 0.95 ** 2)
    evidence = make_evidence(question, [(paper, [axis(0) * 0.3 + axis(3) * np.sqrt(1 - 0.09),
                                                 axis(0) * 0.85 + axis(2) * np.sqrt(1 - 0.85 ** 2), results, axis(3)])])
    table = table_for([paper])
    scorer = Scorer(question, evidence, table)
    first, second = ([(s.hit.number, s.score) for s in scorer.for_part(i, paper.paper_id)] for i in (0, 1))
    # Both parts rank the results sentence first; for the count, the introduction scores nearly as well; for the
    # gain, only the results sentence and the problem's "60%" clear the floor (0.9 x 0.6).
    assert [n for n, _ in first[:2]] == [2, 1] and first[1][1] >= 0.85 * first[0][1]
    assert [n for n, score in second if score >= 0.54] == [2, 0] and scorer.sets_problem(evidence.hits[0])
    sentences, missing = covering_sentences(scorer, evidence.candidates[0], threshold=0.6, max_sentences=4)
    assert sorted(h.number for h in sentences) == [1, 2] and missing == []
    draft = answer(question, evidence, table, threshold=0.6, max_sentences=4)
    assert "240 tracking clips" in draft.text and "9 points" in draft.text and "60%" not in draft.text
    # A part does not give its sentence up for one under the share of its best...
    keeping = Scorer(question, evidence, table, ComposerSettings(part_yield_share=1.0))
    sentences, _ = covering_sentences(keeping, evidence.candidates[0], threshold=0.6, max_sentences=4)
    assert [h.number for h in sentences] == [2]
    # ... nor for the problem the abstract sets out before its work, however well that scores.
    evidence.hits[0].vector, evidence.hits[1].vector = axis(0), axis(0) * 0.3 + axis(2) * np.sqrt(1 - 0.09)
    lenient = Scorer(question, evidence, table, ComposerSettings(part_yield_share=0.8))
    first = [(s.hit.number, s.score) for s in lenient.for_part(0, paper.paper_id)]
    assert first[0][0] == 2 and first[1][0] == 0 and first[1][1] >= 0.8 * first[0][1]
    sentences, _ = covering_sentences(lenient, evidence.candidates[0], threshold=0.6, max_sentences=4)
    assert [h.number for h in sentences] == [2]


LOOMWISE = make_paper("Loomwise: Planning Rug Weaving",
                      "Hand weavers plan rug patterns by trial and error. "
                      "We propose Loomwise, a planner for weaving rug patterns on hand looms. "
                      "Loomwise splits a pattern into rows and assigns each row a shed sequence with a small search. "
                      "In a study with twelve weavers, Loomwise cuts weaving time by 25%. "
                      "A cost model inside Loomwise ranks the shed sequences by their treadle changes.")


def answer_naming(paper: Paper, name: str, question: str, sentence_axes: list, **settings) -> Draft:
    """The answer from one paper to a question naming its work, each sentence on the vector given."""
    parsed = read(question)
    evidence = make_evidence(parsed, [(paper, sentence_axes)], works={name: Candidate(paper, 1.0, 0.6, 1.0)})
    evidence.names = [name]
    return answer(parsed, evidence, table_for([paper]), threshold=0.3, max_sentences=4, **settings)


def test_how_a_named_work_does_something_quotes_how_it_works_never_another_result():
    question = "How does Loomwise plan the weaving of a rug pattern on a hand loom?"
    sentence_axes = [axis(1), axis(0), axis(0), axis(3), axis(2)]
    plain = answer_naming(LOOMWISE, "Loomwise", question, sentence_axes,
                          weights=ComposerSettings(likeliest_sentences=0))
    draft = answer_naming(LOOMWISE, "Loomwise", question, sentence_axes)
    abstract = LOOMWISE.abstract
    added = [abstract[slice(*s)] for s in sentence_spans(abstract)
             if abstract[slice(*s)] in draft.text and abstract[slice(*s)] not in plain.text]
    assert added and all("%" not in sentence for sentence in added)
    assert sum(len(c.quote.split()) for c in draft.citations) <= ComposerSettings().mechanism_words + 20


def test_a_question_asking_several_things_adds_the_sentence_the_model_ranks_likeliest():
    paper = make_paper("Quillo: Grading Calligraphy Strokes",
                       "Calligraphy teachers grade strokes by eye. "
                       "We introduce Quillo, a grader for brush calligraphy that scores stroke order and pressure. "
                       "Quillo was trained on 8,400 strokes from forty students. "
                       "It agrees with teachers on 91% of grades. "
                       "Quillo also flags strokes whose pressure drifts within a character.")
    last = "Quillo also flags strokes whose pressure drifts within a character."
    model = SentenceModel({"last": 10.0})  # a model that ranks an abstract's last sentence likeliest

    def quoted(question: str, **weights) -> str:
        return answer_naming(paper, "Quillo", question, [axis(3), axis(2), axis(0), axis(1), axis(3)], model=model,
                             weights=ComposerSettings(**weights)).text

    two = "How many strokes was Quillo trained on, and how often does it agree with teachers?"
    assert "8,400" in quoted(two) and "91%" in quoted(two) and last in quoted(two)
    assert last not in quoted(two, likeliest_sentences=0)
    # A question asking one thing gets what it asks, nothing more.
    assert last not in quoted("How many strokes was Quillo trained on?")


def test_what_a_named_work_is_asked_beside_more_quotes_how_it_works_too():
    how = "Loomwise splits a pattern into rows and assigns each row a shed sequence with a small search."
    model = SentenceModel({"position": 10.0})  # a model that ranks an abstract's later sentences likelier

    def text(question: str) -> str:
        return answer_naming(LOOMWISE, "Loomwise", question, [axis(1), axis(0), axis(2), axis(0), axis(3)],
                             model=model).text

    # Two parts, so answered as a fact: "What is Loomwise" still gets the sentences on how it works.
    assert how in text("What is Loomwise, and how many weavers tried it?")
    # Asked only figures of it, the answer quotes the figures (and the model's one likeliest sentence).
    assert how not in text("How many weavers tried Loomwise, and by how much did it cut weaving time?")
