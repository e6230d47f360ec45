"""VGRefine attention metrics (paper 001 sec. 2.2) and the box → token-grid mapping."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from medbench.evaluators.metrics.attention import (
    attention_ratio,
    box_to_token_mask,
    box_token_coverage,
    js_divergence,
    kl_divergence,
    relative_attention,
)

LN2 = math.log(2)
FAST = settings(max_examples=40, deadline=None)


def _span(mask: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """(first row, last row), (first col, last col) of a rectangular mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert mask.sum() == len(rows) * len(cols), "mask is not a rectangle"
    return (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1]))


# --- box → token grid ----------------------------------------------------------------------------


def test_pad_shifts_rows_of_a_wide_image():
    # 672×336 image, padded to a 672 square: y offset (672 - 336) // 2 = 168, x offset 0.
    # One token = 672 / 24 = 28 px of the square.
    # x: 100/28 = 3.57 → floor 3;  300/28 = 10.71 → ceil 11  → cols 3..10
    # y: (50+168)/28 = 218/28 = 7.79 → floor 7
    #    (150+168)/28 = 318/28 = 11.36 → ceil 12 → rows 7..11
    mask = box_to_token_mask([100, 50, 300, 150], (672, 336), (24, 24))
    assert _span(mask) == ((7, 11), (3, 10))


def test_vgrefine_mode_ignores_the_padding():
    # Official code: scale to 336×336 (sx = 336/672 = 0.5, sy = 336/336 = 1), token = 14 px.
    # x: 50/14 = 3.57 → 3;  150/14 = 10.71 → 11 → cols 3..10
    # y: 50/14 = 3.57 → 3;  150/14 = 10.71 → 11 → rows 3..10 (4 rows higher than with the offset)
    mask = box_to_token_mask([100, 50, 300, 150], (672, 336), (24, 24), preprocess="vgrefine")
    assert _span(mask) == ((3, 10), (3, 10))
    # plain resize is the same geometry here
    resized = box_to_token_mask([100, 50, 300, 150], (672, 336), (24, 24), preprocess="resize")
    assert np.array_equal(mask, resized)


def test_whole_image_box_covers_only_the_image_part_of_the_padded_square():
    # Image rows live at 168..504 of the 672 square → token rows 168/28 = 6 .. 504/28 = 18 (excl.)
    mask = box_to_token_mask([0, 0, 672, 336], (672, 336), (24, 24))
    assert _span(mask) == ((6, 17), (0, 23))
    assert mask.sum() == 12 * 24
    official = box_to_token_mask([0, 0, 672, 336], (672, 336), (24, 24), preprocess="vgrefine")
    assert official.all()  # the official mapping stretches it over all 576 tokens


def test_pad_shifts_columns_of_a_tall_image():
    # 336×672 (w×h): x offset 168. Box x 0..84 → (0+168)/28 = 6 .. (84+168)/28 = 9 → cols 6..8;
    # y 0..56 → 0 .. 2 → rows 0..1.
    mask = box_to_token_mask([0, 0, 84, 56], (336, 672), (24, 24))
    assert _span(mask) == ((0, 1), (6, 8))


def test_box_on_token_boundaries_takes_no_extra_token():
    # 336 square, token 14 px: [14, 28, 42, 56] → cols 1..2, rows 2..3 exactly
    for mode in ("pad", "resize", "vgrefine"):
        mask = box_to_token_mask([14, 28, 42, 56], (336, 336), (24, 24), preprocess=mode)
        assert _span(mask) == ((2, 3), (1, 2)), mode


def test_float_noise_on_a_boundary_snaps():
    # (0.1 + 0.2)·140 = 42.00000000000001 px, i.e. 3.0000000000000004 tokens of 14 px: without
    # the 1e-9 snap ceil() would take a 4th column the box does not really reach.
    x2 = (0.1 + 0.2) * 140
    assert x2 != 42.0
    mask = box_to_token_mask([0, 0, x2, 14], (336, 336), (24, 24))
    assert _span(mask) == ((0, 0), (0, 2))


