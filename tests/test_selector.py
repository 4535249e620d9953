"""The fitted sentence model (`rag/selector.py`): its fitting, its bundled weights, and the answerer's use of it."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import ComposerSettings
from rag.extractive import Scorer, covering_sentences
from rag.selector import FEATURES, SentenceModel, fit_logistic
from tests.test_compose import axis, make_evidence, make_paper, read, table_for


def test_fitting_recovers_which_features_matter_and_in_which_direction():
    rng = np.random.default_rng(7)
    features = rng.normal(size=(4000, 3)) * [1.0, 5.0, 0.2]  # different scales: weights come back per raw unit
    true = np.array([2.0, -0.4, 0.0])
    labels = (rng.random(4000) < 1 / (1 + np.exp(-(features @ true - 0.5)))).astype(float)
    weights = fit_logistic(features, labels, l2=1.0)
    assert weights[0] == pytest.approx(2.0, rel=0.15) and weights[1] == pytest.approx(-0.4, rel=0.15)
    assert abs(weights[2]) < 0.5


def test_the_bundled_weights_cover_every_feature_and_point_the_sensible_way():
    model = SentenceModel.bundled()
    assert set(model.weights) == set(FEATURES)
    # A figure given when one is asked, the question's words held: likelier. An echoed question or the problem
    # an abstract sets out before its work: less likely.
    assert model.weights["figure_asked"] > 0 and model.weights["sentence_coverage"] > 0
    assert model.weights["rhetorical"] < 0 and model.weights["problem"] < 0


def test_a_model_with_an_unknown_feature_is_refused():
    with pytest.raises(ValueError, match="Unknown sentence features: loudness"):
        SentenceModel({"loudness": 1.0})


BELL = make_paper("Bellcast: Tuning Church Bells",
                  "We present Bellcast, a tuner for cast bronze bells. "
                  "Bellcast tunes each bell by grinding its inner wall. "
                  "Bellcast brings the hum tone within 3 cents of the target on 40 bells.")


def test_the_scorer_computes_every_feature_the_model_reads():
    question = read("How close to the target does Bellcast tune a bell?")
    evidence = make_evidence(question, [(BELL, [axis(0), axis(1), axis(2)])])
    scorer = Scorer(question, evidence, table_for([BELL]))
    hit = evidence.hits[2]
    features = scorer.features(hit, scorer.whole, evidence.candidates[0], hit.similarity)
    assert set(features) == set(FEATURES)
    assert features["last"] == 1.0 and features["position"] == 1.0 and features["first"] == 0.0


def test_a_part_quotes_the_sentence_the_model_ranks_first_among_those_above_the_floor():
    question = read("Why does Bellcast grind the inner wall of bells?")
    # The introduction is nearest the question's vector; the grinding sentence holds its words.
    evidence = make_evidence(question, [(BELL, [axis(0), axis(0) * 0.6 + axis(1) * 0.8, axis(2)])])
    evidence.part_vectors = [axis(0)]
    table = table_for([BELL])
    by_hand = Scorer(question, evidence, table, ComposerSettings(fitted_selection=False))
    ranked = by_hand.for_part(0, BELL.paper_id)
    assert [s.hit.number for s in ranked][:2] == [1, 0]
    sentences, _ = covering_sentences(by_hand, evidence.candidates[0], threshold=0.3, max_sentences=1)
    assert [h.number for h in sentences] == [1]
    # A model that ranks the introduction first gets it quoted, as long as it passes the part's floor.
    prefers_first = SentenceModel({"first": 1.0})
    scorer = Scorer(question, evidence, table, model=prefers_first)
    sentences, missing = covering_sentences(scorer, evidence.candidates[0], threshold=0.3, max_sentences=1)
    assert [h.number for h in sentences] == [0] and missing == []
    floor_above_first = (ranked[1].score + 0.01) / scorer.weights.part_threshold_share
    sentences, _ = covering_sentences(scorer, evidence.candidates[0], threshold=floor_above_first, max_sentences=1)
    assert [h.number for h in sentences] == [1]
