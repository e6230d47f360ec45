"""DAP heat-map grounding metrics (paper 000 sec. 4): CNR, pointing game, Dice, IoU."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from medbench.evaluators.metrics.heatmap import (
    DEFAULT_THRESHOLD,
    HeatmapScores,
    cnr,
    dice,
    heatmap_scores,
    iou,
    pointing_game,
    threshold_map,
)
from medbench.evaluators.metrics.sets import boxes_to_mask
from medbench.imaging.boxes import mask_bbox

FAST = settings(max_examples=40, deadline=None)

TOP_ROW = np.array([[1, 1], [0, 0]], dtype=bool)


# --- boxes → mask (sets.boxes_to_mask, which heat-map regions go through) ------------------------


def test_boxes_to_mask_hand_cases():
    # [1, 1, 3, 2] on 3×4: columns 1..2 (far edge 3 exclusive), row 1
    expected = np.zeros((3, 4), dtype=bool)
    expected[1, 1:3] = True
    assert np.array_equal(boxes_to_mask([1, 1, 3, 2], (3, 4)), expected)
    # fractional: [0.5, 0, 1.5, 1] → column 0's centre 0.5 ∈ [0.5, 1.5), column 1's 1.5 is not
    assert np.array_equal(np.flatnonzero(boxes_to_mask([0.5, 0, 1.5, 1], (1, 3))), [0])
    # union of two boxes, clipping, and no boxes
    two = boxes_to_mask([[0, 0, 1, 1], [3, 2, 9, 9]], (3, 4))
    assert two.sum() == 1 + 1 and two[0, 0] and two[2, 3]
    assert not boxes_to_mask([], (3, 4)).any()


@FAST
@given(st.integers(1, 30), st.integers(1, 30), st.data())
def test_boxes_to_mask_inverts_mask_bbox(h, w, data):
    x1 = data.draw(st.integers(0, w - 1))
    y1 = data.draw(st.integers(0, h - 1))
    x2 = data.draw(st.integers(x1 + 1, w))
    y2 = data.draw(st.integers(y1 + 1, h))
    box = (float(x1), float(y1), float(x2), float(y2))
    assert mask_bbox(boxes_to_mask(box, (h, w))) == box


# --- CNR -----------------------------------------------------------------------------------------


def test_cnr_hand_case():
    heat = np.array([[4.0, 2.0], [0.0, 2.0]])
    # inside {4, 2}: mean 3, population var 1; outside {0, 2}: mean 1, var 1
    # CNR = (3 - 1) / sqrt(1 + 1) = √2
    assert cnr(heat, TOP_ROW) == pytest.approx(math.sqrt(2))
    # unbiased variances (ddof=1): 2 and 2 → 2 / sqrt(4) = 1
    assert cnr(heat, TOP_ROW, ddof=1) == pytest.approx(1.0)
    # the region on the low side: signed −√2, absolute √2
    assert cnr(heat, ~TOP_ROW) == pytest.approx(-math.sqrt(2))
    assert cnr(heat, ~TOP_ROW, absolute=True) == pytest.approx(math.sqrt(2))
    # boxes work as the region: [0, 0, 2, 1] is the top row
    assert cnr(heat, [0, 0, 2, 1]) == pytest.approx(math.sqrt(2))


def test_cnr_edge_cases():
    heat = np.array([[4.0, 2.0], [0.0, 2.0]])
    assert math.isnan(cnr(heat, np.zeros((2, 2), dtype=bool)))  # no inside pixels
    assert math.isnan(cnr(heat, np.ones((2, 2), dtype=bool)))  # no outside pixels
    assert cnr(TOP_ROW * 1.0, TOP_ROW) == math.inf  # perfect map: zero noise
    assert math.isnan(cnr(np.ones((2, 2)), TOP_ROW))  # flat map: 0/0
    # NaN pixels are dropped: a NaN column added outside changes nothing
    padded = np.hstack([heat, [[np.nan], [np.nan]]])
    assert cnr(padded, np.hstack([TOP_ROW, [[False], [False]]])) == pytest.approx(math.sqrt(2))


@st.composite
def map_and_mask(draw, shape=(6, 7)):
    heat = draw(arrays(float, shape, elements=st.floats(-100, 100)))
    mask = draw(arrays(bool, shape))
    assume(1 < mask.sum() < mask.size - 1)
    return heat, mask


@FAST
@given(map_and_mask())
def test_cnr_matches_direct_numpy(case):
    heat, mask = case
    a, b = heat[mask], heat[~mask]
    noise = math.sqrt(np.var(a) + np.var(b))
    assume(noise > 1e-6)
    assert cnr(heat, mask) == pytest.approx((a.mean() - b.mean()) / noise, rel=1e-9, abs=1e-12)
    # generate_to_ground's form (torch .var() is unbiased)
    noise1 = math.sqrt(np.var(a, ddof=1) + np.var(b, ddof=1))
    assert cnr(heat, mask, ddof=1) == pytest.approx(
        (a.mean() - b.mean()) / noise1, rel=1e-9, abs=1e-12
    )


@FAST
@given(map_and_mask(), st.floats(0.01, 100), st.floats(-100, 100))
def test_cnr_affine_invariance(case, a, b):
    heat, mask = case
    assume(np.std(heat[mask]) + np.std(heat[~mask]) > 1e-3)
    signed, absolute = cnr(heat, mask), cnr(heat, mask, absolute=True)
    assert cnr(a * heat + b, mask) == pytest.approx(signed, rel=1e-6, abs=1e-9)
    assert cnr(-a * heat + b, mask) == pytest.approx(-signed, rel=1e-6, abs=1e-9)
    assert cnr(-a * heat + b, mask, absolute=True) == pytest.approx(absolute, rel=1e-6, abs=1e-9)
    assert absolute == pytest.approx(abs(signed))


# --- pointing game -------------------------------------------------------------------------------


def test_pointing_game_single_peak():
    heat = np.zeros((5, 5))
    heat[1, 1] = 1.0
    assert pointing_game(heat, [0, 0, 2, 2])  # peak at (r1, c1) is in columns 0..1, rows 0..1
    assert not pointing_game(heat, [2, 2, 5, 5])
    region = np.zeros((5, 5), dtype=bool)
    region[1, 1] = True
    assert pointing_game(heat, region)
    assert not pointing_game(heat, np.zeros((5, 5), dtype=bool))  # empty region never hits


def test_pointing_game_ties():
    heat = np.zeros((3, 3))
    heat[0, 0] = heat[2, 2] = 5.0  # two maxima: (0,0) outside, (2,2) inside
    inside = np.zeros((3, 3), dtype=bool)
    inside[2, 2] = True
    assert pointing_game(heat, inside, ties="any")  # MedKLIP: any maximal pixel
    assert not pointing_game(heat, inside, ties="all")
    assert not pointing_game(heat, inside, ties="first")  # argmax → (0,0), row-major first
    assert pointing_game(heat, ~inside, ties="first")


def test_pointing_game_ignores_nan():
    heat = np.array([[np.nan, 1.0], [2.0, 0.0]])
    assert pointing_game(heat, [0, 1, 1, 2])  # the max 2.0 is at (r1, c0)
    with pytest.raises(ValueError):
        pointing_game(np.full((2, 2), np.nan), TOP_ROW)


@FAST
@given(st.integers(2, 12), st.integers(2, 12), st.data())
def test_pointing_game_peak_inside_or_outside(h, w, data):
    heat = data.draw(arrays(float, (h, w), elements=st.floats(0, 1)))
    r, c = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    heat[r, c] = 2.0  # a single strict peak
    box = [c, r, c + 1, r + 1]
    assert pointing_game(heat, box)
    region = boxes_to_mask(box, (h, w))
    assert not pointing_game(heat, ~region)


# --- Dice / IoU ----------------------------------------------------------------------------------


def test_dice_iou_hand_case():
    pred = np.array([[1, 1, 1, 0]], dtype=bool)  # |P| = 3
    gt = np.array([[0, 0, 1, 1]], dtype=bool)  # |G| = 2, |P∩G| = 1, |P∪G| = 4
    assert dice(pred, gt) == pytest.approx(2 * 1 / (3 + 2))  # 0.4
    assert iou(pred, gt) == pytest.approx(1 / 4)
    assert dice(gt, gt) == 1.0 and iou(gt, gt) == 1.0


def test_dice_iou_empty_cases():
    empty = np.zeros((2, 2), dtype=bool)
    assert dice(empty, empty) == 1.0 and iou(empty, empty) == 1.0  # agree there is nothing
    assert dice(empty, TOP_ROW) == 0.0 and iou(TOP_ROW, empty) == 0.0
    assert math.isnan(dice(empty, empty, empty_score=math.nan))
    with pytest.raises(ValueError):
        dice(np.zeros((2, 2)), np.zeros((2, 3)))


@FAST
@given(arrays(bool, (5, 6)), arrays(bool, (5, 6)))
def test_dice_iou_bounds_and_relation(pred, gt):
    d, j = dice(pred, gt), iou(pred, gt)
    assert 0.0 <= j <= d <= 1.0
    assert d == pytest.approx(2 * j / (1 + j))
    inter, union = (pred & gt).sum(), (pred | gt).sum()
    if union:  # direct formulas
        assert j == pytest.approx(inter / union)
        assert d == pytest.approx(2 * inter / (pred.sum() + gt.sum()))


# --- threshold -----------------------------------------------------------------------------------


def test_threshold_map():
    heat = np.array([[0.0, 1.0], [2.0, 4.0]])
    # min-max: [0, .25, .5, 1]; strict > 0.5 keeps only 1.0 (0.5 itself is out)
    assert np.array_equal(threshold_map(heat), [[False, False], [False, True]])
    assert DEFAULT_THRESHOLD == 0.5
    # raw values > 1 → 2 and 4
    assert np.array_equal(threshold_map(heat, 1.0, normalise=None), [[False, False], [True, True]])
    # constant map → empty prediction; NaN → False
    assert not threshold_map(np.full((2, 2), 3.0)).any()
    with_nan = np.array([[np.nan, 0.0], [1.0, 2.0]])
    assert np.array_equal(threshold_map(with_nan, 0.4), [[False, False], [True, True]])


@FAST
@given(arrays(float, (4, 5), elements=st.floats(-50, 50)), st.floats(0.01, 10), st.floats(-5, 5))
def test_minmax_threshold_is_affine_invariant(heat, a, b):
    # (a·h + b - min)/(max - min) is the same for a > 0; keep away from exact ties at 0.5
    lo, hi = heat.min(), heat.max()
    assume(hi - lo > 1e-3)
    norm = (heat - lo) / (hi - lo)
    assume(np.all(np.abs(norm - 0.5) > 1e-6))
    assert np.array_equal(threshold_map(a * heat + b), threshold_map(heat))


# --- all at once ---------------------------------------------------------------------------------


def test_heatmap_scores_hand_case():
    heat = np.array(
        [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 8.0, 6.0, 0.0],
            [0.0, 2.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    gt = [1, 1, 3, 3]  # rows 1..2, columns 1..2 → inside {8, 6, 2, 0}, outside 12 zeros
    scores = heatmap_scores(heat, gt)
    # inside: mean 4, var (16+4+4+16)/4 = 10; outside: mean 0, var 0 → CNR = 4/√10
    assert scores.cnr == pytest.approx(4 / math.sqrt(10))
    assert scores.cnr_abs == pytest.approx(4 / math.sqrt(10))
    assert scores.pointing_game  # the max 8 is at (r1, c1)
    # min-max /8: 6/8 = .75 and 8/8 = 1 exceed 0.5; 2/8 does not → P = {(1,1), (1,2)}
    # |P| = 2, |G| = 4, |P∩G| = 2 → Dice = 4/6, IoU = 2/4
    assert scores.dice == pytest.approx(2 / 3)
    assert scores.iou == pytest.approx(0.5)
    assert isinstance(scores, HeatmapScores)
    # the same from a mask
    assert heatmap_scores(heat, boxes_to_mask(gt, heat.shape)) == scores


def test_region_shape_errors():
    with pytest.raises(ValueError):
        cnr(np.zeros((3, 3)), np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError):
        pointing_game(np.zeros((3,)), [0, 0, 1, 1])
