"""Attention-grounding metrics of VGRefine (paper 001, "How do medical MLLMs fail?", sec. 2.2).

An MLLM's attention from the last prompt token to its image tokens, averaged over heads, is a
map A on the patch-token grid (rows × cols; 24 × 24 = 576 tokens for LLaVA-1.5 and
HuatuoGPT-Vision: CLIP ViT-L/14 at 336 px). A ground-truth box becomes a token mask M on the same
grid (`box_to_token_mask`), and the map is scored against it:

- `attention_ratio`: AR = N·Σ(A·M) / (ΣA · ΣM)   (1 = uniform attention, > 1 = focused on the box)
- `kl_divergence`:   KL(M̂ ‖ Â) = Σ M̂ log(M̂ / Â)
- `js_divergence`:   JS(M̂ ‖ Â) = ½ KL(M̂ ‖ R̂) + ½ KL(Â ‖ R̂),  R̂ = (M̂ + Â)/2

with Â = A/ΣA and M̂ = M/ΣM. Logs are natural, so JS lies in [0, ln 2] nats.
The reference code is `Guimeng-Leo-Liu/Medical-MLLMs-Fail:measure_attention.py` at commit
c7263dd43326a9df130f39495a79d57137fd124e ("the reference" below). Each function says where it
follows the paper text and where it follows the reference.

Every metric reduces over the last two axes (the token grid). Leading axes are batch axes (for
example layers, or layers × heads) and broadcast between `attn` and `mask`. A flat token vector of
length N can be passed as shape (1, N). Masks may be boolean or non-negative weights, such as the
fractional coverage from `box_token_coverage`. The paper uses binary masks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from medbench.imaging.boxes import clip_box

__all__ = [
    "attention_ratio",
    "box_to_token_mask",
    "box_token_coverage",
    "js_divergence",
    "kl_divergence",
    "relative_attention",
]

Preprocess = Literal["pad", "resize", "crop", "vgrefine"]
TokenRule = Literal["any", "centre"]

# Grid coordinates within this distance of a token boundary snap to it. Without this, float
# noise such as 6.000000000000001 would pull in a token row that the box only touches.
_SNAP = 1e-9


def _boxes_array(
    boxes_xyxy: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
) -> np.ndarray:
    boxes = np.asarray(boxes_xyxy, dtype=float)
    if boxes.size == 0:
        return np.zeros((0, 4))
    if boxes.ndim == 1:
        boxes = boxes[None, :]
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"boxes must be [x1, y1, x2, y2] or a (K, 4) array, got shape {boxes.shape}"
        )
    return boxes


def _grid_boxes(
    boxes: np.ndarray, image_size: tuple[int, int], grid: tuple[int, int], preprocess: str
) -> np.ndarray:
    """Pixel boxes on the original image → boxes in grid units (1 unit = 1 token), clipped to the
    model's canvas."""
    w, h = image_size
    rows, cols = grid
    if w <= 0 or h <= 0 or rows <= 0 or cols <= 0:
        raise ValueError(f"image_size {image_size} and grid {grid} must be positive")
    if preprocess == "pad":
        # LLaVA `expand2square`: paste the image onto a max(w, h) square at an integer offset
        # (floor division, as PIL paste takes ints), then resize the square to the model input.
        side_x = side_y = float(max(w, h))
        off_x, off_y = float((max(w, h) - w) // 2), float((max(w, h) - h) // 2)
    elif preprocess == "resize":
        side_x, side_y, off_x, off_y = float(w), float(h), 0.0, 0.0
    elif preprocess == "crop":
        # CLIPImageProcessor without padding: shortest edge → input size, then a centre square.
        # Computed in original pixels, so it ignores the resampler's rounding of the long edge
        # (under one resized pixel).
        side_x = side_y = float(min(w, h))
        off_x, off_y = -(w - min(w, h)) / 2.0, -(h - min(w, h)) / 2.0
    else:
        raise ValueError(f"preprocess must be 'pad', 'resize' or 'crop' here, got {preprocess!r}")
    out = np.empty_like(boxes)
    for k, box in enumerate(boxes):
        x1, y1, x2, y2 = clip_box(box, w, h)  # the canvas outside the image is padding, never GT
        # multiply before dividing: integer inputs then land exactly on token boundaries
        out[k] = (
            (x1 + off_x) * cols / side_x,
            (y1 + off_y) * rows / side_y,
            (x2 + off_x) * cols / side_x,
            (y2 + off_y) * rows / side_y,
        )
    out[:, [0, 2]] = out[:, [0, 2]].clip(0.0, cols)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0.0, rows)
    return out


