"""Per-slice foreground areas of every label in one pass, and slice-choice policies."""

from __future__ import annotations

import numpy as np


def slice_label_areas(labels: np.ndarray) -> np.ndarray:
    """``areas[k, v]`` = pixels of value ``v`` in slice ``k`` of a (Z, H, W) label volume.

    One ``bincount`` per slice: a single pass over the volume for all labels at once,
    instead of one full-volume comparison per label.
    """
    if labels.dtype.kind not in "iub":
        raise TypeError(f"label volume must be integer, got {labels.dtype}")
    flat = labels.reshape(labels.shape[0], -1)
    if flat.dtype == np.bool_:
        flat = flat.view(np.uint8)
    if labels.dtype.kind == "i" and labels.size and labels.min() < 0:
        raise ValueError("label volume has negative values")
    top = int(labels.max()) if labels.size else 0
    areas = np.zeros((labels.shape[0], top + 1), dtype=np.int64)
    pixels = flat.shape[1]
    # Slices without foreground are common (most of a TotalSegmentator mask file is
    # empty); a per-slice max is far cheaper than counting, so count only the others.
    occupied = np.flatnonzero(flat.max(axis=1)) if flat.size else np.array([], dtype=np.int64)
    areas[:, 0] = pixels
    if top == 1:
        counts = flat[occupied].sum(axis=1, dtype=np.int64)
        areas[occupied, 1] = counts
        areas[occupied, 0] = pixels - counts
        return areas
    for k in occupied:
        areas[k] = np.bincount(flat[k], minlength=top + 1)
    return areas


def choose_slices(areas: np.ndarray, policy: str = "largest", count: int = 1) -> list[int]:
    """Pick slice indices for one label from its per-slice areas (1D).

    ``largest``: the slice of largest area (ties → the lowest index).
    ``spread``: ``count`` slices at evenly spaced positions over the structure's extent
    (first to last non-empty slice), each snapped to the nearest non-empty slice.
    """
    nonzero = np.flatnonzero(areas > 0)
    if nonzero.size == 0:
        return []
    if policy == "largest":
        return [int(np.argmax(areas))]
    if policy == "spread":
        if count <= 1:
            return [int(nonzero[nonzero.size // 2])]
        targets = np.linspace(nonzero[0], nonzero[-1], count)
        picked = {int(nonzero[np.argmin(np.abs(nonzero - t))]) for t in targets}
        return sorted(picked)
    raise ValueError(f"unknown slice policy {policy!r} (use 'largest' or 'spread')")
