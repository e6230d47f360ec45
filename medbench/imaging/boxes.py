"""Mask → box geometry. Boxes are [x1, y1, x2, y2] floats in pixels, x right, y down.

Pixel (row r, column c) covers [c, c+1) × [r, r+1), so a mask's box runs from its first
foreground column to one past its last: a single pixel at (r=2, c=5) is [5, 2, 6, 3].
All box conversions live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# 8-connectivity: diagonal neighbours belong to the same structure in 2D.
_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class MaskBox:
    box: tuple[float, float, float, float]
    area: int  # foreground pixels that this box covers (the component or the union)


def mask_bbox(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """Union box of a 2D boolean mask, or None when it is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def union_box(mask: np.ndarray) -> list[MaskBox]:
    box = mask_bbox(mask)
    return [] if box is None else [MaskBox(box, int(np.count_nonzero(mask)))]


def component_boxes(mask: np.ndarray) -> list[MaskBox]:
    """One box per 8-connected component, ordered by (y1, x1)."""
    labelled, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if count == 0:
        return []
    areas = np.bincount(labelled.ravel(), minlength=count + 1)
    boxes = []
    for index, window in enumerate(ndimage.find_objects(labelled), start=1):
        rows, cols = window
        boxes.append(
            MaskBox(
                (float(cols.start), float(rows.start), float(cols.stop), float(rows.stop)),
                int(areas[index]),
            )
        )
    boxes.sort(key=lambda b: (b.box[1], b.box[0]))
    return boxes


def xywh_to_xyxy(box: Sequence[float]) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in box)
    return x, y, x + w, y + h


def xyxy_to_xywh(box: Sequence[float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return x1, y1, x2 - x1, y2 - y1


def clip_box(box: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return (
        min(max(x1, 0.0), width),
        min(max(y1, 0.0), height),
        min(max(x2, 0.0), width),
        min(max(y2, 0.0), height),
    )


def scale_box(box: Sequence[float], sx: float, sy: float) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return x1 * sx, y1 * sy, x2 * sx, y2 * sy


def box_area(box: Sequence[float]) -> float:
    x1, y1, x2, y2 = box
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)
