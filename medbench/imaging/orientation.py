"""Reorient volumes to medbench's one display convention before slicing.

Convention (all 3D sources, unless a source spec overrides it): axial slices in the
radiological view. The volume is reoriented to LPS+ (i → patient left, j → posterior,
k → superior) with pure axis flips and permutations (no resampling), then stored as
``array[k, j, i]``. So slice 0 is the most inferior, each slice is seen from the feet:
the patient's right is on the image's left and anterior is at the top. This is what
ITK-SNAP, 3D Slicer and most PACS show for axial CT and MR.

A spec may instead ask for ``reorient=False`` (keep file axes, e.g. KiTS19 whose affine is
known to disagree with its voxel order) together with a ``slice_axis``.
"""

from __future__ import annotations

import nibabel as nib
import numpy as np
from nibabel.orientations import apply_orientation, axcodes2ornt, io_orientation, ornt_transform

from medbench.imaging.volume import DisplayVolume, RawVolume

DISPLAY_AXCODES = ("L", "P", "S")
# Names of the display axes (slice, row, column) for the default convention.
DISPLAY_ORIENTATION = "SPL"


def reorient_to_lps(raw: RawVolume) -> tuple[np.ndarray, np.ndarray]:
    """Return (data, affine) with voxel axes along L, P, S (flips/permutations only)."""
    current = io_orientation(raw.affine)
    target = axcodes2ornt(DISPLAY_AXCODES)
    transform = ornt_transform(current, target)
    spatial_shape = raw.data.shape[:3]
    data = apply_orientation(raw.data, transform)
    affine = raw.affine @ nib.orientations.inv_ornt_aff(transform, spatial_shape)
    return data, affine


def to_display(
    raw: RawVolume,
    *,
    reorient: bool = True,
    slice_axis: int = 2,
    flip_rows: bool = False,
    contiguous: bool = False,
) -> DisplayVolume:
    """Convert a raw volume to the display layout (Z, H, W[, C]).

    With ``reorient`` (the default) the slice axis is always superior (axial slices).
    Without it, ``slice_axis`` picks the file axis to slice along and the remaining two
    axes keep their file order as (rows, columns); ``flip_rows`` mirrors top and bottom.
    """
    if reorient:
        data, affine = reorient_to_lps(raw)
        order = (2, 1, 0)
        orientation = DISPLAY_ORIENTATION
    else:
        data, affine = raw.data, raw.affine
        in_plane = [a for a in (0, 1, 2) if a != slice_axis]
        order = (slice_axis, in_plane[0], in_plane[1])
        orientation = "none"
    spacing_ijk = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    axes = order + tuple(range(3, data.ndim))
    array = np.transpose(data, axes)
    if flip_rows:
        array = array[:, ::-1]
    if contiguous:
        array = np.ascontiguousarray(array)
    spacing = tuple(float(spacing_ijk[a]) for a in order)
    return DisplayVolume(array=array, spacing=spacing, orientation=orientation)