def test_vgrefine_mode_keeps_the_reference_float_artefact():
    # 500×500, x2 = 375: exactly 375·24/500 = 18 tokens. The reference computes
    # 375·(336/500)/14 = 18.000000000000004 and ceil() takes column 18 as well.
    ours = box_to_token_mask([0, 0, 375, 14], (500, 500), (24, 24), preprocess="resize")
    official = box_to_token_mask([0, 0, 375, 14], (500, 500), (24, 24), preprocess="vgrefine")
    assert _span(ours)[1] == (0, 17)
    assert _span(official)[1] == (0, 18)


def test_centre_rule():
    # 336 square: [0, 0, 21, 21] → grid [0, 1.5): token 0's centre 0.5 is inside, token 1's 1.5 is
    # not (half-open) → 1 token; "any" takes tokens 0 and 1 on each axis → 4 tokens.
    box = [0, 0, 21, 21]
    assert box_to_token_mask(box, (336, 336), (24, 24), rule="centre").sum() == 1
    assert box_to_token_mask(box, (336, 336), (24, 24), rule="any").sum() == 4


def test_crop_drops_the_sides():
    # 672×336 centre-cropped to the middle 336 square: x offset −168.
    # [168, 0, 336, 168] → x (0 .. 168)·24/336 = 0 .. 12, y 0 .. 12 → 12×12 tokens at the top left
    mask = box_to_token_mask([168, 0, 336, 168], (672, 336), (24, 24), preprocess="crop")
    assert _span(mask) == ((0, 11), (0, 11))
    # a box in the cut-away left strip vanishes
    assert not box_to_token_mask([0, 0, 100, 100], (672, 336), (24, 24), preprocess="crop").any()


def test_multiple_boxes_are_a_union_and_no_box_is_empty():
    a = box_to_token_mask([0, 0, 28, 28], (336, 336), (24, 24))
    b = box_to_token_mask([14, 14, 42, 42], (336, 336), (24, 24))
    both = box_to_token_mask([[0, 0, 28, 28], [14, 14, 42, 42]], (336, 336), (24, 24))
    assert np.array_equal(both, a | b)
    assert both.sum() == 4 + 4 - 1
    assert not box_to_token_mask(np.zeros((0, 4)), (336, 336), (24, 24)).any()
    assert not box_to_token_mask([], (336, 336), (24, 24), preprocess="vgrefine").any()
    assert not box_token_coverage([], (336, 336), (24, 24)).any()


def test_boxes_outside_the_image_are_clipped_before_padding():
    # On 672×336 a box reaching y = 400 must not spill into the bottom padding (rows ≥ 18).
    mask = box_to_token_mask([0, 300, 28, 400], (672, 336), (24, 24))
    # y: (300+168)/28 = 16.7 → 16; clipped 336 → (336+168)/28 = 18 → rows 16..17
    assert _span(mask) == ((16, 17), (0, 0))


def test_coverage_hand_case_and_union_counted_once():
    # 336 square, token 14 px: [7, 0, 21, 14] covers half of token (0,0) and half of token (0,1)
    cov = box_token_coverage([7, 0, 21, 14], (336, 336), (24, 24))
    assert cov[0, 0] == pytest.approx(0.5) and cov[0, 1] == pytest.approx(0.5)
    assert cov.sum() == pytest.approx(1.0)
    twice = box_token_coverage([[7, 0, 21, 14], [7, 0, 21, 14]], (336, 336), (24, 24))
    assert np.allclose(twice, cov)
    # overlapping halves: [0,0,14,14] ∪ [7,0,21,14] = 21×14 px = 1.5 tokens
    cov2 = box_token_coverage([[0, 0, 14, 14], [7, 0, 21, 14]], (336, 336), (24, 24))
    assert cov2[0, 0] == pytest.approx(1.0) and cov2.sum() == pytest.approx(1.5)


def test_bad_mapping_arguments():
    with pytest.raises(ValueError):
        box_to_token_mask([0, 0, 1], (336, 336), (24, 24))
    with pytest.raises(ValueError):
        box_to_token_mask(
            [0, 0, 10, 10], (336, 336), (24, 24), preprocess="vgrefine", rule="centre"
        )
    with pytest.raises(ValueError):
        box_to_token_mask([0, 0, 10, 10], (336, 336), (24, 24), preprocess="stretch")  # type: ignore


