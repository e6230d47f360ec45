"""Shared geometry for the replicas: affines, convex blobs, extents and layout checks.

World coordinates are nibabel's RAS+ (mm): +x points to the patient's RIGHT, +y to
ANTERIOR, +z to SUPERIOR (``aff2axcodes(np.eye(4)) == ('R', 'A', 'S')``, each code naming
the end an axis points to). So a structure on the patient's left has a NEGATIVE world x here,
while in DICOM's LPS frame the same structure has a positive x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from nibabel.orientations import io_orientation
from scipy import ndimage

_DIRECTIONS = {
    "R": (1.0, 0.0, 0.0),
    "L": (-1.0, 0.0, 0.0),
    "A": (0.0, 1.0, 0.0),
    "P": (0.0, -1.0, 0.0),
    "S": (0.0, 0.0, 1.0),
    "I": (0.0, 0.0, -1.0),
}
MIN_GAP = 3  # voxels of background required between structures and to the border


def make_affine(
    axcodes: str,
    spacing: tuple[float, float, float],
    shape: tuple[int, int, int],
    center: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """Voxel -> RAS+ affine whose voxel axes point to ``axcodes`` (e.g. "LPS", "IAR").

    The volume's central voxel position maps to ``center`` so blobs can be placed in mm
    around the patient centre regardless of how the axes are stored.
    """
    affine = np.eye(4)
    for axis, (code, step) in enumerate(zip(axcodes, spacing, strict=True)):
        affine[:3, axis] = np.asarray(_DIRECTIONS[code]) * step
    mid = (np.asarray(shape, dtype=float) - 1.0) / 2.0
    affine[:3, 3] = np.asarray(center) - affine[:3, :3] @ mid
    return affine


def voxel_world(affine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """World (RAS mm) coordinates of every voxel centre, shape (3, *shape)."""
    idx = np.indices(shape[:3], dtype=float).reshape(3, -1)
    world = affine[:3, :3] @ idx + affine[:3, 3:4]
    return world.reshape((3, *shape[:3]))


@dataclass(frozen=True)
class Ellipsoid:
    """Axis-aligned ellipsoid in world mm (radii along R, A, S)."""

    label: str
    center: tuple[float, float, float]
    radii: tuple[float, float, float]
    side: str | None = None

    def mask(self, affine: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
        world = voxel_world(affine, shape)
        acc = np.zeros(shape, dtype=float)
        for d in range(3):
            acc += ((world[d] - self.center[d]) / self.radii[d]) ** 2
        return acc <= 1.0


@dataclass(frozen=True)
class Ellipse:
    """Ellipse in pixel coordinates (x = column, y = row)."""

    label: str
    cx: float
    cy: float
    rx: float
    ry: float

    def mask(self, height: int, width: int) -> np.ndarray:
        yy, xx = np.mgrid[0:height, 0:width]
        return ((xx - self.cx) / self.rx) ** 2 + ((yy - self.cy) / self.ry) ** 2 <= 1.0


def extent_lr_ap_mm(mask: np.ndarray, affine: np.ndarray) -> tuple[float, float]:
    """Left-right and anterior-posterior extent (mm) at the largest axial cross-section."""
    ornt = io_orientation(affine)  # row = voxel axis, col 0 = world axis it runs along
    axis_of = {int(world): vox for vox, world in enumerate(ornt[:, 0])}
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    m = np.transpose(mask, (axis_of[0], axis_of[1], axis_of[2]))
    k = int(np.argmax(m.sum(axis=(0, 1))))
    lr, ap = np.nonzero(m[:, :, k])
    return (
        round(float((lr.max() - lr.min() + 1) * zooms[axis_of[0]]), 4),
        round(float((ap.max() - ap.min() + 1) * zooms[axis_of[1]]), 4),
    )


def extent_px(mask: np.ndarray) -> tuple[float, float]:
    """(width, height) in pixels of a 2D mask's bounding box."""
    rows, cols = np.nonzero(mask)
    return float(cols.max() - cols.min() + 1), float(rows.max() - rows.min() + 1)


def check_layout(masks: list[np.ndarray], gap: int = MIN_GAP) -> None:
    """Fail loudly if a blob is empty, touches the border or comes near another blob."""
    for m in masks:
        if not m.any():
            raise ValueError("planted structure has no voxels")
        for axis in range(m.ndim):
            lead = np.take(m, range(gap), axis=axis)
            tail = np.take(m, range(m.shape[axis] - gap, m.shape[axis]), axis=axis)
            if lead.any() or tail.any():
                raise ValueError(f"planted structure within {gap} voxels of the border")
    box = np.ones((3,) * masks[0].ndim, dtype=bool)
    for i, m in enumerate(masks):
        grown = ndimage.binary_dilation(m, structure=box, iterations=gap)
        for other in masks[i + 1 :]:
            if (grown & other).any():
                raise ValueError(f"planted structures closer than {gap} voxels")


def paint(
    shape: tuple[int, ...], background: float, fills: list[tuple[np.ndarray, float]]
) -> np.ndarray:
    """Uniform background with each mask filled by its own uniform value."""
    out = np.full(shape, background, dtype=np.float64)
    for m, value in fills:
        out[m] = value
    return out


def grid_center(affine: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """World (RAS mm) position of the volume's central point."""
    mid = (np.asarray(shape[:3], dtype=float) - 1.0) / 2.0
    return affine[:3, :3] @ mid + affine[:3, 3]


def seeded_shift(seed: int, key: str, high: int = 2) -> tuple[float, float]:
    """A small integer (dx, dy) in [0, high] derived from seed and key: seeds differ, runs don't."""
    rng = np.random.default_rng([seed, *key.encode()])
    dx, dy = rng.integers(0, high + 1, size=2)
    return float(dx), float(dy)
