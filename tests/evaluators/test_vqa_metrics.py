"""Med-VQA metrics: option matching, yes/no, open recall, BLEU-1, BERTScore guard."""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest

from medbench.evaluators.metrics import vqa
from medbench.evaluators.metrics.vqa import (
    ClosedMatch,
    answer_tokens,
    bertscore,
    bleu1,
    closed_accuracy,
    closed_answer_match,
    normalize_answer,
    open_recall,
    parse_yes_no,
    yes_no_accuracy,
    yes_no_correct,
)


def test_normalize_answer():
    assert (
        normalize_answer("The lesion, 1,000 cells. Left-sided!") == "lesion 1000 cells left sided"
    )
    assert normalize_answer("2.5 cm; two nodules") == "2.5 cm 2 nodules"
    assert normalize_answer("An (enlarged) heart?") == "enlarged heart"
    assert normalize_answer("Crohn's disease") == "crohn's disease"
    assert answer_tokens("  A  ") == []


# --- multiple choice ------------------------------------------------------------------------

OPTS = ["pneumothorax", "pleural effusion", "cardiomegaly", "atelectasis"]


@pytest.mark.parametrize(
    ("output", "letter"),
    [
        ("B", "B"),
        ("(C)", "C"),
        ("The answer is D.", "D"),
        ("Answer: B. pleural effusion", "B"),
        ("I think the answer is B", "B"),  # "I" labels no option: skipped
        ("c", "C"),  # a lone lowercase letter is the whole answer
        ("d)", "D"),
    ],
)
def test_letter_stage(output, letter):
    assert closed_answer_match(output, OPTS, OPTS[0]) == ClosedMatch(letter, 1, letter == "A")


def test_article_a_is_not_a_letter():
    # "A " is skipped (article); "B2" is not standalone; stage 2 finds the option text.
    m = closed_answer_match("A small B2 pleural effusion", OPTS, "pleural effusion")
    assert m == ClosedMatch("B", 2, True)
    # "A" at the end of the output is a letter.
    assert closed_answer_match("The answer is A", OPTS, "pneumothorax") == ClosedMatch("A", 1, True)


def test_text_stage_last_and_longest():
    # Both "effusion" and "pleural effusion" end at the same place: the longer wins.
    opts = ["effusion", "pleural effusion"]
    assert closed_answer_match("pleural effusion", opts, "pleural effusion") == (
        ClosedMatch("B", 2, True)
    )
    # The option mentioned last wins.
    m = closed_answer_match("not pneumothorax but atelectasis", OPTS, "atelectasis")
    assert m == ClosedMatch("D", 2, True)


def test_similarity_stage_by_hand():
    # "cardiomegally" contains no option. ratio("cardiomegaly", "cardiomegally"): matching
    # blocks "cardiomegal" (11) + "y" (1) = 12 -> 2 * 12 / (12 + 13) = .96, the highest.
    import difflib

    assert difflib.SequenceMatcher(None, "cardiomegaly", "cardiomegally").ratio() == 0.96
    m = closed_answer_match("cardiomegally", OPTS, "cardiomegaly")
    assert m == ClosedMatch("C", 3, True)
    m = closed_answer_match("cardiomegally", OPTS, "pneumothorax")
    assert m == ClosedMatch("C", 3, False)


def test_mapping_options_letter_answer_and_errors():
    opts = {"A": "yes", "B": "no"}
    assert closed_answer_match("no", opts, "B") == ClosedMatch("B", 2, True)
    assert closed_answer_match("   ", opts, "yes") == ClosedMatch(None, 0, False)
    with pytest.raises(ValueError):
        closed_answer_match("yes", opts, "maybe")
    with pytest.raises(ValueError):
        closed_answer_match("yes", [], "yes")


def test_closed_accuracy():
    outputs = ["B", "cardiomegaly", ""]
    answers = ["pleural effusion", "pneumothorax", "atelectasis"]
    # correct, wrong (C chosen, A expected), wrong (empty) -> 1/3
    assert closed_accuracy(outputs, [OPTS] * 3, answers) == pytest.approx(1 / 3)
    assert math.isnan(closed_accuracy([], [], []))
    with pytest.raises(ValueError):
        closed_accuracy(["B"], [OPTS, OPTS], ["pneumothorax"])


# --- yes / no -------------------------------------------------------------------------------


def test_parse_yes_no():
    assert parse_yes_no("Yes.") == "yes"
    assert parse_yes_no("No, there is no effusion") == "no"
    assert parse_yes_no("Yes, but no effusion") == "yes"  # first one wins
    assert parse_yes_no("It is not normal") is None  # substrings do not count
    assert parse_yes_no("") is None


def test_yes_no_accuracy_keeps_unparseable_in_denominator():
    outputs = ["yes", "no", "maybe", "not sure"]
    answers = ["yes", "Yes", "no", "no"]
    # correct, wrong, unparseable (wrong), unparseable (wrong) -> 1/4
    assert yes_no_accuracy(outputs, answers) == pytest.approx(1 / 4)
    assert yes_no_correct("No.", "no")
    with pytest.raises(ValueError):
        yes_no_correct("yes", "left lung")


