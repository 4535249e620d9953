"""A fitted sentence model: which sentence of a paper is likeliest to hold what a question asks.

The extractive answerer's hand-set score (`rag.extractive.Scorer.score`) decides which papers answer, whether
anything does, and which sentences each part quotes. This model adds sentences to each side of a comparison and
each line of a list: the one it ranks likeliest, and its next three within a word budget where it gives them a fair
chance, when the others leave them out (`rag.extractive._likeliest`). It is a logistic regression over features
the answerer computes (`Scorer.features`: similarity, coverage of the question's words, a figure asked and given,
the sentence's place in its abstract, how specific its new words are, …). `scripts/fit_selector.py` fits it on
the tuning sets' `must_contain` (a sentence is a positive when it holds an item asked for) and writes its weights
and intercept to `selector_weights.json` beside this module. It was checked on sets it never saw (docs/EVAL.md,
thirteenth, fourteenth and sixteenth passes).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import numpy as np

# What the model reads of a (question, sentence) pair; `rag.extractive.Scorer.features` computes them.
FEATURES = (
    "similarity",       # cosine of the sentence and the part (or the whole question)
    "coverage",         # idf-weighted share of the part's words the sentence and its paper's title hold
    "sentence_coverage",  # the same share, in the sentence alone
    "asked_coverage",   # share of the thing asked for ("which reward …") the sentence holds
    "figure_asked",     # a figure is asked and the sentence gives one
    "number_asked",     # a figure is asked and the sentence has only some other number
    "measurement",      # the sentence gives a measurement (39.7%, 8x), asked or not
    "introduction_asked",  # a name or a paper is asked and the sentence introduces a work
    "introduction",     # the sentence introduces a work ("we propose …")
    "names_asked",      # things are asked for and the sentence names them
    "mechanism_asked",  # how a work works is asked and the sentence describes the work
    "outcome_asked",    # a result is asked and the sentence reports one
    "result",           # the sentence reports a result
    "link",             # "code is available at …" when no link is asked
    "problem",          # the sentence sets out the problem, before the work is introduced
    "rhetorical",       # the sentence is itself a question
    "position",         # place in the abstract, 0 (first) to 1 (last)
    "first",            # the abstract's first sentence
    "last",             # its last sentence
    "log_words",        # log(1 + the sentence's words)
    "names_question_name",  # the sentence mentions a name the question uses
    "defines_asked_name",   # the sentence introduces the name the part asks about
    "new_names",        # names the question lacks and few papers use (capped at 3, as a share of 3)
    "novel_idf",        # mean idf of the sentence's words the question lacks, as a share of the largest idf
)


@dataclass(frozen=True)
class SentenceModel:
    """A linear model over `FEATURES`: a higher score, a likelier answer. With its fitted intercept,
    `probability` is the chance that a sentence holds an item asked for."""

    weights: Mapping[str, float]
    intercept: float = 0.0

    def __post_init__(self):
        unknown = set(self.weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"Unknown sentence features: {', '.join(sorted(unknown))}")

    def score(self, features: Mapping[str, float]) -> float:
        return sum(weight * features[name] for name, weight in self.weights.items())

    def probability(self, features: Mapping[str, float]) -> float:
        return 1.0 / (1.0 + math.exp(-(self.score(features) + self.intercept)))

    @classmethod
    def bundled(cls) -> SentenceModel:
        """The weights fitted by `scripts/fit_selector.py`, shipped with the package (read once per process)."""
        return _bundled_model()


@functools.cache
def _bundled_model() -> SentenceModel:
    text = resources.files("rag").joinpath("selector_weights.json").read_text(encoding="utf-8")
    fitted = json.loads(text)
    return SentenceModel(fitted["weights"], fitted["intercept"])


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = 1.0,
                 iterations: int = 50) -> tuple[np.ndarray, float]:
    """Weights (per raw feature unit) and intercept of an L2-regularised logistic regression, by Newton's method
    on standardised features: deterministic, no dependency beyond numpy."""
    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-x @ w))
        gradient = x.T @ (p - labels) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = w[:-1] / scale
    return weights, float(w[-1] - weights @ mean)
