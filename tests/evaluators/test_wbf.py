"""Weighted Boxes Fusion: hand cases and agreement with the reference ``ensemble_boxes``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from medbench.evaluators.metrics.wbf import fuse_boxes, weighted_boxes_fusion

CONF_TYPES = ("avg", "max", "box_and_model_avg", "absent_model_aware_avg")


def _random_case(rng: np.random.Generator):
    """Several models' detections: mostly jittered copies of a few objects (so clusters hold
    several boxes, some from the same model), plus random clutter."""
    n_models = int(rng.integers(1, 4))
    centre = rng.uniform(0.1, 0.9, size=(int(rng.integers(1, 4)), 2))
    half = rng.uniform(0.03, 0.25, size=centre.shape)
    objects = np.concatenate([centre - half, centre + half], axis=1)
    boxes, scores, labels = [], [], []
    for _ in range(n_models):
        k = int(rng.integers(0, 9))
        picked = objects[rng.integers(0, len(objects), size=k)]
        jittered = picked + rng.normal(scale=0.03, size=(k, 4))
        c = rng.uniform(0, 1, size=(k, 2))
        h = rng.uniform(0.01, 0.25, size=(k, 2))
        clutter = np.concatenate([c - h, c + h], axis=1)
        # Some boxes stick out of [0, 1] so the clipping path is exercised too.
        boxes.append(np.where(rng.random((k, 1)) < 0.75, jittered, clutter))
        scores.append(rng.uniform(0, 1, size=k))
        labels.append(rng.integers(0, 2, size=k))
    weights = rng.uniform(0.5, 3, size=n_models).tolist() if rng.random() < 0.5 else None
    return boxes, scores, labels, weights


@pytest.mark.parametrize("conf_type", CONF_TYPES)
def test_agrees_with_ensemble_boxes_on_random_inputs(conf_type):
    ensemble_boxes = pytest.importorskip("ensemble_boxes")  # imported here: it pulls numba
    rng = np.random.default_rng(CONF_TYPES.index(conf_type))
    for _ in range(60):
        boxes, scores, labels, weights = _random_case(rng)
        kw = {
            "weights": weights,
            "iou_thr": float(rng.choice([0.1, 0.3, 0.55, 0.7])),
            "skip_box_thr": float(rng.choice([0.0, 0.3])),
            "conf_type": conf_type,
            "allows_overflow": bool(rng.random() < 0.3),
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # clipping warnings from both sides
            ref_b, ref_s, ref_l = ensemble_boxes.weighted_boxes_fusion(boxes, scores, labels, **kw)
            got_b, got_s, got_l = weighted_boxes_fusion(boxes, scores, labels, **kw)
        assert got_b.shape == ref_b.shape
        # The reference accumulates fused coordinates in float32.
        np.testing.assert_allclose(got_b, ref_b, atol=1e-6)
        np.testing.assert_allclose(got_s, ref_s, atol=1e-6)
        np.testing.assert_array_equal(got_l, ref_l)


def test_two_boxes_fuse_by_hand():
    # IoU([0,0,.5,.5], [0,0,.5,.6]) = .25 / .30 = .833 > .55 -> one cluster.
    # y2 = (.9 * .5 + .6 * .6) / (.9 + .6) = .81 / 1.5 = .54; score = mean(.9, .6) = .75
    # rescaled by min(1 model, 2 boxes) / 1 = 1.
    b, s, lab = weighted_boxes_fusion(
        [[[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.6]]], [[0.9, 0.6]], [[0, 0]]
    )
    np.testing.assert_allclose(b, [[0, 0, 0.5, 0.54]])
    np.testing.assert_allclose(s, [0.75])
    np.testing.assert_array_equal(lab, [0])


def test_iou_threshold_is_strict():
    # IoU([0,0,.5,.5], [0,0,.5,.25]) = .125 / .25 = .5 exactly.
    boxes, scores, labels = [[[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.25]]], [[0.9, 0.8]], [[1, 1]]
    assert len(weighted_boxes_fusion(boxes, scores, labels, iou_thr=0.5)[0]) == 2
    assert len(weighted_boxes_fusion(boxes, scores, labels, iou_thr=0.49)[0]) == 1


def test_matches_against_running_fused_box():
    # b1 = [0,.4], b2 = [.2,.6] (x; all y in [0,1]), IoU 0.2/0.6 = .333 > .3 -> fused
    # [(0*.9 + .2*.9)/1.8, (.4*.9 + .6*.9)/1.8] = [.1, .5].
    # b3 = [.3,.7]: IoU with b1 = .1/.7 = .14 (would not match), with fused [.1,.5]:
    # .2/.6 = .333 -> joins. Final x1 = (.9*0 + .9*.2 + .8*.3)/2.6 = .42/2.6,
    # x2 = (.9*.4 + .9*.6 + .8*.7)/2.6 = 1.46/2.6, score = 2.6/3.
    boxes = [[[0, 0, 0.4, 1], [0.2, 0, 0.6, 1], [0.3, 0, 0.7, 1]]]
    b, s, _ = weighted_boxes_fusion(boxes, [[0.9, 0.9, 0.8]], [[0, 0, 0]], iou_thr=0.3)
    np.testing.assert_allclose(b, [[0.42 / 2.6, 0, 1.46 / 2.6, 1]])
    np.testing.assert_allclose(s, [2.6 / 3])


def test_confidence_rescaling_by_hand():
    box = [0.1, 0.1, 0.5, 0.5]
    # Model 0 (weight 2): the box twice, scores .8 and .4 -> weighted 1.6, .8.
    # Model 1 (weight 1): the box once, score .6 -> .6.  One cluster, n = 3, member weights
    # 2 + 2 + 1 = 5, mean weighted score (1.6 + .8 + .6)/3 = 1.0, max 1.6.
    boxes = [[box, box], [box]]
    scores = [[0.8, 0.4], [0.6]]
    labels = [[0, 0], [0]]
    # Two models, W = 3:
    expected = {
        ("avg", False): 1.0 * min(2, 3) / 3,  # .667
        ("avg", True): 1.0 * 3 / 3,  # overflow: 1.0
        ("max", False): 1.6 / 2,  # .8
        ("box_and_model_avg", False): 1.0 * 3 / 5 * (2 + 1) / 3,  # .6
        ("absent_model_aware_avg", False): 1.0 * 3 / (5 + 0),  # .6
    }
    for (conf_type, overflow), value in expected.items():
        _, s, _ = weighted_boxes_fusion(
            boxes, scores, labels, weights=[2, 1], conf_type=conf_type, allows_overflow=overflow
        )
        assert s[0] == pytest.approx(value), conf_type
    # A third model (weight 1) with no box: W = 4, M = 3.
    boxes3, scores3, labels3 = boxes + [[]], scores + [[]], labels + [[]]
    expected3 = {
        "avg": 1.0 * min(3, 3) / 4,  # .75
        "max": 1.6 / 2,  # .8
        "box_and_model_avg": 1.0 * 3 / 5 * (2 + 1) / 4,  # .45
        "absent_model_aware_avg": 1.0 * 3 / (5 + 1),  # .5
    }
    for conf_type, value in expected3.items():
        _, s, _ = weighted_boxes_fusion(
            boxes3, scores3, labels3, weights=[2, 1, 1], conf_type=conf_type
        )
        assert s[0] == pytest.approx(value), conf_type


def test_labels_skip_threshold_and_sorting():
    box = [0.1, 0.1, 0.5, 0.5]
    b, s, lab = weighted_boxes_fusion(
        [[box, box, [0.6, 0.6, 0.9, 0.9], box]],
        [[0.5, 0.9, 0.7, 0.2]],
        [[0, 1, 0, 0]],
        skip_box_thr=0.5,  # .2 dropped, .5 kept (>=)
    )
    # label 0: box (.5) and the far box (.7) stay apart; label 1: box (.9).
    np.testing.assert_allclose(s, [0.9, 0.7, 0.5])
    np.testing.assert_array_equal(lab, [1, 0, 0])
    np.testing.assert_allclose(b[0], box)


def test_box_repairs_warn():
    with pytest.warns(UserWarning) as record:
        b, s, _ = weighted_boxes_fusion(
            [[[0.5, 0.5, 0.2, 0.2], [-0.1, 0.0, 0.05, 1.2], [0.3, 0.3, 0.3, 0.6]]],
            [[0.9, 0.8, 0.7]],
            [[0, 0, 0]],
        )
    messages = " ".join(str(w.message) for w in record)
    assert "swapped" in messages and "clipped" in messages and "zero-area" in messages
    # swapped -> [.2,.2,.5,.5]; clipped -> [0,0,.05,1]; zero-area box dropped.
    np.testing.assert_allclose(b, [[0.2, 0.2, 0.5, 0.5], [0, 0, 0.05, 1]])
    np.testing.assert_allclose(s, [0.9, 0.8])


def test_empty_and_errors():
    b, s, lab = weighted_boxes_fusion([[]], [[]], [[]])
    assert b.shape == (0, 4) and s.shape == (0,) and lab.shape == (0,)
    b, s, lab = weighted_boxes_fusion([[[0, 0, 1, 1]]], [[0.1]], [[0]], skip_box_thr=0.5)
    assert b.shape == (0, 4)
    with pytest.raises(ValueError):
        weighted_boxes_fusion([[[0, 0, 1, 1]]], [[0.1]], [[0]], conf_type="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        weighted_boxes_fusion([[[0, 0, 1, 1]]], [[0.1]], [[0]], weights=[1, 2])
    with pytest.raises(ValueError):
        weighted_boxes_fusion([[[0, 0, 1, 1]]], [[0.1, 0.2]], [[0]])


def test_pixel_mode_equals_normalised_mode():
    rng = np.random.default_rng(1)
    height, width = 480, 640
    xy = rng.uniform(0, 0.7, size=(12, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0.05, 0.3, size=(12, 2))], axis=1)
    scores = rng.uniform(0.2, 1, size=12)
    scale = np.array([width, height, width, height])
    nb, ns = fuse_boxes(boxes, scores, iou_thr=0.1)
    pb, ps, _ = weighted_boxes_fusion(
        [boxes * scale], [scores], [np.zeros(12)], iou_thr=0.1, image_size=(height, width)
    )
    np.testing.assert_allclose(pb, nb * scale)
    np.testing.assert_allclose(ps, ns)


def test_fuse_boxes_single_model_mean_score():
    # MedGrounder use: one model, IoU 0.1. Two overlapping queries fuse, mean score.
    b, s = fuse_boxes(
        [[0, 0, 0.4, 0.4], [0.1, 0.1, 0.5, 0.5], [0.7, 0.7, 0.9, 0.9]], [0.9, 0.8, 0.95]
    )
    # IoU of the first two: .09 / (.16 + .16 - .09) = .39 > .1 -> fused, score (.9 + .8)/2;
    # the far box stays alone (.95) and sorts first.
    np.testing.assert_allclose(s, [0.95, 0.85])
    np.testing.assert_allclose(b[0], [0.7, 0.7, 0.9, 0.9])
    # Fused: (.9 * [0,0,.4,.4] + .8 * [.1,.1,.5,.5]) / 1.7 -> x1 = .08/1.7, x2 = .76/1.7.
    np.testing.assert_allclose(b[1], [0.08 / 1.7, 0.08 / 1.7, 0.76 / 1.7, 0.76 / 1.7])
