"""Heat-map grounding metrics of weakly supervised medical visual grounding (paper 000, DAP,
sec. 4 "Metrics"): CNR, pointing game (PG), Dice and IoU.

Paper 000 names these metrics "following recent medical visual grounding methods [4, 6]"
(BioViL-T, BioViL) but gives no formulas, thresholds or resize rules. The definitions below come
from the references in the research notes (§2):

- CNR: the BioViL (Boecking et al., ECCV 2022) contrast-to-noise ratio, as reimplemented in
  `Felix-012/generate_to_ground:evaluation/utils_evaluation.py` (`contrast_to_noise_ratio`,
  commit 88d6733b). Signed there; BioViL's wording with |·| is unverified, so both are offered.
- PG, Dice, IoU: `MediaBrain-SJTU/MedKLIP:Sample_Zero-Shot_Grounding_RSNA/test.py` (`score_cal`,
  commit a58087d1), the RSNA zero-shot grounding protocol that later CXR work copies.

A heat map is a 2-D float array at the resolution of the ground truth (compute at the original
image size; resizing is the caller's job). NaN pixels (hi-ml pads BioViL maps with NaN outside
the centre crop) count as "no prediction": CNR and PG ignore them and thresholding maps them to
False. Ground truth is a boolean mask of the same shape or boxes [x1, y1, x2, y2] in pixels
(`medbench.imaging.boxes` convention: pixel (r, c) covers [c, c+1) × [r, r+1), far edge
exclusive), rasterised by `medbench.evaluators.metrics.sets.boxes_to_mask`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

# One rasteriser for the package, shared with the set metrics. Its centre rule puts pixel (r, c)
# inside [x1, x2) × [y1, y2) when (c + 0.5, r + 0.5) is; for integer boxes it inverts mask_bbox.
from medbench.evaluators.metrics.sets import boxes_to_mask

__all__ = [
    "DEFAULT_THRESHOLD",
    "HeatmapScores",
    "cnr",
    "dice",
    "heatmap_scores",
    "iou",
    "pointing_game",
    "threshold_map",
]

Region = np.ndarray | Sequence[float] | Sequence[Sequence[float]]

DEFAULT_THRESHOLD = 0.5
"""Binarisation threshold for Dice/IoU after min-max normalisation. Neither paper 000 nor its
sources fix one for DAP (MedKLIP uses 0.008 on its raw attention, which is model-specific), so the
research notes (§2.2) recommend min-max normalise + 0.5 as the default and a sweep for reporting."""


def _map(heatmap: np.ndarray) -> np.ndarray:
    h = np.asarray(heatmap, dtype=float)
    if h.ndim != 2:
        raise ValueError(f"heat map must be 2-D, got shape {h.shape}")
    return h


def _region(region: Region, shape: tuple[int, ...]) -> np.ndarray:
    """A mask of `shape` passes through (nonzero = inside); anything else is read as boxes."""
    arr = np.asarray(region)
    if arr.shape == shape:
        return arr.astype(bool)
    if arr.size == 0 or (arr.ndim in (1, 2) and arr.shape[-1] == 4):
        return boxes_to_mask(arr, shape)
    raise ValueError(f"region must be a mask of shape {shape} or [x1, y1, x2, y2] boxes")


def _binary(mask: np.ndarray, name: str) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"{name} must be a 2-D mask, got shape {m.shape}")
    return m.astype(bool)


def cnr(heatmap: np.ndarray, region: Region, *, absolute: bool = False, ddof: int = 0) -> float:
    """Contrast-to-noise ratio CNR = (μ_A − μ_Ā) / sqrt(σ²_A + σ²_Ā).

    A is the set of heat-map pixels inside the region (the union of the phrase's boxes) and Ā
    the set outside. μ and σ² are their means and variances (ddof = 0, numpy's population
    variance). `absolute=True` returns |CNR|.

    Sources: BioViL (Boecking et al. 2022) as read by the research notes (§2.1), with |·|; that
    wording is unverified. `generate_to_ground` (see module docstring) computes the signed form
    with torch's unbiased variance (pass ddof=1 to match; at pixel counts the difference is
    negligible). We default to signed, because |·| rewards a map that highlights everything
    except the region. The notes recommend reporting both.

    The map is used raw, with no threshold and no normalisation. CNR is invariant to a·map + b
    for a > 0, so min-max normalisation (which generate_to_ground applies to BioViL maps) changes
    nothing. For a < 0 the signed value flips and |CNR| stays. Clamping (e.g. clamp(min=0)) does
    change it and is the caller's decision.

    NaN pixels are dropped from both sets. Undefined cases: if either set is empty the result is
    nan. If both variances are 0 (a map that is constant inside and constant outside) the result
    is ±inf when the means differ and nan when they are equal.
    """
    h = _map(heatmap)
    inside = _region(region, h.shape)
    valid = ~np.isnan(h)
    a, a_bar = h[inside & valid], h[~inside & valid]
    if a.size == 0 or a_bar.size == 0 or min(a.size, a_bar.size) <= ddof:
        return float("nan")
    contrast = a.mean() - a_bar.mean()
    noise = np.sqrt(a.var(ddof=ddof) + a_bar.var(ddof=ddof))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(np.float64(contrast) / noise)
    return abs(value) if absolute else value


def pointing_game(
    heatmap: np.ndarray, region: Region, *, ties: Literal["any", "all", "first"] = "any"
) -> bool:
    """Pointing-game hit: the heat map's maximum lies inside the region.

    ties: the map may reach its maximum at several pixels.
        "any" (default, MedKLIP `score_cal`): hit if any maximal pixel is inside.
        "all": hit only if every maximal pixel is inside (a strict variant).
        "first": only the first maximal pixel in row-major order counts (`np.argmax`).
    NaN pixels are ignored; an all-NaN map raises ValueError. An empty region never hits. The
    MedKLIP protocol scores positive samples only, so drop samples without ground truth before
    averaging hits.
    """
    h = _map(heatmap)
    inside = _region(region, h.shape)
    if np.all(np.isnan(h)):
        raise ValueError("the heat map is all NaN")
    peak = h == np.nanmax(h)
    if ties == "any":
        return bool(np.any(peak & inside))
    if ties == "all":
        return bool(np.all(inside[peak]))
    if ties == "first":
        return bool(inside.flat[int(np.flatnonzero(peak)[0])])
    raise ValueError(f"ties must be 'any', 'all' or 'first', got {ties!r}")


def dice(pred_mask: np.ndarray, gt_mask: np.ndarray, *, empty_score: float = 1.0) -> float:
    """Dice = 2|P ∩ G| / (|P| + |G|) on boolean masks (nonzero = foreground).

    Source: MedKLIP `score_cal` (no smoothing term). If both masks are empty the ratio is 0/0.
    We return `empty_score`, 1.0 by default: the prediction agrees with the ground truth that
    there is nothing. Pass nan to exclude such samples. If only one mask is empty the result is 0.
    """
    p, g = _binary(pred_mask, "pred_mask"), _binary(gt_mask, "gt_mask")
    if p.shape != g.shape:
        raise ValueError(f"mask shapes differ: {p.shape} vs {g.shape}")
    total = int(p.sum()) + int(g.sum())
    if total == 0:
        return float(empty_score)
    return 2.0 * int(np.count_nonzero(p & g)) / total


def iou(pred_mask: np.ndarray, gt_mask: np.ndarray, *, empty_score: float = 1.0) -> float:
    """IoU = |P ∩ G| / |P ∪ G| on boolean masks (MedKLIP's "mass_score",
    |P∩G| / (|P| + |G| − |P∩G|)).

    Both masks empty gives `empty_score`, 1.0 by default, the same convention as `dice`, so
    Dice = 2·IoU / (1 + IoU) holds in every case.
    """
    p, g = _binary(pred_mask, "pred_mask"), _binary(gt_mask, "gt_mask")
    if p.shape != g.shape:
        raise ValueError(f"mask shapes differ: {p.shape} vs {g.shape}")
    union = int(np.count_nonzero(p | g))
    if union == 0:
        return float(empty_score)
    return int(np.count_nonzero(p & g)) / union


def threshold_map(
    heatmap: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    normalise: Literal["minmax"] | None = "minmax",
) -> np.ndarray:
    """Binarise a heat map: True where (optionally min-max normalised) value > threshold.

    The comparison is strict, as in MedKLIP (`pred_map > 0.008`). normalise="minmax" rescales
    the map to [0, 1] with (h − min)/(max − min) over non-NaN pixels before thresholding. A
    constant map has no range and becomes all-False (an empty prediction). normalise=None
    thresholds the raw values, e.g. with threshold=0.008 to reproduce MedKLIP. NaN pixels are
    always False. See `DEFAULT_THRESHOLD` for where 0.5 comes from.
    """
    h = _map(heatmap)
    valid = ~np.isnan(h)
    if normalise is None:
        values = h
    elif normalise == "minmax":
        if not valid.any():
            return np.zeros(h.shape, dtype=bool)
        lo, hi = np.nanmin(h), np.nanmax(h)
        if hi == lo:
            return np.zeros(h.shape, dtype=bool)
        values = (h - lo) / (hi - lo)
    else:
        raise ValueError(f"normalise must be 'minmax' or None, got {normalise!r}")
    return valid & (np.where(valid, values, -np.inf) > threshold)


@dataclass(frozen=True)
class HeatmapScores:
    """The four DAP metrics of one (heat map, ground truth) pair. CNR comes signed and absolute."""

    cnr: float
    cnr_abs: float
    pointing_game: bool
    dice: float
    iou: float


def heatmap_scores(
    heatmap: np.ndarray,
    gt: Region,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    normalise: Literal["minmax"] | None = "minmax",
    ties: Literal["any", "all", "first"] = "any",
    ddof: int = 0,
    empty_score: float = 1.0,
) -> HeatmapScores:
    """CNR (signed and |·|) and PG on the raw map; Dice and IoU of `threshold_map(heatmap,
    threshold, normalise=normalise)` against the ground-truth mask. `gt` is a mask of the map's
    shape or pixel boxes. The other arguments pass through to the single metrics."""
    h = _map(heatmap)
    gt_mask = _region(gt, h.shape)
    signed = cnr(h, gt_mask, ddof=ddof)
    pred = threshold_map(h, threshold, normalise=normalise)
    return HeatmapScores(
        cnr=signed,
        cnr_abs=abs(signed),
        pointing_game=pointing_game(h, gt_mask, ties=ties),
        dice=dice(pred, gt_mask, empty_score=empty_score),
        iou=iou(pred, gt_mask, empty_score=empty_score),
    )
