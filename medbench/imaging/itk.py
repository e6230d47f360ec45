"""SimpleITK reading (.mha, .mhd + .raw/.zraw, .nrrd, .nii[.gz], ...) into a :class:`RawVolume`.

ITK stores geometry as origin + direction cosines + spacing in LPS+ millimetres, and
``GetArrayFromImage`` returns the voxels reversed as (z, y, x[, c]). We transpose to
(x, y, z[, c]) so the index order matches the affine, and flip L/P to get RAS+.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medbench.imaging.affines import LPS_TO_RAS, lps_affine  # noqa: F401 (re-exported)
from medbench.imaging.errors import ImageReadError
from medbench.imaging.volume import RawVolume


def raw_from_sitk(img: sitk.Image) -> RawVolume:
    """Convert an in-memory SimpleITK image (2D, 3D, or 4D scalar) to a RawVolume."""
    dim = img.GetDimension()
    ncomp = img.GetNumberOfComponentsPerPixel()
    if dim not in (2, 3, 4) or (dim == 4 and ncomp > 1):
        raise ValueError(f"unsupported ITK image: {dim}D with {ncomp} components per pixel")
    arr = sitk.GetArrayFromImage(img)  # (z, y, x[, c]), or (t, z, y, x) for 4D
    if dim == 4:
        # 4D scalar (e.g. multi-sequence NIfTI read by ITK): the 4th axis becomes channels.
        data = np.transpose(arr, (3, 2, 1, 0))
    else:
        # Reverse the spatial axes only; a component axis stays last.
        data = np.transpose(arr, tuple(range(dim - 1, -1, -1)) + tuple(range(dim, arr.ndim)))
        if dim == 2:
            data = np.expand_dims(data, 2)  # (x, y) -> (x, y, 1)
    nsp = min(dim, 3)
    full_dir = np.array(img.GetDirection(), dtype=np.float64).reshape(dim, dim)
    direction = np.eye(3)
    direction[:nsp, :nsp] = full_dir[:nsp, :nsp]
    spacing = np.ones(3)
    spacing[:nsp] = img.GetSpacing()[:nsp]
    origin = np.zeros(3)
    origin[:nsp] = img.GetOrigin()[:nsp]
    meta = {
        "itk_pixel_type": img.GetPixelIDTypeAsString(),
        "itk_dimension": dim,
        "components": ncomp,
        "spacing": [float(v) for v in spacing],
        "origin_lps": [float(v) for v in origin],
        "direction_lps": [float(v) for v in direction.ravel()],
    }
    return RawVolume(data=data, affine=lps_affine(direction, spacing, origin), meta=meta)


def read_itk(path: Path) -> RawVolume:
    """Read any single-file format SimpleITK supports (MetaImage, NRRD, NIfTI, ...)."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(path, "file not found")
    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        # SimpleITK error texts span many lines of C++ context; keep the last useful one.
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        last = lines[-1] if lines else str(exc)
        raise ImageReadError(path, f"SimpleITK cannot read it ({last})") from exc
    try:
        return raw_from_sitk(img)
    except ValueError as exc:
        raise ImageReadError(path, str(exc)) from exc