def _reference_tokens(box, image_size, grid, input_size=(336, 336)):
    """The official code's two steps, written out as in its source (a set of (x, y) tokens)."""
    w, h = image_size
    rows, cols = grid
    sx, sy = input_size[0] / w, input_size[1] / h
    x1, y1, x2, y2 = box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy
    tw, th = input_size[0] / cols, input_size[1] / rows
    xs = range(int(max(np.floor(x1 / tw), 0)), int(min(int(np.ceil(x2 / tw)), cols)))
    ys = range(int(max(np.floor(y1 / th), 0)), int(min(int(np.ceil(y2 / th)), rows)))
    return {(x, y) for x in xs for y in ys}


image_sizes = st.tuples(st.integers(16, 1200), st.integers(16, 1200))


@st.composite
def image_and_box(draw):
    w, h = draw(image_sizes)
    x1 = draw(st.floats(0, w - 1))
    y1 = draw(st.floats(0, h - 1))
    x2 = draw(st.floats(x1 + 0.5, w))
    y2 = draw(st.floats(y1 + 0.5, h))
    return (w, h), [x1, y1, x2, y2]


@FAST
@given(image_and_box(), st.sampled_from([(24, 24), (16, 16), (12, 20)]))
def test_vgrefine_mode_matches_the_reference_algorithm(case, grid):
    size, box = case
    mask = box_to_token_mask(box, size, grid, preprocess="vgrefine")
    assert {(int(c), int(r)) for r, c in np.argwhere(mask)} == _reference_tokens(box, size, grid)


@FAST
@given(image_and_box(), st.sampled_from(["pad", "resize", "crop"]))
def test_rules_nest_and_coverage_agrees(case, preprocess):
    size, box = case
    cov = box_token_coverage(box, size, (24, 24), preprocess=preprocess)
    anym = box_to_token_mask(box, size, (24, 24), preprocess=preprocess)
    centre = box_to_token_mask(box, size, (24, 24), preprocess=preprocess, rule="centre")
    assert np.all((cov >= 0) & (cov <= 1))
    assert not np.any(centre & ~anym)
    assert not np.any(anym & (cov == 0))  # "any" only takes tokens the box really overlaps
    assert not np.any((cov > 1e-6) & ~anym)  # ... and every token it overlaps (beyond snapping)
    if preprocess != "crop":  # nothing is cut away: coverage integrates to the box area
        w, h = size
        side_x, side_y = (max(w, h),) * 2 if preprocess == "pad" else (w, h)
        area = (box[2] - box[0]) * 24 / side_x * (box[3] - box[1]) * 24 / side_y
        assert cov.sum() == pytest.approx(area, rel=1e-9, abs=1e-9)


@FAST
@given(st.integers(16, 1200), st.integers(0, 300), st.integers(0, 300))
def test_square_images_need_no_offset(side, a, b):
    box = [min(a, b) % side, min(a, b) % side, side, side]
    assert np.array_equal(
        box_to_token_mask(box, (side, side), (24, 24), preprocess="pad"),
        box_to_token_mask(box, (side, side), (24, 24), preprocess="resize"),
    )


# --- metrics: hand-computed cases ---------------------------------------------------------------


def test_attention_ratio_hand_cases():
    one = np.array([[1, 0], [0, 0]], dtype=bool)
    # uniform: N·ΣA·M / (ΣA·ΣM) = 4·1 / (4·1) = 1
    assert attention_ratio(np.ones((2, 2)), one) == pytest.approx(1.0)
    # A = [[3, 1], [0, 0]]: 4·3 / (4·1) = 3
    assert attention_ratio(np.array([[3.0, 1], [0, 0]]), one) == pytest.approx(3.0)
    # A = [[2, 2], [0, 4]], M = top row: 4·(2+2) / (8·2) = 1
    top = np.array([[1, 1], [0, 0]], dtype=bool)
    assert attention_ratio(np.array([[2.0, 2], [0, 4]]), top) == pytest.approx(1.0)
    # all attention inside a 1-token region of 4: AR = N/|G| = 4
    assert attention_ratio(np.array([[5.0, 0], [0, 0]]), one) == pytest.approx(4.0)


