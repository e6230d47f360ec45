"""DICOM reading with pydicom: slice series (CT/MR) and single 2D images (X-ray).

Series are ordered by slice position along the slice normal (never by file name or
InstanceNumber, which are unreliable across exports), and the affine is built from
ImagePositionPatient / ImageOrientationPatient / PixelSpacing in LPS+, then flipped to RAS+.

Pixel values go through the modality LUT (RescaleSlope/Intercept or a Modality LUT
Sequence), so CT comes out in HU. Series dtype: int16 when every slice has slope 1 and an
integer intercept and the values fit int16 (typical CT: half the memory of float32, exact),
otherwise float32.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from medbench.imaging.affines import lps_affine
from medbench.imaging.errors import ImageReadError
from medbench.imaging.volume import RawVolume

# Tags any real image file carries; a forced read of a non-DICOM file yields none of them.
_IDENTIFYING = ("SOPClassUID", "Modality", "Rows", "PixelData", "SeriesInstanceUID")
_INT16 = np.iinfo(np.int16)


def _read_dataset(path: Path) -> Dataset:
    """dcmread with a ``force=True`` fallback for files lacking the preamble / 'DICM' prefix."""
    try:
        try:
            ds = pydicom.dcmread(path)
        except InvalidDicomError:
            ds = pydicom.dcmread(path, force=True)
    except FileNotFoundError as exc:
        raise ImageReadError(path, "file not found") from exc
    except Exception as exc:  # pydicom raises many types on garbage input
        raise ImageReadError(path, f"not a DICOM file ({type(exc).__name__}: {exc})") from exc
    if not any(kw in ds for kw in _IDENTIFYING):
        raise ImageReadError(path, "not a DICOM file (no DICOM image attributes found)")
    if "TransferSyntaxUID" not in ds.file_meta:
        # Raw datasets without file meta: pydicom detected the encoding while parsing.
        implicit, little = ds.original_encoding
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian
            if implicit
            else ExplicitVRLittleEndian
            if little
            else ExplicitVRBigEndian
        )
    return ds


def _pixels(ds: Dataset, path: Path) -> np.ndarray:
    """Decoded stored values; refuses multi-frame data (one 2D frame per file expected)."""
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise ImageReadError(path, "DICOM file has no pixel data")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ImageReadError(path, f"multi-frame DICOM ({frames} frames) is not supported")
    try:
        return ds.pixel_array
    except Exception as exc:  # missing decoder plugin, truncated data, bad attributes
        raise ImageReadError(path, f"cannot decode DICOM pixel data ({exc})") from exc


def _floats(value, n: int) -> np.ndarray | None:
    """A multi-valued numeric attribute as floats, or None if absent/malformed."""
    if value is None:
        return None
    try:
        out = np.array([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return out if out.size == n else None


def _plain(value):
    """DICOM values -> JSON-friendly Python values for ``meta`` (DS/IS become float/int)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, pydicom.multival.MultiValue | list | tuple):
        return [_plain(v) for v in value]
    for base in (int, float):  # IS subclasses int, DSfloat subclasses float
        if isinstance(value, base):
            return base(value)
    return str(value)


def _pixel_spacing(ds: Dataset) -> np.ndarray:
    """(row spacing, column spacing) in mm; ImagerPixelSpacing or 1 mm when absent."""
    for kw in ("PixelSpacing", "ImagerPixelSpacing"):
        sp = _floats(ds.get(kw), 2)
        if sp is not None and np.all(sp > 0):
            return sp
    return np.ones(2)


def _rescale_is_integer(ds: Dataset) -> bool:
    """True when the modality LUT is ``raw + integer`` (so int16 output is exact)."""
    if "ModalityLUTSequence" in ds:
        return False
    slope = float(ds.get("RescaleSlope", 1) or 1)
    inter = float(ds.get("RescaleIntercept", 0) or 0)
    return slope == 1.0 and inter == int(inter)