# --- open-ended -----------------------------------------------------------------------------


def test_open_recall_by_hand():
    # answer tokens [left, lower, lobe]; output tokens [left, lobe] -> 2/3
    assert open_recall("The left lobe", "left lower lobe") == pytest.approx(2 / 3)
    # repeated answer word: min(2, 1) / 2
    assert open_recall("left", "left left") == pytest.approx(0.5)
    assert open_recall("2 nodules", "two") == 1.0  # number words normalised
    assert open_recall("", "lung") == 0.0
    with pytest.raises(ValueError):
        open_recall("lung", "the")


def test_bleu1_by_hand():
    # c = 2, r = 3: p1 = 2/2, BP = exp(1 - 3/2) = exp(-.5) = .6065
    assert bleu1("left lung", "left lung base") == pytest.approx(math.exp(-0.5))
    # c = 3, r = 2: clipped matches min(3, 1) = 1 -> p1 = 1/3, BP = 1
    assert bleu1("lung lung lung", "left lung") == pytest.approx(1 / 3)
    # c = r = 2, one match: p1 = 1/2, BP = exp(1 - 1) = 1
    assert bleu1("right lung", "left lung") == pytest.approx(0.5)
    assert bleu1("the mass", "mass") == 1.0  # article dropped
    assert bleu1("", "mass") == 0.0
    assert bleu1("effusion", "mass") == 0.0


def test_bleu1_against_nltk():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    rng = np.random.default_rng(0)
    vocab = ["left", "right", "lung", "lobe", "effusion", "mass", "upper", "lower"]
    for _ in range(100):
        out = " ".join(rng.choice(vocab, size=rng.integers(1, 7)))
        ref = " ".join(rng.choice(vocab, size=rng.integers(1, 7)))
        expected = nltk_bleu.sentence_bleu(
            [answer_tokens(ref)], answer_tokens(out), weights=(1, 0, 0, 0)
        )
        assert bleu1(out, ref) == pytest.approx(expected, abs=1e-9)


# --- BERTScore ------------------------------------------------------------------------------


def test_bertscore_not_installed_is_reported():
    if "bert_score" in sys.modules or _importable("bert_score"):
        pytest.skip("bert_score is installed here")
    result = bertscore(["a"], ["b"])
    assert result.computed is False and result.f1 is None
    assert "not installed" in result.reason
    assert result.as_dict()["f1"] is None


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _fake_bert_score(monkeypatch, tmp_path, calls):
    pkg_dir = tmp_path / "bert_score"
    (pkg_dir / "rescale_baseline" / "en").mkdir(parents=True)
    # Baseline table: header then one row per layer (LAYER, P, R, F).
    rows = "\n".join(f"{k},{0.1 * k},{0.2},{0.5}" for k in range(4))
    (pkg_dir / "rescale_baseline" / "en" / "fake-model.tsv").write_text("LAYER,P,R,F\n" + rows)
    fake = types.ModuleType("bert_score")
    fake.__file__ = str(pkg_dir / "__init__.py")
    fake.utils = types.SimpleNamespace(model2layers={"fake-model": 2})

    def score(cands, refs, **kw):
        calls.append(kw)
        n = len(cands)
        return np.full(n, 0.8), np.full(n, 0.6), np.full(n, 0.75)

    fake.score = score
    monkeypatch.setitem(sys.modules, "bert_score", fake)


def test_bertscore_with_local_model(monkeypatch, tmp_path):
    calls: list[dict] = []
    _fake_bert_score(monkeypatch, tmp_path, calls)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    monkeypatch.setattr(vqa, "_local_model_dir", lambda name: model_dir)
    result = bertscore(["x", "y"], ["x", "z"], model_type="fake-model")
    assert result.computed and result.num_layers == 2 and not result.rescaled
    np.testing.assert_allclose(result.f1, [0.75, 0.75])
    assert calls[0]["model_type"] == str(model_dir)  # a local path, never a Hub id
    # Rescaled with layer 2's baseline (P .2, R .2, F .5): (x - b) / (1 - b).
    result = bertscore(["x"], ["x"], model_type="fake-model", rescale_with_baseline=True)
    np.testing.assert_allclose(result.precision, [(0.8 - 0.2) / 0.8])
    np.testing.assert_allclose(result.recall, [(0.6 - 0.2) / 0.8])
    np.testing.assert_allclose(result.f1, [(0.75 - 0.5) / 0.5])
    assert result.as_dict()["f1"] == pytest.approx(0.5)


def test_bertscore_model_not_local(monkeypatch, tmp_path):
    calls: list[dict] = []
    _fake_bert_score(monkeypatch, tmp_path, calls)
    monkeypatch.setattr(vqa, "_local_model_dir", lambda name: None)
    result = bertscore(["x"], ["x"], model_type="fake-model")
    assert not result.computed and "not available locally" in result.reason
    assert calls == []


def test_local_model_dir_never_downloads(tmp_path):
    # A directory is used as is; an uncached Hub id resolves to None (local_files_only).
    assert vqa._local_model_dir(str(tmp_path)) == tmp_path
    assert vqa._local_model_dir("medbench-test/surely-not-cached-model") is None
