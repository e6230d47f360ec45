"""Shared multi-channel brain-tumour blobs for the BraTS replicas (uniform, non-nested)."""

from __future__ import annotations

import numpy as np

from medbench.demo._geometry import Ellipsoid, check_layout, grid_center, paint

# Per channel: background, then one uniform value per tumour label id. Values differ by
# channel (as real sequences do) and stay >= 300 apart within a channel.
CHANNEL_VALUES: dict[str, dict[int, int]] = {
    "flair": {0: 200, 1: 600, 2: 1000, 3: 1400, 4: 1800},
    "t1": {0: 600, 1: 200, 2: 1000, 3: 1400, 4: 1800},
    "t1ce": {0: 400, 1: 800, 2: 1200, 3: 1600, 4: 2000},
    "t2": {0: 300, 1: 1900, 2: 1500, 3: 1100, 4: 700},
}

# In-plane offsets (mm, RAS) of up to four blob slots around the grid centre.
SLOTS = ((-12.0, -10.0), (12.0, -10.0), (-12.0, 11.0), (12.0, 11.0))
# Radii (mm, along R, A, S) by position in the label list, so structures differ in size.
RADII = ((5.0, 4.0, 3.0), (7.0, 6.0, 4.0), (4.0, 6.0, 3.0), (6.0, 4.0, 4.0))


def tumour_blobs(
    affine: np.ndarray,
    shape: tuple[int, int, int],
    labels: dict[int, str],
    order: tuple[int, ...],
    shift: tuple[float, float],
) -> dict[int, Ellipsoid]:
    """One ellipsoid per label id; ``order`` picks which slot each label takes."""
    cx, cy, cz = grid_center(affine, shape)
    blobs = {}
    for rank, (slot, label_id) in enumerate(zip(order, labels, strict=False)):
        ox, oy = SLOTS[slot]
        center = (cx + ox + shift[0], cy + oy + shift[1], cz)
        blobs[label_id] = Ellipsoid(labels[label_id], center, RADII[rank])
    return blobs


def paint_case(
    affine: np.ndarray, shape: tuple[int, int, int], blobs: dict[int, Ellipsoid]
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[int, np.ndarray]]:
    """(channel arrays int16, label map uint8, masks by label id)."""
    masks = {lid: b.mask(affine, shape) for lid, b in blobs.items()}
    check_layout(list(masks.values()))
    seg = np.zeros(shape, dtype=np.uint8)
    for lid, m in masks.items():
        seg[m] = lid
    channels = {
        name: paint(shape, vals[0], [(m, vals[lid]) for lid, m in masks.items()]).astype(np.int16)
        for name, vals in CHANNEL_VALUES.items()
    }
    return channels, seg, masks