def _group_series(paths: list[Path], datasets: list[Dataset]) -> tuple[str, list[int], int]:
    """Pick the series with the most files; a tie between series is an error."""
    uids = [str(ds.get("SeriesInstanceUID", "")) for ds in datasets]
    counts = Counter(uids).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        tied = ", ".join(f"{uid or '<none>'} ({n} files)" for uid, n in counts)
        reason = f"files belong to several series, none a majority: {tied}"
        raise ImageReadError(paths[0].parent, reason)
    uid = counts[0][0]
    keep = [i for i, u in enumerate(uids) if u == uid]
    return uid, keep, len(paths) - len(keep)


def _slice_geometry(
    datasets: list[Dataset], paths: list[Path]
) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray | None]:
    """Sorted order, row/column cosines, and sorted positions (None if IPP missing)."""
    iop = _floats(datasets[0].get("ImageOrientationPatient"), 6)
    if iop is None:
        iop = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])  # assume axial when unspecified
    for ds, p in zip(datasets, paths, strict=True):
        other = _floats(ds.get("ImageOrientationPatient"), 6)
        if other is not None and not np.allclose(other, iop, atol=1e-4):
            raise ImageReadError(p, "ImageOrientationPatient differs from the series' first file")
    row_cos, col_cos = iop[:3], iop[3:]
    normal = np.cross(row_cos, col_cos)
    positions = [_floats(ds.get("ImagePositionPatient"), 3) for ds in datasets]
    if all(pos is not None for pos in positions):
        pos = np.stack(positions)
        order = sorted(range(len(datasets)), key=lambda i: float(pos[i] @ normal))
        dist = pos[order] @ normal
        dup = np.flatnonzero(np.isclose(np.diff(dist), 0.0, atol=1e-4))
        if dup.size:
            raise ImageReadError(
                paths[order[dup[0] + 1]],
                "two slices share one position (multi-echo/time series?): cannot stack",
            )
        return order, row_cos, col_cos, pos[order]
    # Without positions the acquisition number is the only spatial hint left.
    inst = [int(ds.get("InstanceNumber", 0) or 0) for ds in datasets]
    return sorted(range(len(datasets)), key=lambda i: inst[i]), row_cos, col_cos, None


def read_dicom_series(files: Sequence[Path]) -> tuple[RawVolume, list[Path]]:
    """Read one DICOM series (one 2D slice per file) into a volume.

    Files of other series are dropped (the series with most files wins; a tie raises).
    Returns the volume, data (columns, rows, slices) = (i, j, k), and the kept files in
    slice order (k), for pairing per-slice masks. Unreadable files raise ImageReadError.
    MONOCHROME1 series are not inverted here (values are physical); see ``meta``.
    """
    paths = [Path(f) for f in files]
    if not paths:
        raise ImageReadError(Path("."), "empty DICOM file list")
    datasets = [_read_dataset(p) for p in paths]
    uid, keep, dropped = _group_series(paths, datasets)
    paths = [paths[i] for i in keep]
    datasets = [datasets[i] for i in keep]
    order, row_cos, col_cos, positions = _slice_geometry(datasets, paths)
    paths = [paths[i] for i in order]
    datasets = [datasets[i] for i in order]

    rgb = int(datasets[0].get("SamplesPerPixel", 1) or 1) > 1
    slices = []
    for ds, p in zip(datasets, paths, strict=True):
        px = _pixels(ds, p)
        if slices and px.shape != slices[0].shape:
            raise ImageReadError(p, f"pixel array shape {px.shape} differs from {slices[0].shape}")
        # float32 per slice bounds peak memory (pydicom's LUT output is float64).
        slices.append(px if rgb else apply_modality_lut(px, ds).astype(np.float32))
    # Stack (rows, cols) slices as (cols, rows, k): i runs along a row, j down a column.
    data = np.stack([np.swapaxes(s, 0, 1) for s in slices], axis=2)
    del slices
    as_int = not rgb and all(_rescale_is_integer(ds) for ds in datasets)
    if as_int and data.size and _INT16.min <= data.min() and data.max() <= _INT16.max:
        data = data.astype(np.int16)

    first = datasets[0]
    spacing_rc = _pixel_spacing(first)
    normal = np.cross(row_cos, col_cos)
    if positions is not None and len(positions) > 1:
        step = (positions[-1] - positions[0]) / (len(positions) - 1)
        gaps = np.diff(positions @ normal)
        uniform = bool(np.allclose(gaps, gaps.mean(), rtol=0.01, atol=0.01))
    else:
        thick = first.get("SpacingBetweenSlices") or first.get("SliceThickness") or 1.0
        step = normal * float(thick)
        uniform = True
    origin = positions[0] if positions is not None else np.zeros(3)
    # Columns: i steps along the row (column spacing), j down the column (row spacing).
    direction = np.column_stack([row_cos, col_cos, step])
    affine = lps_affine(direction, [spacing_rc[1], spacing_rc[0], 1.0], origin)

    meta = {
        kw: _plain(first.get(kw))
        for kw in (
            "Modality",
            "SeriesInstanceUID",
            "StudyInstanceUID",
            "SeriesDescription",
            "PhotometricInterpretation",
            "Manufacturer",
            "BodyPartExamined",
            "SliceThickness",
            "WindowCenter",
            "WindowWidth",
            "RescaleSlope",
            "RescaleIntercept",
        )
    }
    meta.update(
        SeriesInstanceUID=uid,
        num_slices=len(paths),
        dropped_other_series=dropped,
        slice_spacing_uniform=uniform,
        positions_missing=positions is None,
    )
    return RawVolume(data=data, affine=affine, meta=meta), paths