def test_kl_hand_cases():
    one = np.array([[1, 0], [0, 0]], dtype=bool)
    # M̂ = [1,0,0,0], Â = [.75,.25,0,0]: KL = 1·ln(1/.75) = ln(4/3)
    assert kl_divergence(np.array([[3.0, 1], [0, 0]]), one) == pytest.approx(math.log(4 / 3))
    # M̂ = [.5,.5,0,0], Â = [.25,.25,0,.5]: KL = .5 ln(.5/.25)·2 = ln 2
    top = np.array([[1, 1], [0, 0]], dtype=bool)
    assert kl_divergence(np.array([[2.0, 2], [0, 4]]), top) == pytest.approx(LN2)
    # attention proportional to the mask: 0
    assert kl_divergence(3.0 * top, top) == pytest.approx(0.0, abs=1e-12)
    # no attention on the region: Â clipped to eps = 1e-12 → ln(1/1e-12) = 12 ln 10
    assert kl_divergence(np.array([[0.0, 1], [1, 1]]), one) == pytest.approx(12 * math.log(10))


def test_js_hand_cases():
    one = np.array([[1, 0], [0, 0]], dtype=bool)
    # Â = [.75,.25,0,0], M̂ = [1,0,0,0], R̂ = [.875,.125,0,0]
    # JS = ½[1·ln(1/.875)] + ½[.75 ln(.75/.875) + .25 ln(.25/.125)]
    expected = 0.5 * math.log(8 / 7) + 0.5 * (0.75 * math.log(6 / 7) + 0.25 * LN2)
    assert js_divergence(np.array([[3.0, 1], [0, 0]]), one, eps=0.0) == pytest.approx(expected)
    # disjoint supports: R̂ = half of each → JS = ½ ln 2 + ½ ln 2 = ln 2
    assert js_divergence(np.array([[0.0, 1], [1, 1]]), one, eps=0.0) == pytest.approx(LN2)
    # identical: 0
    assert js_divergence(2.0 * one, one, eps=0.0) == pytest.approx(0.0, abs=1e-15)
    # the reference's eps = 1e-8 barely moves it
    assert js_divergence(np.array([[3.0, 1], [0, 0]]), one) == pytest.approx(expected, abs=1e-7)


def test_relative_attention():
    # elementwise A / A_generic: [2/1, 4/2] = [2, 2]
    assert np.array_equal(relative_attention(np.array([[2.0, 4]]), np.array([[1.0, 2]])), [[2, 2]])


def test_input_checks():
    ones = np.ones((2, 2))
    with pytest.raises(ValueError, match="empty"):
        attention_ratio(ones, np.zeros((2, 2), dtype=bool))
    with pytest.raises(ValueError):
        kl_divergence(-ones, np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError):
        js_divergence(np.ones((3, 3)), np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError):  # inf from a zero in the generic map
        attention_ratio(relative_attention(ones, np.zeros((2, 2))), np.ones((2, 2), dtype=bool))
    zero = attention_ratio(np.zeros((2, 2)), np.ones((2, 2), dtype=bool))
    assert math.isnan(zero)


# --- metrics: independent references -------------------------------------------------------------

grids = st.sampled_from([(2, 2), (3, 5), (6, 6)])


@st.composite
def attn_and_mask(draw, positive: bool = False):
    shape = draw(grids)
    low = 1e-3 if positive else 0.0
    attn = draw(arrays(float, shape, elements=st.floats(low, 10.0, allow_subnormal=False)))
    mask = draw(arrays(bool, shape))
    if not mask.any():
        mask.flat[draw(st.integers(0, mask.size - 1))] = True
    if attn.sum() == 0:
        attn.flat[0] = 1.0
    return attn, mask


@FAST
@given(attn_and_mask(positive=True))
def test_kl_matches_scipy_rel_entr(case):
    attn, mask = case
    a_hat = attn / attn.sum()
    m_hat = mask / mask.sum()
    assert kl_divergence(attn, mask) == pytest.approx(rel_entr(m_hat, a_hat).sum(), rel=1e-9)


