"""The fitted sentence model (`rag/selector.py`): its fitting, its bundled weights, the comparison sides and list
lines it completes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, ComposerSettings
from rag.extractive import Scorer, answer
from rag.selector import FEATURES, SentenceModel, fit_logistic
from tests.test_compose import (
    DAMPER,
    GLAZE,
    KILN,
    KILN_AND_GLAZE,
    KILN_FIRING_LEAN,
    axis,
    make_evidence,
    make_paper,
    read,
    slow_cooling,
    table_for,
)


def test_fitting_recovers_which_features_matter_and_in_which_direction():
    rng = np.random.default_rng(7)
    features = rng.normal(size=(4000, 3)) * [1.0, 5.0, 0.2]  # different scales: weights come back per raw unit
    true = np.array([2.0, -0.4, 0.0])
    labels = (rng.random(4000) < 1 / (1 + np.exp(-(features @ true - 0.5)))).astype(float)
    weights, intercept = fit_logistic(features, labels, l2=1.0)
    assert weights[0] == pytest.approx(2.0, rel=0.15) and weights[1] == pytest.approx(-0.4, rel=0.15)
    assert abs(weights[2]) < 0.5 and intercept == pytest.approx(-0.5, abs=0.2)
    # With the intercept, the model's probabilities match the labels' rate.
    model = SentenceModel(dict(zip(FEATURES, weights)), intercept)
    rows = [dict(zip(FEATURES, row)) for row in features]
    assert np.mean([model.probability(row) for row in rows]) == pytest.approx(labels.mean(), abs=0.02)


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


def test_each_side_of_a_comparison_also_quotes_the_sentence_the_model_ranks_likeliest():
    question = read("How do KilnNet and GlazeGPT differ?")
    evidence = make_evidence(question, [(KILN, [axis(0), axis(1), axis(2)]), (GLAZE, [axis(0), axis(1)])],
                             works=dict(KILN_AND_GLAZE))
    evidence.names = ["KilnNet", "GlazeGPT"]
    table = table_for([KILN, GLAZE])
    # A model that finds the last sentence likeliest: KilnNet's training logs join its side; GlazeGPT's side
    # already quotes its last sentence.
    last = SentenceModel({"last": 1.0})
    plain = answer(question, evidence, table, threshold=0.3, max_sentences=4,
                   weights=ComposerSettings(likeliest_sentences=0), model=last)
    assert "1,200 firing logs" not in plain.text and "87% accuracy" in plain.text
    draft = answer(question, evidence, table, threshold=0.3, max_sentences=4, model=last)
    kiln_line, glaze_line = draft.text.splitlines()
    assert "1,200 firing logs" in kiln_line and "31%" in kiln_line
    assert glaze_line.count("GlazeGPT reaches 87% accuracy") == 1
    assert all(c.quote in (KILN.abstract + GLAZE.abstract) for c in draft.citations)


def test_each_line_of_a_list_also_quotes_the_sentence_the_model_ranks_likeliest():
    slow, damper = slow_cooling("It was tried on four porcelain clays."), DAMPER
    question = read("Which papers change kiln firing, and on which clays?")
    evidence = make_evidence(question, [(slow, KILN_FIRING_LEAN + [axis(3)]), (damper, KILN_FIRING_LEAN)])
    table = table_for([slow, damper])
    last = SentenceModel({"last": 1.0})  # finds each paper's last sentence likeliest
    plain = answer(question, evidence, table, threshold=0.5, max_sentences=4,
                   weights=ComposerSettings(likeliest_sentences=0, sentences_per_line=1), model=last)
    assert "four porcelain clays" not in plain.text
    draft = answer(question, evidence, table, threshold=0.5, max_sentences=4,
                   weights=ComposerSettings(sentences_per_line=1), model=last)
    slow_line, damper_line = sorted(draft.text.splitlines(), key=lambda line: "Slow Cooling" not in line)
    assert "It was tried on four porcelain clays." in slow_line and "Gas Kiln" in damper_line
    # One more than the line's cap, and never a sentence twice.
    assert all(line.count("[") <= 2 for line in (slow_line, damper_line))
    assert damper_line.count("It saves a fifth of the gas.") <= 1
    assert all(c.quote in (slow.abstract + damper.abstract) for c in draft.citations)


def test_the_fit_scripts_aggregates_count_the_items_a_papers_top_sentences_hold():
    spec = importlib.util.spec_from_file_location("fit_selector", PROJECT_ROOT / "scripts" / "fit_selector.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rows = [{"group": "a", "labels": [1, 0]}, {"group": "a", "labels": [0, 1]}, {"group": "a", "labels": [0, 0]},
            {"group": "b", "labels": [0]}, {"group": "b", "labels": [1]}]
    quality = script.ranking_quality(rows, np.array([0.9, 0.1, 0.5, 0.8, 0.2]))
    assert quality == {"papers": 2, "top_holds_item": 0.5, "items_in_top1": 0.25, "items_in_top2": 0.75,
                       "items_in_top3": 1.0}
    # Leaving one set out: each set is ranked by a model fitted on the others. Where the item is always in the
    # last sentence, a model that reads only "last" finds it first in every set; one without features cannot.
    rng = np.random.default_rng(3)

    def sentence(group: str, last: bool) -> dict:
        features = {name: float(rng.random()) for name in FEATURES} | {"last": float(last)}
        return {"group": group, "features": features, "labels": [int(last)]}

    by_set = {f"set{s}": [sentence(f"{s}:{p}", last) for p in range(20) for last in (False, False, True)]
              for s in range(3)}
    assert script.leave_one_out(by_set, ["last"])["top_holds_item"] == 1.0
    assert script.leave_one_out(by_set, ["last"])["papers"] == 60
    assert script.leave_one_out(by_set, ["similarity"])["top_holds_item"] < 0.6


def test_a_list_line_adds_the_models_further_likeliest_sentences_within_its_words_and_above_its_chance():
    # Six sentences; the model finds later ones likelier: the last three have chances of about 0.88, 0.6, 0.27.
    kiln = make_paper("Slow Cooling for Stoneware Kilns",
                      "We propose a slow cooling schedule for kiln firing. It holds each kiln at 600 degrees. "
                      "It was tried in three studios. Pots crack less often with it. It needs a damper. "
                      "Potters liked the glaze.")
    question = read("Which papers change kiln firing?")
    evidence = make_evidence(question, [(kiln, [axis(0)] + [axis(0) * 0.9 + axis(1) * 0.43] * 5)])
    table = table_for([kiln, DAMPER])
    later = SentenceModel({"position": 8.0}, intercept=-6.0)

    def line(**settings) -> str:
        return answer(question, evidence, table, threshold=0.5, max_sentences=4, model=later,
                      weights=ComposerSettings(sentences_per_line=1, **settings)).text

    # The likeliest always; the next where the model gives it half a chance or more; within the line's words.
    assert "Potters liked the glaze." in line(likeliest_sentences=1) and "damper" not in line(likeliest_sentences=1)
    two = line(likeliest_probability=0.5)
    assert "Potters liked the glaze." in two and "It needs a damper." in two and "crack" not in two
    assert "crack" in line(likeliest_probability=0.2)
    assert "It needs a damper." not in line(likeliest_probability=0.5, line_words=15)
