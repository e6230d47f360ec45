"""Checks shared by the end-to-end and per-source tests."""

import numpy as np


def foreground_box(grey: np.ndarray, box, tolerance: int, margin: int = 2):
    """Box of the pixels that differ from the background ring around ``box``, read from the
    PNG alone: the planted blobs are uniform and sit on a uniform background."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    ex1, ey1 = max(x1 - margin, 0), max(y1 - margin, 0)
    ex2, ey2 = min(x2 + margin, grey.shape[1]), min(y2 + margin, grey.shape[0])
    window = grey[ey1:ey2, ex1:ex2].astype(np.float32)
    ring = np.ones(window.shape, bool)
    ring[y1 - ey1 : y2 - ey1, x1 - ex1 : x2 - ex1] = False
    background = float(np.median(window[ring])) if ring.any() else 0.0
    foreground = np.abs(window - background) > tolerance
    rows_any, cols_any = np.flatnonzero(foreground.any(1)), np.flatnonzero(foreground.any(0))
    return (ex1 + cols_any[0], ey1 + rows_any[0], ex1 + cols_any[-1] + 1, ey1 + rows_any[-1] + 1)
