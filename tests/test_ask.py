"""`retrieve` and `ask` on the real index: facts with the right citation, abstention, filters, bad input."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from rag import Answer, Filters, QuestionError
from rag.types import FilterError, checked_k
from rag.assistant import Assistant
from rag.config import PROJECT_ROOT
from rag.evaluation import citation_problems
from rag.index import MissingIndexError
from rag.names import mentions, question_names
from rag.query import filters_in_words

CUDA = "CUDA-LLM: LLMs Can Write Efficient CUDA Kernels"
LSERVE = "LServe: Efficient Long-sequence LLM Serving with Unified Sparse Attention"
LOCRET = "Locret: Enhancing Eviction in Long-Context LLM Inference with Trained Retaining Heads"


def cited_titles(answer: Answer) -> list[str]:
    return [c.title for c in answer.citations]


def assert_citations_valid(assistant, answer: Answer):
    assert citation_problems(answer, assistant.index.papers) == []
    # Abstract quotes carry their place in the abstract, so a reader highlights them without searching.
    assert all(c.start is not None for c in answer.citations if c.field == "abstract")
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.number for c in answer.citations}


def test_specific_fact_comes_back_with_its_citation(assistant):
    answer = assistant.ask("How much faster than human-written code are the GPU kernels that LLMs generate?")
    assert not answer.abstained
    assert cited_titles(answer)[0] == CUDA
    assert "179" in answer.text
    assert answer.citations[0].quote in assistant.index.papers[answer.citations[0].paper_id].abstract
    assert_citations_valid(assistant, answer)
    assert answer.backend == "extractive" and set(answer.timings) >= {"retrieve", "answer", "total"}


def test_question_about_several_papers_cites_several(assistant):
    answer = assistant.ask("Which papers reduce the memory used by the KV cache in long-context inference?")
    assert not answer.abstained
    assert {LSERVE, LOCRET} <= set(cited_titles(answer))
    assert_citations_valid(assistant, answer)


def test_a_which_paper_question_whose_condition_several_papers_meet_lists_them(assistant):
    # Four papers put agents in Minecraft: asked "which paper", the answer names them all, not the first found.
    answer = assistant.ask("Which paper runs its agents in Minecraft?")
    cited = {c.paper_id for c in answer.citations}
    assert len(cited) >= 3 and all(mentions("Minecraft", assistant.index.papers[p].abstract) for p in cited)
    assert_citations_valid(assistant, answer)
    # A question naming a paper's own work asks about that paper alone.
    assert {c.title for c in assistant.ask("Which paper proposes Locret?").citations} == {LOCRET}


def test_a_benchmark_spelled_out_finds_the_papers_that_write_only_its_acronym(assistant):
    answer = assistant.ask("Which papers evaluate on BIG-Bench Hard?")
    greater = "GReaTer: Gradients over Reasoning Makes Smaller Language Models Strong Prompt Optimizers"
    assert "BIG-Bench Hard" not in assistant.index.papers[next(p.paper_id for p in assistant.index.papers.values()
                                                               if p.title == greater)].abstract
    assert greater in cited_titles(answer)


def test_a_definition_says_how_the_work_works_beside_what_it_is(assistant):
    answer = assistant.ask("Tell me what Directional Stimulus Prompting is.")
    assert "We introduce Directional Stimulus Prompting" in answer.text and "instance-specific hints" in answer.text
    assert_citations_valid(assistant, answer)


def test_a_comparison_side_typed_as_its_titles_words_is_that_paper(assistant):
    # "group think" is two ordinary words no BM25 ranking singles out; as a side of the comparison it is the title
    # "Group Think: …". One ordinary word that leads no title is no side ("gas").
    answer = assistant.ask("how do group think and hogwild inference differ in sharing partial work?")
    titles = set(cited_titles(answer))
    assert any(t.startswith("Group Think:") for t in titles) and any(t.startswith("Hogwild!") for t in titles)
    assert_citations_valid(assistant, answer)
    # "Compare A with B": BM25 cannot single out "Language to Rewards" (common words); its title can.
    titles = set(cited_titles(assistant.ask("Compare language to rewards with ICPL.")))
    assert "Language to Rewards for Robotic Skill Synthesis" in titles and len(titles) == 2


def test_metadata_question_cites_the_listing(assistant):
    answer = assistant.ask("How many authors wrote the paper on LLMs writing efficient CUDA kernels?")
    assert answer.citations[0].title == CUDA
    assert answer.citations[0].field == "authors" and answer.citations[0].quote == "5 authors"
    assert "5 authors" in answer.text
    assert_citations_valid(assistant, answer)


@pytest.mark.parametrize("question", [
    "How does Toolformer teach a model to call APIs?",           # absent, while ToolLLM and ToolRL are present
    "What does Orca 2 teach small language models?",             # absent, while Orca is present
    "What is a good recipe for spaghetti carbonara?",
    "Which papers predict earthquakes from seismograph readings?",  # a topic no paper has words for
    # Papers near enough to pass a similarity bound, but a word no paper uses carries the question.
    "Which papers generate piano music with diffusion models?",
    "Which papers train language models with federated learning on phones?",
])
def test_unanswerable_questions_abstain_with_suggestions(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained
    assert answer.citations == []
    assert "don't seem to answer" in answer.text
    assert answer.sources  # the closest papers are still offered


def test_a_word_no_paper_uses_that_does_not_carry_the_question_does_not_make_it_abstain(assistant):
    answer = assistant.ask("Which paper has agents shopping on simulated web shops with tree search?")
    assert not answer.abstained and "Tree Search for Language Model Agents" in cited_titles(answer)


def test_every_answer_has_valid_citations(assistant):
    for question in ["What is Hogwild! inference?", "Which papers use Minecraft as a testbed?",
                     "When was the paper about TÜLU 3 published?", "What benchmark did tau^2-bench introduce?"]:
        assert_citations_valid(assistant, assistant.ask(question))


def test_retrieve_returns_one_source_per_paper(assistant):
    sources = assistant.retrieve("KV cache eviction for long-context inference", k=10)
    assert len(sources) == 10
    assert len({s.paper_id for s in sources}) == 10
    assert LOCRET in [s.title for s in sources[:3]]
    assert sources == sorted(sources, key=lambda s: -s.score)


def test_filters_apply_to_both_retrievers(assistant):
    filters = Filters(date_from="2024-01-01", date_to="2024-12-31", min_upvotes=1)
    sources = assistant.retrieve("reinforcement learning for language model agents", k=10, filters=filters)
    assert sources
    assert all(s.date.startswith("2024") and s.upvotes >= 1 for s in sources)
    many = assistant.retrieve("language model agents", k=10, filters=Filters(min_authors=20))
    index = assistant.index
    assert many and all(index.papers[s.paper_id].authors >= 20 for s in many)


def test_filters_that_leave_too_few_papers_say_how_many_match(assistant):
    papers = assistant.index.papers.values()
    # Locret's paper is named, but it is outside the filter: it is not looked up around it.
    none = assistant.ask("How much does Locret compress the KV cache?", filters=Filters(date_from="2030-01-01"))
    assert none.abstained and not none.citations
    assert "0 of 314 papers match the filters (dated 2030-01-01 or later)" in none.text
    assert none.matching == 0 and none.filters.labels() == {"date_from": "from 2030-01-01"}
    top = max(p.upvotes or 0 for p in papers)
    few = sum((p.upvotes or 0) >= top for p in papers)
    answer = assistant.ask("Which papers train language model agents?", filters=Filters(min_upvotes=top))
    assert f"{few} of 314 papers match the filters (at least {top} upvotes)." in " ".join(answer.notes + [answer.text])
    assert answer.citations and all(assistant.index.papers[c.paper_id].upvotes >= top for c in answer.citations)
    assert not assistant.ask("Which papers train language model agents?").notes  # no filter, no note


def test_constraints_in_the_question_become_filters(assistant):
    assert filters_in_words("papers from 2024 with more than 10 authors") == Filters(
        date_from="2024-01-01", date_to="2024-12-31", min_authors=11)
    assert filters_in_words("work before 2020").date_to == "2019-12-31"
    answer = assistant.ask("Which papers from 2023 study web agents?", filters=Filters(min_upvotes=1))
    assert answer.sources and all(s.date.startswith("2023") for s in answer.sources)
    # The answer says which filters it searched with, and which of them the question set.
    assert answer.question_filters.labels() == {"date_from": "from 2023-01-01", "date_to": "until 2023-12-31"}
    assert answer.filters.labels() == {**answer.question_filters.labels(), "min_upvotes": "≥ 1 upvote"}
    assert answer.matching == sum(answer.filters.admits(p) for p in assistant.index.papers.values()) > 0
    assert answer.filters.without("min_upvotes") == answer.question_filters


def test_follow_up_is_resolved_with_history(assistant):
    history = [{"question": "Which papers reduce KV-cache memory for long-context inference?",
                "answer": "LServe and Locret."}]
    answer = assistant.ask("And which of those trains retaining heads?", history=history)
    assert not answer.abstained
    assert cited_titles(answer)[0] == LOCRET


@pytest.mark.parametrize("earlier_question, earlier_answer, follow_up, title", [
    # The previous answer names MASH, which only the abstract of "Pay-Per-Search Models …" introduces; the
    # compound "Help-seeking" names no work ("Does Sparsity Help …" is another paper).
    ("Tell me about MASH.", "MASH (Modeling Abstention via Selective Help-seeking) makes a model pay for each web "
     "search, so it learns to hold back.", "On how many datasets was it evaluated?",
     "Pay-Per-Search Models are Abstention Models"),
    # The previous answer names no paper; its words find the rewriting paper ("baselines … beat" are Agent Q's too).
    ("Has anyone used RL to make rude forum arguments more civil?", "Yes: an approach that rewrites inappropriate "
     "arguments with an LLM policy trained from classifier feedback.", "Which baselines does it beat?",
     "LLM-based Rewriting of Inappropriate Argumentation using Reinforcement Learning from Machine Feedback"),
], ids=["named-by-its-work", "described-not-named"])
def test_a_follow_up_about_it_is_answered_from_the_paper_the_previous_answer_means(assistant, earlier_question,
                                                                                    earlier_answer, follow_up, title):
    answer = assistant.ask(follow_up, history=[{"question": earlier_question, "answer": earlier_answer}])
    assert not answer.abstained
    assert cited_titles(answer) == [title]


def test_a_follow_up_on_an_answer_that_found_nothing_abstains(assistant):
    history = [{"question": "Is there a paper on predicting protein structures?",
                "answer": "No, none of the indexed papers cover protein folding."}]
    answer = assistant.ask("What accuracy did it reach?", history=history)
    assert answer.abstained and "The previous answer found no paper on this" in answer.text


def test_a_name_whose_words_are_common_finds_the_paper_its_title_leads_with(assistant):
    # BM25 on "agent" (the "Q" is too short to be a term) ranks dozens of agent papers before "Agent Q: …";
    # the title's lead finds it, so the answer does not claim that no paper mentions Agent Q.
    answer = assistant.ask("Set Agent Q beside the step-level Q-value paper: how much does each improve its agent?")
    assert not answer.abstained and "Agent Q" not in " ".join(answer.notes)
    assert "Agent Q: Advanced Reasoning and Learning for Autonomous AI Agents" in cited_titles(answer)


def test_a_work_described_beside_a_named_one_is_answered_side_by_side(assistant):
    answer = assistant.ask("What about Agent Q and the Q-value models for step-level decisions, what gains do "
                           "they each claim?")
    assert set(cited_titles(answer)) >= {"Agent Q: Advanced Reasoning and Learning for Autonomous AI Agents",
                                         "Enhancing Decision-Making for LLM Agents via Step-Level Q-Value Models"}
    assert len(answer.text.splitlines()) >= 2 and all(line.startswith("- “") for line in answer.text.splitlines())


def test_two_described_works_are_answered_side_by_side(assistant):
    answer = assistant.ask("Compare the study that asks if a tiny 1B model can beat a 405B one with the work that "
                           "casts compute-optimal test-time scaling as optimising a graph.")
    assert set(cited_titles(answer)) == {"Can 1B LLM Surpass 405B LLM? Rethinking Compute-Optimal Test-Time Scaling",
                                         "Generalizing Test-time Compute-optimal Scaling as an Optimizable Graph"}
    assert len(answer.text.splitlines()) == 2 and all(line.startswith("- “") for line in answer.text.splitlines())


def test_an_organisation_the_listing_names_is_no_missing_work(assistant):
    # No abstract says "Meta AI"; the paper's listing does (its organisation line).
    answer = assistant.ask("Which hierarchical knowledge benchmark did the Meta AI paper on RL and knowledge "
                           "traversal use?")
    assert not answer.abstained and "MedConceptsQA" in answer.text
    assert set(cited_titles(answer)) == {"Reinforcement Learning Improves Traversal of Hierarchical Knowledge in LLMs"}


def test_a_work_the_corpus_lacks_beside_one_it_has_is_said_to_be_missing_not_abstained_on(assistant):
    # "Anthropic's": whose work it is, not a work asked about; Hyena is in no paper.
    owned = assistant.ask("Put Locret next to Anthropic's 'Hyena' model: what does each do about long-context memory?")
    assert not owned.abstained and cited_titles(owned)[0] == LOCRET
    assert owned.text.splitlines()[-1] == "Not in the indexed papers: Hyena."
    # The present work described, not named: its description finds it.
    described = assistant.ask("Hyena vs the paper that frees the KV cache by evicting units with trained retaining "
                              "heads — what does each claim?")
    assert not described.abstained and set(cited_titles(described)) == {LOCRET}
    assert described.text.splitlines()[-1] == "Not in the indexed papers: Hyena."
    assert_citations_valid(assistant, described)


def test_a_side_given_in_the_words_of_a_title_is_that_paper(assistant):
    answer = assistant.ask("How does ZeroSearch compare with adaptive prompting for more effective reasoning?")
    assert cited_titles(answer)[0] == "ZeroSearch: Incentivize the Search Capability of LLMs without Searching"
    assert "Think Beyond Size: Adaptive Prompting for More Effective Reasoning" in cited_titles(answer)
    assert len(answer.text.splitlines()) == 2 and all(line.startswith("- “") for line in answer.text.splitlines())


def test_what_a_term_many_papers_use_is_comes_from_the_papers_that_say_what_it_is(assistant):
    # No paper introduces RLHF; several spell it out or say what it is.
    answer = assistant.ask("What is RLHF?")
    assert not answer.abstained and len({c.paper_id for c in answer.citations}) == 2
    assert all(re.search(r"human feedback \(RLHF\)|RLHF\)? (?:is|has become)", c.quote, re.IGNORECASE)
               for c in answer.citations)
    assert_citations_valid(assistant, answer)


def test_a_name_spelled_by_the_capitals_of_a_title_finds_that_paper(assistant):
    # No text says "InfoPower"; the title "INFOrmation Prioritization through EmPOWERment …" spells it.
    answer = assistant.ask("How does InfoPower keep visual distractors out of its learned model?")
    assert not answer.abstained
    assert cited_titles(answer) == ["INFOrmation Prioritization through EmPOWERment in Visual Model-Based RL"]


def test_a_work_named_by_its_titles_words_with_others_between_is_no_missing_work(assistant):
    # "RLHF Part I" is in no text as such; the title "Secrets of RLHF in Large Language Models Part I: PPO" is.
    answer = assistant.ask("What do the RLHF Part I and Part II reports each study?")
    assert not answer.abstained and "Not in the indexed papers" not in answer.text
    assert {t.split(":")[-1].strip() for t in cited_titles(answer)} >= {"PPO", "Reward Modeling"}


def test_a_short_form_the_question_spells_out_is_that_work_though_no_paper_uses_it(assistant):
    # No abstract says "DSP"; the question spells it out, so it is not a missing work.
    answer = assistant.ask("About Directional Stimulus Prompting: how many MultiWOZ dialogues did DSP need to lift "
                           "ChatGPT, and by how much?")
    assert not answer.abstained and "41.4%" in answer.text
    assert cited_titles(answer) == ["Guiding Large Language Models via Directional Stimulus Prompting"]


def test_filters_from_user_inputs():
    filters = Filters.from_inputs("2024", "2024-02", 5)
    assert (filters.date_from, filters.date_to, filters.min_upvotes) == ("2024-01-01", "2024-02-29", 5)
    assert filters.in_words() == "Only papers dated 2024-01-01 to 2024-02-29 and at least 5 upvotes."
    assert Filters.from_inputs("", "2023-05", None).in_words() == "Only papers dated 2023-05-31 or earlier."
    assert Filters.from_inputs("", None, None).is_empty()
    assert Filters.from_inputs(" ", "", 0).is_empty()
    for args, message in [(("2024-13", "", None), "not a valid date"), (("yesterday", "", None), "not a date"),
                          (("2025", "2024", None), "after"), (("", "", -1), "negative")]:
        with pytest.raises(FilterError, match=message):
            Filters.from_inputs(*args)
    with pytest.raises(FilterError):
        checked_k(0, 8)
    assert checked_k(None, 8) == 8


@pytest.mark.parametrize("question, message", [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * 100_000, "limit is"), ("?!...", "no words"), (b"\xff\xfe", "UTF-8"),
])
def test_bad_questions_get_a_clear_error(assistant, question, message):
    with pytest.raises(QuestionError, match=message):
        assistant.ask(question)


def test_control_characters_are_cleaned(assistant):
    answer = assistant.ask("Which paper\x00 writes CUDA\x07 kernels with LLMs?")
    assert cited_titles(answer)[0] == CUDA


def test_missing_index_says_run_ingest(small_settings):
    with pytest.raises(MissingIndexError, match="rag ingest"):
        Assistant(small_settings).ask("anything about agents?")


def test_ask_stream_yields_text_then_the_answer(assistant):
    stream = assistant.ask_stream("Which papers reduce KV-cache memory, and by how much?")
    deltas = list(stream)
    assert isinstance(stream.answer, Answer) and "".join(deltas) == stream.answer.text
    # A list answer arrives a line (an item) at a time, never as a lone "-".
    assert len(deltas) == stream.answer.text.count("\n") + 1 - stream.answer.text.endswith("\n") > 1
    assert all(d.strip() not in {"-", ""} for d in deltas)
    assert list(stream) == []  # a stream is read once


def test_ask_stream_answer_finishes_an_unread_stream_and_bad_input_raises_at_once(assistant):
    assert "179" in assistant.ask_stream("How much faster are LLM-written CUDA kernels?").answer.text
    with pytest.raises(QuestionError):
        assistant.ask_stream("   ")  # before any text is streamed


def test_cli_ask_json_and_errors(built_settings):
    env = {"RAG_DATA_DIR": str(built_settings.data_dir), "PATH": "", "HF_HUB_OFFLINE": "1"}
    run = lambda *args: subprocess.run([sys.executable, "-m", "rag.cli", "ask", *args], capture_output=True,
                                       text=True, env=env, cwd=PROJECT_ROOT, timeout=120)
    result = run("How much faster are LLM-written CUDA kernels?")
    assert result.returncode == 0, result.stderr
    assert "References" in result.stdout and "[1] CUDA-LLM" in result.stdout
    result = run("   ")
    assert result.returncode == 2 and "error: The question is empty" in result.stderr and "Traceback" not in result.stderr
    result = run("agents?", "--from", "2024-02", "--to", "2023")  # the app's date forms, the app's messages
    assert result.returncode == 2 and "is after the to date" in result.stderr and "Traceback" not in result.stderr
    missing = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "agents?"], capture_output=True, text=True,
                             env={**env, "RAG_DATA_DIR": str(built_settings.data_dir / "nowhere")}, cwd=PROJECT_ROOT)
    assert missing.returncode == 2 and "rag ingest" in missing.stderr


def test_cli_ask_into_a_reader_that_stops_reading_ends_quietly(built_settings):
    env = {"RAG_DATA_DIR": str(built_settings.data_dir), "PATH": "", "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "rag.cli", "ask", "How much faster are LLM-written CUDA kernels?"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=PROJECT_ROOT)
    process.stdout.close()  # `rag ask … | head -0`: the reader is gone before the answer is printed
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141 and "Traceback" not in stderr, stderr


def test_names_with_accents_are_names_in_either_spelling():
    assert question_names("How many GPU hours did Tülu 3 take to train?") == ["GPU", "Tulu 3"]
    assert mentions("Tulu 3", "We release TÜLU 3.") and mentions("TÜLU 3", "tulu-3 is open")
    assert not mentions("Tulu 3", "We release TÜLU 2.")


# --- composed answers on the real index (phrasings written for these tests, in no eval file) -------------

MAP_ELITES = "Illuminating search spaces by mapping elites"
SUMMARIZE = "Learning to summarize from human feedback"


def test_a_two_part_question_gets_both_facts(assistant):
    answer = assistant.ask("What does Tutor CoPilot cost per tutor each year, and how many students took part "
                           "in its trial?")
    assert not answer.abstained and "$20" in answer.text and "1,800" in answer.text
    assert_citations_valid(assistant, answer)


def test_two_named_works_are_compared_one_line_each(assistant):
    answer = assistant.ask("Compare GRPO-CARE with SophiaVL-R1.")
    lines = answer.text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("- “GRPO-CARE") and lines[1].startswith("- “SophiaVL-R1")
    assert_citations_valid(assistant, answer)


def test_a_compared_work_missing_from_the_corpus_is_named(assistant):
    answer = assistant.ask("How does Locret compare with StreamingLLM?")
    assert not answer.abstained and cited_titles(answer)[0] == LOCRET
    assert answer.text.splitlines()[-1] == "Not in the indexed papers: StreamingLLM."


def test_a_list_question_cites_every_paper_with_its_figure(assistant):
    answer = assistant.ask("Which papers cut KV-cache memory, and by how much?")
    assert {LSERVE, LOCRET} <= set(cited_titles(answer))
    assert "20x" in answer.text and all(line.startswith("- “") for line in answer.text.splitlines())
    assert_citations_valid(assistant, answer)


def test_a_list_with_a_condition_reads_every_paper_that_mentions_it(assistant):
    papers = assistant.index.papers.values()
    mentioning = {p.title for p in papers if mentions("ALFWorld", f"{p.title} {p.abstract}")}
    answer = assistant.ask("Which papers report experiments on ALFWorld?")
    assert len(mentioning) >= 3 and set(cited_titles(answer)) == mentioning
    assert_citations_valid(assistant, answer)


def test_a_list_with_a_condition_ranks_the_papers_that_mention_it_first(assistant):
    # Four abstracts mention ALFWorld once each; the question's other words ("name", "run") find other papers.
    papers = assistant.index.papers.values()
    mentioning = {p.paper_id for p in papers if mentions("ALFWorld", f"{p.title} {p.abstract}")}
    question = "Name the papers whose agents run on ALFWorld."
    retrieved = [s.paper_id for s in assistant.retrieve(question, k=8)]
    answered = [s.paper_id for s in assistant.ask(question).sources]
    assert len(mentioning) == 4 and set(retrieved[:4]) == set(answered[:4]) == mentioning
    # A question that is not a list keeps the fused ranking.
    single = "Is ALFWorld harder than WebShop for an agent?"
    fused = [c.paper.paper_id for c in assistant.index.search(single, k=8)]
    assert [s.paper_id for s in assistant.retrieve(single, k=8)] == fused and set(fused[:4]) != mentioning


def test_which_of_those_answers_none_when_no_earlier_paper_qualifies(assistant):
    history = [{"question": "Which papers cut KV-cache memory?", "answer": "LServe and Locret."}]
    answer = assistant.ask("Which of those trains a web agent with reinforcement learning?", history=history)
    assert answer.abstained and "None of the papers of the previous answer" in answer.text
    assert "LServe" in answer.text and "Locret" in answer.text


def test_another_version_of_a_known_work_is_not_answered_from_it(assistant):
    answer = assistant.ask("What is new in Locret 2?")
    assert answer.abstained and "Locret 2" in answer.text


def test_a_name_typed_without_its_separators_is_the_papers_name(assistant):
    # The paper writes GPT-4o; users type GPT4o. Before: "None of them mentions GPT4o."
    answer = assistant.ask("Using a GPT4o agent, which success rate does inference-time tree search set on "
                           "VisualWebArena?")
    assert not answer.abstained and "26.4%" in answer.text, answer.text


def test_a_name_typed_in_lower_case_is_the_paper_that_name_leads(assistant):
    # The title writes B-STaR; before, "bstar" was a word no paper uses and the answer abstained.
    answer = assistant.ask("in a sentence, what is bstar about?")
    assert not answer.abstained and answer.citations[0].title.startswith("B-STaR:"), answer.text


@pytest.mark.parametrize("place, title", [("second", "PRompt Optimization in Multi-Step Tasks (PROMST)"),
                                          ("first", "PromptAgent")])
def test_the_second_one_is_the_second_paper_the_previous_answer_named(assistant, place, title):
    history = [{"question": "Any papers that optimise prompts with search or planning?",
                "answer": "Two: PromptAgent, which plans prompt edits with Monte Carlo tree search, and PROMST, which "
                          "adds human-designed feedback rules for multi-step tasks."}]
    answer = assistant.ask(f"On how many tasks did the {place} one test its method?", history=history)
    assert not answer.abstained and {c.title.split(":")[0] for c in answer.citations} == {title}, answer.text


def test_a_paper_listed_for_a_condition_quotes_where_it_meets_it(assistant):
    # Agent Q's line quoted its booking result only, not its WebShop sentence.
    answer = assistant.ask("Which papers evaluate agents on WebShop, and what gains do they report?")
    line = next(line for line in answer.text.splitlines() if "“Agent Q:" in line)
    assert "WebShop" in line, answer.text


def test_an_acronym_the_paper_spells_out_is_no_missing_condition(assistant):
    # Mobile-Agent-E writes "state-of-the-art"; before, the answer abstained: it "does not mention SOTA".
    answer = assistant.ask("By how much does Mobile-Agent-E improve over the previous SOTA?")
    assert not answer.abstained and "22%" in answer.text, answer.text


def test_metadata_two_fields_and_two_papers(assistant):
    answer = assistant.ask("How many authors and how many upvotes does the CUDA-LLM paper have?")
    assert "5 authors" in answer.text and "0 upvotes" in answer.text
    assert {c.field for c in answer.citations} == {"authors", "upvotes"}
    answer = assistant.ask("Which came first: the paper on mapping elites to illuminate search spaces, or the "
                           "one on learning to summarize from human feedback?")
    assert answer.text.splitlines()[-1].startswith(f"“{MAP_ELITES}” came first")
    assert {MAP_ELITES, SUMMARIZE} == set(cited_titles(answer))
    assert_citations_valid(assistant, answer)


def test_every_error_the_library_raises_on_purpose_is_a_rag_error():
    import rag
    from rag.generative import LLMUnavailable

    errors = [getattr(rag, name) for name in rag.__all__ if name.endswith("Error")] + [LLMUnavailable]
    assert len(errors) == 9 and all(issubclass(error, rag.RagError) for error in errors)
    with pytest.raises(rag.RagError, match="empty"):
        rag.Assistant().ask("   ")


def test_a_list_line_quotes_the_sentence_models_further_likeliest_sentences(assistant, built_settings):
    # On the real index: what a list asks of each paper ("what does each do there?") is often past the sentences
    # its topic's words reach. GITM's line adds what it needs to train, which the question's words do not reach.
    question = "Which papers use Minecraft as an environment, and what does each do there?"
    one = built_settings.model_copy(update={"composer": built_settings.composer.model_copy(
        update={"likeliest_sentences": 1})})
    plain = Assistant(one, encoder=assistant.encoder).ask(question)
    answer = assistant.ask(question)
    gitm = [line for line in answer.text.splitlines() if "Ghost in the Minecraft" in line]
    assert len(gitm) == 1 and "32 CPU cores" in gitm[0] and "32 CPU cores" not in plain.text
    assert len(answer.text.split()) > len(plain.text.split())
    assert_citations_valid(assistant, answer)
