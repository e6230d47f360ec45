"""Affine helpers shared by the DICOM and ITK readers (numpy only, no SimpleITK import)."""

from __future__ import annotations

import numpy as np

# DICOM and ITK world coordinates are LPS+; nibabel's (and RawVolume's) are RAS+.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def lps_affine(direction: np.ndarray, spacing: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """4x4 voxel -> RAS+ affine from LPS direction (3x3, columns = axes), spacing, origin."""
    aff = np.eye(4)
    aff[:3, :3] = np.asarray(direction, dtype=np.float64) * np.asarray(spacing, dtype=np.float64)
    aff[:3, 3] = origin
    return LPS_TO_RAS @ aff
