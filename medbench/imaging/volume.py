"""The two in-memory forms of image data: as read from a file, and as shown.

Readers return a :class:`RawVolume`: the voxel array in the file's own index order
(i, j, k[, c]) with the nibabel-convention affine that maps (i, j, k) to RAS+ millimetres.

Everything downstream works on a :class:`DisplayVolume`: a stack of 2D slices in
medbench's single display convention (see ``medbench.imaging.orientation``):
``array[k]`` is slice ``k`` exactly as stored in the PNG, rows top to bottom and
columns left to right; channels, if any, last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RawVolume:
    """Voxels in file index order plus the voxel -> RAS+ mm affine (4x4)."""

    data: np.ndarray  # (i, j, k) or (i, j, k, c); 2D files are (i, j, 1)
    affine: np.ndarray  # 4x4, float64
    meta: dict = field(default_factory=dict)  # reader facts worth keeping (e.g. DICOM modality)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size along i, j, k in mm (column norms of the affine)."""
        norms = np.sqrt((self.affine[:3, :3] ** 2).sum(axis=0))
        return float(norms[0]), float(norms[1]), float(norms[2])


@dataclass
class DisplayVolume:
    """Slices as shown: ``array`` is (Z, H, W) or (Z, H, W, C).

    ``spacing`` is (dz, dy, dx) in mm: slice step, row step, column step.
    ``orientation`` names the patient directions of (slice, row, column) axes, e.g.
    ``"SPL"`` (slices run inferior→superior, rows anterior→posterior, columns
    right→left), or ``"none"`` for 2D photographs and un-reoriented volumes.
    """

    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    orientation: str = "none"

    @property
    def num_slices(self) -> int:
        return int(self.array.shape[0])

    @property
    def is_rgb(self) -> bool:
        return self.array.ndim == 4 and self.array.shape[-1] in (3, 4)


def display_from_2d(pixels: np.ndarray) -> DisplayVolume:
    """Wrap a 2D image (H, W) or (H, W, C), already in viewing order, as one slice."""
    return DisplayVolume(array=pixels[np.newaxis, ...], spacing=(1.0, 1.0, 1.0))