def _vgrefine_mask(
    boxes: np.ndarray,
    image_size: tuple[int, int],
    grid: tuple[int, int],
    input_size: tuple[int, int],
) -> np.ndarray:
    """The reference's mapping, reproduced operation by operation so that float ties break the
    same way. `convert_bbox_after_resize` scales x by W_in/w and y by H_in/h, with no padding
    offset and no clipping. `get_tokens_covering_bbox` then keeps columns
    [max(floor(x1/tw), 0), min(ceil(x2/tw), cols)) with tw = W_in/cols, and rows the same way."""
    w, h = image_size
    rows, cols = grid
    w_in, h_in = input_size
    scale_x, scale_y = w_in / w, h_in / h
    token_w, token_h = w_in / cols, h_in / rows
    mask = np.zeros((rows, cols), dtype=bool)
    for x1, y1, x2, y2 in boxes:
        bx1, by1, bx2, by2 = x1 * scale_x, y1 * scale_y, x2 * scale_x, y2 * scale_y
        c0 = int(max(math.floor(bx1 / token_w), 0))
        r0 = int(max(math.floor(by1 / token_h), 0))
        c1 = int(min(math.ceil(bx2 / token_w), cols))
        r1 = int(min(math.ceil(by2 / token_h), rows))
        if c1 > c0 and r1 > r0:
            mask[r0:r1, c0:c1] = True
    return mask