@FAST
@given(attn_and_mask())
def test_js_matches_scipy_jensenshannon_squared(case):
    attn, mask = case
    a_hat, m_hat = (attn / attn.sum()).ravel(), (mask / mask.sum()).ravel()
    expected = jensenshannon(m_hat, a_hat) ** 2  # scipy returns the square root, base e
    assert js_divergence(attn, mask, eps=0.0) == pytest.approx(expected, abs=1e-12)
    assert js_divergence(attn, mask) == pytest.approx(expected, abs=1e-6)


@FAST
@given(attn_and_mask())
def test_matches_the_reference_formulas(case):
    """The reference's numpy expressions (clips and epsilons included), as read in its source."""
    attn, mask = case
    # The reference's epsilons are absolute, so give the map the scale of a relative map
    # A/A_generic (about 1 per token); at that scale they fall below the tolerances.
    attn = attn / attn.sum() * mask.size
    n, flat, g = mask.size, attn.ravel(), mask.ravel()
    ar_ref = flat[g].sum() / (flat.sum() / n * g.sum() + 1e-8)
    att = flat / (flat.sum() + 1e-8)
    gt = g / g.sum()
    kl_ref = np.sum(np.clip(gt, 1e-12, 1) * np.log(np.clip(gt, 1e-12, 1) / np.clip(att, 1e-12, 1)))
    m = 0.5 * (att + gt)
    e = 1e-8
    js_ref = 0.5 * (
        np.sum(att * np.log((att + e) / (m + e))) + np.sum(gt * np.log((gt + e) / (m + e)))
    )
    assert attention_ratio(attn, mask) == pytest.approx(ar_ref, rel=1e-6)
    assert kl_divergence(attn, mask) == pytest.approx(kl_ref, abs=1e-8 * n + 1e-7)
    assert js_divergence(attn, mask) == pytest.approx(js_ref, abs=1e-9)


def test_batched_equals_looped():
    rng = np.random.default_rng(0)
    attn = rng.random((3, 4, 6, 6))  # e.g. layers × heads × grid
    mask = rng.random((6, 6)) > 0.6
    for fn in (attention_ratio, kl_divergence, js_divergence):
        batched = fn(attn, mask)
        assert batched.shape == (3, 4)
        looped = np.array([[fn(attn[i, j], mask) for j in range(4)] for i in range(3)])
        assert np.allclose(batched, looped, rtol=1e-12, atol=0)
    # per-item masks broadcast too
    masks = rng.random((3, 1, 6, 6)) > 0.5
    masks[..., 0, 0] = True
    assert attention_ratio(attn, masks).shape == (3, 4)


# --- metrics: properties -------------------------------------------------------------------------


@FAST
@given(grids, st.floats(1e-6, 1e6), st.data())
def test_uniform_attention_has_ratio_one(shape, value, data):
    mask = data.draw(arrays(bool, shape))
    if not mask.any():
        mask[0, 0] = True
    assert attention_ratio(np.full(shape, value), mask) == pytest.approx(1.0, rel=1e-12)


@FAST
@given(attn_and_mask(), st.floats(1e-3, 1e3))
def test_kl_non_negative_and_scale_free(case, scale):
    attn, mask = case
    kl = kl_divergence(attn, mask)
    assert kl >= -1e-9
    assert kl_divergence(scale * attn, mask) == pytest.approx(kl, rel=1e-9, abs=1e-12)
    assert kl_divergence(mask * 1.0, mask) == pytest.approx(0.0, abs=1e-12)


@FAST
@given(attn_and_mask(), st.sampled_from([0.0, 1e-8]))
def test_js_bounded_by_ln2(case, eps):
    attn, mask = case
    js = js_divergence(attn, mask, eps=eps)
    assert -1e-15 <= js <= LN2 + 1e-15


@FAST
@given(attn_and_mask(), st.floats(1e-3, 1e3))
def test_ratio_is_scale_free_and_bounded(case, scale):
    attn, mask = case
    ar = attention_ratio(attn, mask)
    assert attention_ratio(scale * attn, mask) == pytest.approx(ar, rel=1e-9)
    assert 0.0 <= ar <= mask.size / mask.sum() + 1e-9