def _inversion_sum(ds: Dataset) -> float:
    """lo + hi of the modality-LUT output over the nominal stored range.

    MONOCHROME1 is inverted as ``lo + hi - x``: fixed per device (not per image, unlike
    ``max - x``), so images stay comparable and window centres map as ``lo + hi - c``.
    """
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    if int(ds.get("PixelRepresentation", 0) or 0):
        stored = np.array([-(2 ** (bits - 1)), 2 ** (bits - 1) - 1])
    else:
        stored = np.array([0, 2**bits - 1])
    ends = apply_modality_lut(stored, ds).astype(np.float64)
    return float(ends.min() + ends.max())


def read_dicom_image(path: Path) -> tuple[np.ndarray, dict]:
    """Read a single-frame 2D DICOM (e.g. chest X-ray) for display.

    Greyscale: (rows, cols) float32 after the modality LUT, with MONOCHROME1 inverted so
    higher is always brighter. Colour (RGB/YBR): (rows, cols, 3) as decoded (RGB, uint8
    for 8-bit), no LUT. A multi-frame file raises ImageReadError.
    """
    path = Path(path)
    ds = _read_dataset(path)
    px = _pixels(ds, path)
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    meta = {
        kw: _plain(ds.get(kw))
        for kw in (
            "Modality",
            "PhotometricInterpretation",
            "PixelSpacing",
            "ImagerPixelSpacing",
            "Rows",
            "Columns",
            "BodyPartExamined",
            "ViewPosition",
            "WindowCenter",
            "WindowWidth",
            "SOPInstanceUID",
        )
        if kw in ds or kw in ("Modality", "PhotometricInterpretation", "Rows", "Columns")
    }
    if px.ndim == 3:  # colour: pydicom already converted YBR to RGB
        meta["inverted"] = False
        return px, meta
    if px.ndim != 2:
        raise ImageReadError(path, f"unexpected pixel array shape {px.shape}")
    arr = apply_modality_lut(px, ds).astype(np.float32)
    inverted = photometric == "MONOCHROME1"
    if inverted:
        total = _inversion_sum(ds)
        arr = np.float32(total) - arr
        meta["inversion_sum"] = total
    meta["inverted"] = inverted
    return arr, meta
