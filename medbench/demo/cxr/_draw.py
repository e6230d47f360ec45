"""Grey images with bright rectangles at planted pixel boxes (whole pixels, exclusive far
edges), so a box in the rows can be checked against the pixels."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

BACKGROUND = 40
FOREGROUND = 210


def canvas(width: int, height: int, boxes: Sequence[Sequence[float]] = ()) -> np.ndarray:
    img = np.full((height, width), BACKGROUND, dtype=np.uint8)
    for x1, y1, x2, y2 in boxes:
        img[int(y1) : int(y2), int(x1) : int(x2)] = FOREGROUND
    return img


def fake_id(*parts: object, groups: Sequence[int] = (8, 8, 8, 8, 8)) -> str:
    """A hex id shaped like the source's (e.g. MIMIC dicom_id), stable for its parts."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()
    out, start = [], 0
    for n in groups:
        out.append(digest[start : start + n])
        start += n
    return "-".join(out)
