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
    if labels.dtype == np.bool_:
        labels = labels.view(np.uint8)
    if labels.dtype.kind == "i" and labels.size and labels.min() < 0:
        raise ValueError("label volume has negative values")
    depth = labels.shape[0]
    pixels = int(np.prod(labels.shape[1:]))
    # Works on views (no reshape, which would copy a reoriented volume): slices without
    # foreground are common (most of a TotalSegmentator mask file is empty), and a
    # per-slice max is far cheaper than counting, so only occupied slices are counted.
    slice_max = labels.max(axis=(1, 2)) if labels.size else np.zeros(depth, labels.dtype)
    top = int(slice_max.max()) if depth else 0
    areas = np.zeros((depth, top + 1), dtype=np.int64)
    areas[:, 0] = pixels
    occupied = np.flatnonzero(slice_max)
    if top == 1:
        counts = labels[occupied].sum(axis=(1, 2), dtype=np.int64)
        areas[occupied, 1] = counts
        areas[occupied, 0] = pixels - counts
        return areas
    for k in occupied:
        areas[k] = np.bincount(labels[k].ravel(), minlength=top + 1)
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