def box_to_token_mask(
    boxes_xyxy: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
    image_size: tuple[int, int],
    grid: tuple[int, int],
    *,
    preprocess: Preprocess = "pad",
    rule: TokenRule = "any",
    input_size: tuple[int, int] = (336, 336),
) -> np.ndarray:
    """Boolean (rows, cols) mask of the patch tokens that the union of the given boxes covers.

    boxes_xyxy: one [x1, y1, x2, y2] box or a (K, 4) array, in pixels on the original image
        (the convention of `medbench.imaging.boxes`: the far edge is exclusive). Convert xywh boxes
        with `medbench.imaging.boxes.xywh_to_xyxy` first. K = 0 gives an all-False mask.
    image_size: (width, height) of the original image, as PIL's `Image.size` gives it.
    grid: (rows, cols) of the token grid, e.g. (24, 24) for LLaVA-1.5 / HuatuoGPT-Vision.
    preprocess: how the model turned the image into its square or grid input.
        "pad" (default): LLaVA `expand2square`. The image is pasted onto a max(w, h) square at
            offset ((side - w) // 2, (side - h) // 2), then resized. HuatuoGPT-Vision and
            LLaVA-1.5 do this (`image_aspect_ratio: pad`). A 672×336 image becomes a 672 square
            with the image at rows 168..504, so its boxes move down 168 px before scaling.
        "resize": plain per-axis scaling, for models that stretch the image (or resize it to a
            grid of its own aspect ratio, like Qwen2-VL).
        "crop": shortest edge to the input size, then a centre square (CLIP's default); box parts
            outside the square are lost.
        "vgrefine": the official VGRefine code, bit for bit. It scales boxes from (w, h) to
            `input_size` by plain x/y scaling, even though HuatuoGPT pads. It therefore ignores
            the padding offset and misplaces boxes on non-square images (research notes §0.1,
            an inferred bug). Use it only to reproduce the paper's numbers. This mode does not
            clip boxes to the image (the reference does not either); it requires rule="any".
    rule: which partly covered tokens count.
        "any" (default, the reference's rule): every token that the box overlaps with positive
            width and height, i.e. columns floor(x1/tw) .. ceil(x2/tw) - 1. A box that only
            touches a token boundary does not take the next token.
        "centre": tokens whose centre lies in [x1, x2) × [y1, y2).
        For area weights use `box_token_coverage`.
    input_size: (width, height) of the model input. Only "vgrefine" uses it, to repeat the
        reference's arithmetic; other modes work in grid units, where it cancels.

    Correct modes clip boxes to the image first (the padding is never ground truth). They snap
    grid coordinates within 1e-9 of a token boundary onto it.
    """
    boxes = _boxes_array(boxes_xyxy)
    rows, cols = grid
    if preprocess == "vgrefine":
        if rule != "any":
            raise ValueError(
                "preprocess='vgrefine' reproduces the reference, which uses rule='any'"
            )
        return _vgrefine_mask(boxes, image_size, grid, input_size)
    gboxes = _grid_boxes(boxes, image_size, grid, preprocess)
    mask = np.zeros((rows, cols), dtype=bool)
    if rule == "any":
        for gx1, gy1, gx2, gy2 in gboxes:
            c0, r0 = math.floor(gx1 + _SNAP), math.floor(gy1 + _SNAP)
            c1, r1 = math.ceil(gx2 - _SNAP), math.ceil(gy2 - _SNAP)
            if c1 > c0 and r1 > r0:
                mask[r0:r1, c0:c1] = True
    elif rule == "centre":
        cx = np.arange(cols) + 0.5
        cy = np.arange(rows) + 0.5
        for gx1, gy1, gx2, gy2 in gboxes:
            inside_x = (cx >= gx1 - _SNAP) & (cx < gx2 - _SNAP)
            inside_y = (cy >= gy1 - _SNAP) & (cy < gy2 - _SNAP)
            mask |= inside_y[:, None] & inside_x[None, :]
    else:
        raise ValueError(f"rule must be 'any' or 'centre', got {rule!r}")
    return mask


def box_token_coverage(
    boxes_xyxy: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
    image_size: tuple[int, int],
    grid: tuple[int, int],
    *,
    preprocess: Literal["pad", "resize", "crop"] = "pad",
) -> np.ndarray:
    """Float (rows, cols) array: the fraction of each token's area that the union of the boxes
    covers, in [0, 1]. Geometry as in `box_to_token_mask`. Overlapping boxes count once.

    This is not in the paper or the reference. It is an option for soft masks (pass it as `mask`
    to the metrics below). `coverage > 0` equals `box_to_token_mask(rule="any")` for boxes that do
    not end within 1e-9 token of a boundary.
    """
    boxes = _boxes_array(boxes_xyxy)
    rows, cols = grid
    gboxes = _grid_boxes(boxes, image_size, grid, preprocess)
    gboxes = gboxes[(gboxes[:, 2] > gboxes[:, 0]) & (gboxes[:, 3] > gboxes[:, 1])]
    if len(gboxes) == 0:
        return np.zeros((rows, cols))
    # Cut the plane at every token boundary and every box edge. Each elementary cell then lies
    # in exactly one token and is either fully inside or fully outside each box, so the union
    # area is exact.
    xs = np.unique(np.concatenate([np.arange(cols + 1.0), gboxes[:, 0], gboxes[:, 2]]))
    ys = np.unique(np.concatenate([np.arange(rows + 1.0), gboxes[:, 1], gboxes[:, 3]]))
    mid_x, mid_y = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2
    covered = np.zeros((len(mid_y), len(mid_x)), dtype=bool)
    for gx1, gy1, gx2, gy2 in gboxes:
        covered |= ((mid_y >= gy1) & (mid_y < gy2))[:, None] & ((mid_x >= gx1) & (mid_x < gx2))
    area = covered * np.diff(ys)[:, None] * np.diff(xs)[None, :]
    # one-hot cell → token matrices sum the cell areas per token (token area is 1 grid unit²)
    to_row = np.floor(mid_y).astype(int)[None, :] == np.arange(rows)[:, None]
    to_col = np.floor(mid_x).astype(int)[:, None] == np.arange(cols)[None, :]
    return np.clip(to_row.astype(float) @ area @ to_col.astype(float), 0.0, 1.0)


