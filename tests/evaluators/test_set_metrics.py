"""GREC / GRES / GMPG set-grounding metrics: hand cases, brute-force references, properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medbench.evaluators.metrics.sets import (
    box_giou,
    box_iou,
    boxes_to_mask,
    center_hit_f1,
    center_hit_f1_per_sample,
    grec_metrics,
    grec_sample_f1,
    mask_iou,
    mask_iou_per_sample,
    n_acc,
    precision_at_f1,
    precision_at_f1_per_sample,
    t_acc,
)
from medbench.imaging.boxes import mask_bbox

EMPTY = np.zeros((0, 4))


# --- IoU / GIoU ------------------------------------------------------------------------------


def test_iou_and_giou_by_hand():
    a = np.array([[0, 0, 2, 2]])
    b = np.array([[1, 1, 3, 3], [2, 0, 3, 1]])
    # a vs b0: inter 1x1 = 1, union 4 + 4 - 1 = 7 -> 1/7; enclosing [0,0,3,3] = 9
    #   -> GIoU = 1/7 - (9 - 7)/9 = -5/63.
    # a vs b1: touching edge, inter 0 -> IoU 0; enclosing [0,0,3,2] = 6, union 4 + 1 = 5
    #   -> GIoU = 0 - 1/6.
    np.testing.assert_allclose(box_iou(a, b), [[1 / 7, 0.0]])
    np.testing.assert_allclose(box_giou(a, b), [[-5 / 63, -1 / 6]])


def test_iou_shape_and_empty():
    assert box_iou(np.zeros((3, 4)) + [0, 0, 1, 1], np.zeros((5, 4)) + [0, 0, 1, 1]).shape == (3, 5)
    assert box_iou(EMPTY, [[0, 0, 1, 1]]).shape == (0, 1)
    assert box_giou([[0, 0, 1, 1]], EMPTY).shape == (1, 0)
    # Two degenerate boxes: 0, not NaN.
    assert box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0
    assert box_giou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0
    with pytest.raises(ValueError):
        box_iou(np.zeros((2, 3)), EMPTY)


def _pixel_set(box) -> set[tuple[int, int]]:
    x1, y1, x2, y2 = (int(v) for v in box)
    return {(x, y) for x in range(x1, x2) for y in range(y1, y2)}


def test_iou_matches_pixel_counting_on_integer_boxes():
    """Independent reference: IoU of integer boxes = |pixel sets ∩| / |pixel sets ∪|."""
    rng = np.random.default_rng(3)
    xy = rng.integers(0, 12, size=(40, 2))
    wh = rng.integers(1, 8, size=(40, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1).astype(float)
    got = box_iou(boxes[:20], boxes[20:])
    for i, j in itertools.product(range(20), range(20)):
        p, q = _pixel_set(boxes[i]), _pixel_set(boxes[20 + j])
        assert got[i, j] == pytest.approx(len(p & q) / len(p | q))


coord = st.floats(min_value=-50, max_value=50, allow_nan=False, width=32)
size = st.floats(min_value=0, max_value=40, allow_nan=False, width=32)
box_st = st.tuples(coord, coord, size, size).map(lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]])
pos_box_st = st.tuples(coord, coord, st.integers(1, 40), st.integers(1, 40)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(box_st, min_size=1, max_size=6), st.lists(box_st, min_size=1, max_size=6))
def test_iou_giou_properties(a, b):
    a, b = np.array(a), np.array(b)
    iou, giou = box_iou(a, b), box_giou(a, b)
    np.testing.assert_allclose(iou, box_iou(b, a).T)
    np.testing.assert_allclose(giou, box_giou(b, a).T)
    assert np.all((iou >= 0) & (iou <= 1))
    assert np.all((giou >= -1) & (giou <= 1))
    assert np.all(giou <= iou + 1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(pos_box_st, min_size=1, max_size=6))
def test_self_iou_is_one(a):
    a = np.array(a)
    np.testing.assert_allclose(np.diag(box_iou(a, a)), 1.0)
    np.testing.assert_allclose(np.diag(box_giou(a, a)), 1.0)


# --- GREC F1, Pr@(F1=1), N-acc, T-acc -------------------------------------------------------


def test_sample_f1_by_hand():
    assert grec_sample_f1(EMPTY, EMPTY) == 1.0  # no-target, nothing predicted
    assert grec_sample_f1([[0, 0, 1, 1]], EMPTY) == 0.0  # no-target, something predicted
    assert grec_sample_f1(EMPTY, [[0, 0, 1, 1], [2, 2, 3, 3]]) == 0.0
    pred = [[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60]]
    gt = [[0, 0, 10, 10], [21, 21, 31, 31]]
    # second pair: inter 9x9 = 81, union 200 - 81 = 119, IoU 0.68 -> TP = 2, FP = 1, FN = 0
    # F1 = 2*2 / (2*2 + 1 + 0) = 0.8
    assert grec_sample_f1(pred, gt) == pytest.approx(0.8)


def test_threshold_is_inclusive():
    # [0,0,10,10] vs [0,0,10,5]: inter 50, union 100 -> IoU exactly 0.5, a match (>=).
    assert grec_sample_f1([[0, 0, 10, 10]], [[0, 0, 10, 5]]) == 1.0
    assert grec_sample_f1([[0, 0, 10, 10]], [[0, 0, 10, 4.99]]) == 0.0


def test_giou_switch_is_stricter():
    # Diagonal shift 1.8: inter 8.2^2 = 67.24, union 200 - 67.24 = 132.76, IoU = 0.5065;
    # enclosing 11.8^2 = 139.24, GIoU = 0.5065 - 6.48/139.24 = 0.4599.
    pred, gt = [[1.8, 1.8, 11.8, 11.8]], [[0, 0, 10, 10]]
    assert box_iou(pred, gt)[0, 0] == pytest.approx(67.24 / 132.76)
    assert box_giou(pred, gt)[0, 0] == pytest.approx(67.24 / 132.76 - 6.48 / 139.24)
    assert grec_sample_f1(pred, gt) == 1.0
    assert grec_sample_f1(pred, gt, similarity="giou") == 0.0
    with pytest.raises(ValueError):
        grec_sample_f1(pred, gt, similarity="dice")  # type: ignore[arg-type]


def test_greedy_differs_from_hungarian():
    # Intervals on x (all boxes span y in [0, 10], so IoU = 1-D interval IoU):
    # g1 = [0,10], g2 = [3,13]; p1 = [1,11], p2 = [-3,7].
    # IoU(p1,g1) = 9/11 = .818, IoU(p1,g2) = 8/12 = .667, IoU(p2,g1) = 7/13 = .538,
    # IoU(p2,g2) = 4/16 = .25.
    # Greedy (GREC reference) takes p1-g1 first, then p2-g2 < .5 -> TP 1, F1 = 2/(2+2) = .5.
    # A maximum matching takes p1-g2 and p2-g1 -> TP 2, F1 = 1.
    pred = [[1, 0, 11, 10], [-3, 0, 7, 10]]
    gt = [[0, 0, 10, 10], [3, 0, 13, 10]]
    assert grec_sample_f1(pred, gt) == pytest.approx(0.5)
    assert grec_sample_f1(pred, gt, matching="hungarian") == 1.0
    with pytest.raises(ValueError):
        grec_sample_f1(pred, gt, matching="random")  # type: ignore[arg-type]


def _brute_force_max_matching(hits: np.ndarray) -> int:
    p, g = hits.shape
    if p == 0 or g == 0:
        return 0
    if p > g:
        hits, p, g = hits.T, g, p
    return max(
        sum(hits[i, cols[i]] for i in range(p)) for cols in itertools.permutations(range(g), p)
    )


def test_hungarian_mode_matches_brute_force():
    rng = np.random.default_rng(7)
    for _ in range(60):
        p, g = rng.integers(1, 5, size=2)
        xy = rng.uniform(0, 20, size=(p + g, 2))
        wh = rng.uniform(3, 12, size=(p + g, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        pred, gt = boxes[:p], boxes[p:]
        tp = _brute_force_max_matching(box_iou(pred, gt) >= 0.3)
        f1 = grec_sample_f1(pred, gt, iou_threshold=0.3, matching="hungarian")
        assert f1 == pytest.approx(2 * tp / (p + g))
        # Greedy never finds more than the maximum.
        assert grec_sample_f1(pred, gt, iou_threshold=0.3) <= f1 + 1e-12


def test_grec_aggregates_by_hand():
    box = [[0, 0, 10, 10]]
    preds = [EMPTY, box, box, EMPTY, [[0, 0, 10, 10], [40, 40, 50, 50]]]
    gts = [EMPTY, EMPTY, box, box, box]
    # s1 no-target, empty pred: correct.  s2 no-target, one pred: wrong.
    # s3 exact: correct.  s4 targeted, empty pred: wrong.  s5 one extra box: F1 = 2/3, wrong.
    np.testing.assert_array_equal(
        precision_at_f1_per_sample(preds, gts), [True, False, True, False, False]
    )
    assert precision_at_f1(preds, gts) == pytest.approx(2 / 5)
    assert n_acc(preds, gts) == pytest.approx(1 / 2)  # s1 of {s1, s2}
    assert t_acc(preds, gts) == pytest.approx(2 / 3)  # s3, s5 of {s3, s4, s5}
    summary = grec_metrics(preds, gts)
    assert summary["n_no_target"] == 2 and summary["n_targeted"] == 3
    assert summary["precision_at_f1"] == pytest.approx(0.4)
    assert np.isnan(n_acc([box], [box]))
    assert np.isnan(t_acc([EMPTY], [EMPTY]))
    with pytest.raises(ValueError):
        precision_at_f1([box], [box, box])


@settings(max_examples=100, deadline=None)
@given(st.lists(pos_box_st, min_size=0, max_size=6), st.randoms(use_true_random=False))
def test_perfect_prediction_in_any_order(gt, rnd):
    gt = np.array(gt).reshape(-1, 4)
    order = list(range(len(gt)))
    rnd.shuffle(order)
    pred = gt[order]
    for similarity in ("iou", "giou"):
        for matching in ("greedy", "hungarian"):
            assert precision_at_f1([pred], [gt], similarity=similarity, matching=matching) == 1.0
    assert center_hit_f1([pred], [gt]) == 1.0


# --- Center-hit F1 --------------------------------------------------------------------------


def test_center_hit_by_hand():
    gt = [[1, 1, 3, 3]]
    # centre (2, 2) inside; centre (3, 2) on the border (counts); centre (5, 5) outside.
    assert center_hit_f1_per_sample([[[0, 0, 4, 4]]], [gt])[0] == 1.0
    assert center_hit_f1_per_sample([[[2, 0, 4, 4]]], [gt])[0] == 1.0
    assert center_hit_f1_per_sample([[[4, 4, 6, 6]]], [gt])[0] == 0.0
    # Two predictions centred in one GT box: one-to-one TP = 1, F1 = 2/(2+1) = 2/3;
    # many-to-one: precision 1, recall 1 -> F1 = 1.
    two = [[0, 0, 4, 4], [1.5, 1.5, 2.5, 2.5]]
    assert center_hit_f1_per_sample([two], [gt])[0] == pytest.approx(2 / 3)
    assert center_hit_f1_per_sample([two], [gt], one_to_one=False)[0] == 1.0
    # One big prediction over two GT boxes: one-to-one 2/3; many-to-one precision 1,
    # recall 1/2 -> 2 * 1 * .5 / 1.5 = 2/3 as well. Its centre (5, 1) is in the second box only.
    gts2 = [[0, 0, 4, 2], [4, 0, 8, 2]]
    assert center_hit_f1_per_sample([[[0, 0, 10, 2]]], [gts2])[0] == pytest.approx(2 / 3)
    assert center_hit_f1_per_sample([[[0, 0, 10, 2]]], [gts2], one_to_one=False)[0] == (
        pytest.approx(2 / 3)
    )
    # No-target conventions, and the mean.
    vals = center_hit_f1_per_sample([EMPTY, [[0, 0, 1, 1]], EMPTY], [EMPTY, EMPTY, gt])
    np.testing.assert_array_equal(vals, [1.0, 0.0, 0.0])
    assert center_hit_f1([EMPTY, [[0, 0, 4, 4]]], [EMPTY, gt]) == 1.0


def test_center_hit_matches_brute_force():
    rng = np.random.default_rng(11)
    for _ in range(60):
        p, g = rng.integers(1, 5, size=2)
        xy = rng.uniform(0, 10, size=(p + g, 2))
        wh = rng.uniform(2, 8, size=(p + g, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        pred, gt = boxes[:p], boxes[p:]
        centres = (pred[:, :2] + pred[:, 2:]) / 2
        hits = np.array(
            [
                [gt[j, 0] <= cx <= gt[j, 2] and gt[j, 1] <= cy <= gt[j, 3] for j in range(g)]
                for cx, cy in centres
            ]
        )
        tp = _brute_force_max_matching(hits)
        assert center_hit_f1_per_sample([pred], [gt])[0] == pytest.approx(2 * tp / (p + g))


# --- masks ----------------------------------------------------------------------------------


def test_boxes_to_mask_pixel_convention():
    m = boxes_to_mask(np.array([[5, 2, 6, 3]]), (4, 8))
    assert m.sum() == 1 and m[2, 5]
    assert mask_bbox(m) == (5.0, 2.0, 6.0, 3.0)  # round trip with the imaging convention
    # Fractional: pixel centres 0.5 and 1.5 lie in [0.4, 1.6) but not in [0.6, 1.4).
    assert boxes_to_mask(np.array([[0.4, 0, 1.6, 1]]), (1, 3)).tolist() == [[True, True, False]]
    assert not boxes_to_mask(np.array([[0.6, 0, 1.4, 1]]), (1, 3)).any()
    # Union of overlapping boxes, clipped to the canvas.
    u = boxes_to_mask(np.array([[0, 0, 2, 2], [1, 1, 3, 3], [-5, -5, 1, 1]]), (3, 3))
    assert u.sum() == 4 + 4 - 1 + 0  # third box adds only pixel (0,0), already covered


def test_mask_iou_by_hand():
    preds = [[[0, 0, 4, 4]], [[0, 0, 4, 2]], EMPTY, [[0, 0, 2, 2]]]
    gts = [[[2, 0, 6, 4]], [[0, 0, 2, 2], [2, 0, 4, 2]], EMPTY, EMPTY]
    iou, inter, union = mask_iou_per_sample(preds, gts)
    # s1: inter 2x4 = 8, union 16 + 16 - 8 = 24 -> 1/3.
    # s2: union of the two GT boxes is [0,0,4,2] = the prediction -> 8 / 8 = 1.
    # s3: no-target, empty prediction -> IoU 1, I = U = 0 (ReLA).
    # s4: no-target, 4-pixel prediction -> IoU 0, U = 4.
    np.testing.assert_allclose(iou, [1 / 3, 1, 1, 0])
    np.testing.assert_array_equal(inter, [8, 8, 0, 0])
    np.testing.assert_array_equal(union, [24, 8, 0, 4])
    s = mask_iou(preds, gts)
    assert s["mean_iou"] == pytest.approx((1 / 3 + 1 + 1 + 0) / 4)  # 7/12
    assert s["cum_iou"] == pytest.approx(16 / 36)
    assert s["accuracy"] == pytest.approx(2 / 4)  # s2, s3
    assert s["accuracy_targeted"] == pytest.approx(1 / 2)  # s2 of {s1, s2}
    assert s["n_targeted"] == 2
    # Targeted sample, empty prediction: IoU 0, U = |GT|.
    iou, inter, union = mask_iou_per_sample([EMPTY], [[[0, 0, 3, 3]]])
    assert (iou[0], inter[0], union[0]) == (0.0, 0, 9)


def test_mask_iou_image_size_clips_and_masks_accepted():
    pred, gt = [[-5, -5, 5, 5]], [[0, 0, 5, 5]]
    # Without an image size the whole prediction counts: 25 / 100.
    assert mask_iou_per_sample([pred], [gt])[0][0] == pytest.approx(0.25)
    # Clipped to a 10x10 image the prediction is [0,0,5,5]: IoU 1.
    assert mask_iou_per_sample([pred], [gt], image_sizes=[(10, 10)])[0][0] == 1.0
    # Boolean masks directly, and a mask against boxes.
    pm = np.zeros((4, 4), bool)
    pm[:2, :2] = True
    gm = np.zeros((4, 4), bool)
    gm[:2, :] = True
    assert mask_iou_per_sample([pm], [gm])[0][0] == pytest.approx(4 / 8)
    assert mask_iou_per_sample([pm], [[[0, 0, 4, 2]]])[0][0] == pytest.approx(4 / 8)
    with pytest.raises(ValueError):
        mask_iou_per_sample([pm], [np.zeros((3, 3), bool)])


def test_mask_iou_matches_pixel_sets():
    rng = np.random.default_rng(5)
    preds, gts, expected = [], [], []
    for _ in range(40):
        k, g = rng.integers(0, 4), rng.integers(1, 4)
        xy = rng.integers(-3, 15, size=(k + g, 2))
        wh = rng.integers(1, 9, size=(k + g, 2))
        boxes = np.concatenate([xy, xy + wh], axis=1).astype(float)
        p_set = set().union(*[_pixel_set(b) for b in boxes[:k]])
        g_set = set().union(*[_pixel_set(b) for b in boxes[k:]])
        preds.append(boxes[:k])
        gts.append(boxes[k:])
        expected.append(len(p_set & g_set) / len(p_set | g_set))
    np.testing.assert_allclose(mask_iou_per_sample(preds, gts)[0], expected)