def relative_attention(
    attn: np.ndarray, generic_attn: np.ndarray, *, eps: float = 0.0
) -> np.ndarray:
    """Â = A / (A_generic + eps), elementwise: the map for the question divided by the map for the
    generic prompt "Write a general description of the image.".

    Source: paper 001 sec. 2.3, after Zhang et al. 2025 ("MLLMs know where to look"). The
    reference `compute_metrics` uses no eps, which is the default here. The VGRefine triage
    (`eval_utils.py`) adds 1e-10. Zeros in the generic map give inf, which the metrics reject.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # inf/nan are documented, not warned
        return np.asarray(attn, dtype=float) / (np.asarray(generic_attn, dtype=float) + eps)


def _prepare(attn: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(attn, dtype=float)
    m = np.asarray(mask, dtype=float)
    if a.ndim < 2 or m.ndim < 2:
        raise ValueError("attn and mask need a 2-D token grid as their last two axes")
    if a.shape[-2:] != m.shape[-2:]:
        raise ValueError(f"attn grid {a.shape[-2:]} and mask grid {m.shape[-2:]} differ")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("attention must be finite and non-negative")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ValueError("mask must be finite and non-negative")
    if np.any(m.sum(axis=(-2, -1)) == 0):
        # the reference raises here too ("No visual tokens overlap the ground-truth boxes")
        raise ValueError("the mask is empty: no token overlaps the ground-truth region")
    a, m = np.broadcast_arrays(a, m)
    return a, m


def _out(value: np.ndarray) -> float | np.ndarray:
    return float(value) if value.ndim == 0 else value


def attention_ratio(attn: np.ndarray, mask: np.ndarray) -> float | np.ndarray:
    """Attention ratio AR = N · Σ(A·M) / (ΣA · ΣM), with N = rows·cols tokens.

    This is the attention mass inside the region divided by the mass that a uniform map would
    give the region. Uniform attention has AR = 1 and attention confined to the region has
    AR = N/ΣM. AR does not depend on the scale of A.

    Sources: the reference's `attention_ratio_vectorized`,
    Σ_{i∈G} Aᵢ / ((Σᵢ Aᵢ / N)·|G| + 1e-8), which follows the paper's words ("sum of attention
    inside the ground truth bounding box divided by the average attention inside the bounding box
    of the same size", Zhang et al. 2025). We drop the reference's absolute 1e-8. Its relative
    effect is 1e-8·N/(ΣA·|G|): below 1e-5 for a map that sums to 1, and about 1e-8 for the
    relative maps A/A_generic (≈ 1 per token) that the reference scores.

    The formula as printed in paper 001 sec. 2.2, Σ A·M / (‖A‖₁·‖M‖₁), lacks the factor N and
    would give 1/N for uniform attention. We follow the words and the code.

    A map that sums to zero gives nan.
    """
    a, m = _prepare(attn, mask)
    n_tokens = a.shape[-2] * a.shape[-1]
    inside = (a * m).sum(axis=(-2, -1))
    total = a.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = n_tokens * inside / (total * m.sum(axis=(-2, -1)))
    return _out(np.where(total > 0, ratio, np.nan))


def _normalise(a: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    total = a.sum(axis=(-2, -1), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_hat = a / total
    return a_hat, m / m.sum(axis=(-2, -1), keepdims=True), total[..., 0, 0] > 0


def kl_divergence(attn: np.ndarray, mask: np.ndarray, *, eps: float = 1e-12) -> float | np.ndarray:
    """KL(M̂ ‖ Â) = Σ M̂ᵢ ln(M̂ᵢ / max(Âᵢ, eps)) in nats, with Â = A/ΣA and M̂ = M/ΣM.

    Direction: the mask is the reference distribution. KL(M̂ ‖ Â) is finite even when attention
    misses tokens outside the region, and it is large when attention inside the region is low or
    uneven. Paper 001 sec. 2.2 (eq. for D_KL) and the reference's `kl_divergence_vectorized`
    both use this direction.

    Smoothing: the reference clips both Â and M̂ to [1e-12, 1] before the log. We clip only Â,
    with the same eps, so a region token with no attention costs ln(M̂ᵢ/1e-12) and not
    infinity. Tokens outside the region add exactly 0 (0·ln 0 = 0). The reference adds
    1e-12·ln(1e-12/Âᵢ) for each of them, which is below 2e-8 in total for 576 tokens. The
    reference also normalises A by ΣA + 1e-8, a relative change of 1e-8/ΣA.
    KL ≥ 0 (up to about |G|·eps when clipping raises Â), with equality iff Â = M̂. A map that sums
    to zero gives nan.
    """
    a, m = _prepare(attn, mask)
    a_hat, m_hat, ok = _normalise(a, m)
    log_ratio = np.log(np.where(m_hat > 0, m_hat, 1.0)) - np.log(np.maximum(a_hat, eps))
    kl = np.where(m_hat > 0, m_hat * log_ratio, 0.0).sum(axis=(-2, -1))
    return _out(np.where(ok, kl, np.nan))


def js_divergence(attn: np.ndarray, mask: np.ndarray, *, eps: float = 1e-8) -> float | np.ndarray:
    """JS(M̂ ‖ Â) = ½ Σ Â ln((Â+ε)/(R̂+ε)) + ½ Σ M̂ ln((M̂+ε)/(R̂+ε)), with R̂ = (Â + M̂)/2, in nats.

    With eps = 0 this is the textbook Jensen–Shannon divergence of paper 001 sec. 2.2,
    ½ KL(M̂ ‖ R̂) + ½ KL(Â ‖ R̂). That equals `scipy.spatial.distance.jensenshannon(p, q)**2`,
    because scipy returns the square root. The default eps = 1e-8 is the reference's
    `js_divergence_vectorized` smoothing. Terms with zero weight are 0, so eps only shifts the
    value, by at most about N·eps. The natural log bounds JS to [0, ln 2] for every eps ≥ 0:
    (p+ε)/(r+ε) ≤ 2 gives the upper bound, and AM–GM on the smoothed pair gives the lower. With
    eps = 0 it is 0 iff Â = M̂ and ln 2 iff the attention lies entirely outside the region. The
    reference also normalises A by ΣA + 1e-8 (relative change 1e-8/ΣA; not repeated here). A
    map that sums to zero gives nan.
    """
    a, m = _prepare(attn, mask)
    a_hat, m_hat, ok = _normalise(a, m)
    a_hat = np.where(ok[..., None, None], a_hat, 0.0)
    r_hat = (a_hat + m_hat) / 2

    def half_kl(p: np.ndarray) -> np.ndarray:
        # r ≥ p/2 > 0 wherever p > 0, so the guarded log is finite even with eps = 0
        ratio = np.where(p > 0, (p + eps) / (np.where(p > 0, r_hat, 1.0) + eps), 1.0)
        return (p * np.log(ratio)).sum(axis=(-2, -1))

    js = 0.5 * (half_kl(a_hat) + half_kl(m_hat))
    return _out(np.where(ok, js, np.nan))
