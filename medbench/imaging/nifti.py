"""NIfTI-1/NIfTI-2 reading (.nii, .nii.gz) into a :class:`RawVolume`.

Gzipped files are inflated in memory with python-isal (several times faster than zlib,
which dominates load time for large CT), and the image is built from those bytes.
Voxels keep their on-disk dtype unless the header sets scl_slope/scl_inter.
"""

from __future__ import annotations

from pathlib import Path

import isal.igzip as igzip
import nibabel as nib
import numpy as np

from medbench.imaging.errors import ImageReadError
from medbench.imaging.volume import RawVolume

_GZIP_MAGIC = b"\x1f\x8b"
_NIFTI1_SIZE = 348
_NIFTI2_SIZE = 540


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    """File bytes, inflated if gzipped (by magic, not by suffix); ``limit`` caps the size."""
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == _GZIP_MAGIC
            fh.seek(0)
            if not gz:
                return fh.read() if limit is None else fh.read(limit)
            if limit is None:
                return igzip.decompress(fh.read())
            with igzip.GzipFile(fileobj=fh) as zf:
                return zf.read(limit)
    except FileNotFoundError as exc:
        raise ImageReadError(path, "file not found") from exc
    except (OSError, EOFError, ValueError) as exc:
        # isal raises EOFError on truncation and OSError/zlib-style errors on corruption.
        raise ImageReadError(path, f"corrupt or truncated gzip data ({exc})") from exc


def _image_class(path: Path, head: bytes) -> type[nib.Nifti1Image]:
    """Pick NIfTI-1 or NIfTI-2 from ``sizeof_hdr`` (either byte order)."""
    if len(head) < 4:
        raise ImageReadError(path, "file too short for a NIfTI header")
    sizes = {int.from_bytes(head[:4], "little"), int.from_bytes(head[:4], "big")}
    if _NIFTI2_SIZE in sizes:
        cls, need, magic = nib.Nifti2Image, _NIFTI2_SIZE, head[4:8]
    elif _NIFTI1_SIZE in sizes:
        cls, need, magic = nib.Nifti1Image, _NIFTI1_SIZE, head[344:348]
    else:
        raise ImageReadError(path, "not a NIfTI file (sizeof_hdr is neither 348 nor 540)")
    if len(head) < need:
        raise ImageReadError(path, f"file too short for a NIfTI header ({len(head)} bytes)")
    if magic[:3] == b"ni1" or magic[:3] == b"ni2":
        # Header/image pairs (.hdr + .img) keep voxels in another file: not a single-file NIfTI.
        raise ImageReadError(path, "NIfTI header of a .hdr/.img pair; expected single-file .nii")
    if magic[:3] not in (b"n+1", b"n+2"):
        raise ImageReadError(path, f"not a NIfTI file (bad magic {magic!r})")
    return cls


def _spatial_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Map NIfTI dims onto RawVolume's (i, j, k[, c]) layout."""
    if len(shape) == 2:  # a single slice
        return (*shape, 1)
    if len(shape) == 5 and shape[3] == 1:
        # NIfTI puts vector/RGB components in dim 5 with a singleton time dim 4.
        return (*shape[:3], shape[4])
    return tuple(shape)


def _header_meta(hdr, slope: float, inter: float) -> dict:
    return {
        "format": "nifti2" if isinstance(hdr, nib.Nifti2Header) else "nifti1",
        "pixdim": [float(v) for v in hdr["pixdim"]],
        "qform_code": int(hdr["qform_code"]),
        "sform_code": int(hdr["sform_code"]),
        "datatype": str(hdr.get_data_dtype()),
        "scl_slope": slope,
        "scl_inter": inter,
        "xyzt_units": list(hdr.get_xyzt_units()),
        "descrip": hdr["descrip"].item().decode("latin-1", "replace").strip("\x00 "),
    }


def _parse_header(path: Path, head: bytes):
    """The NIfTI header object of a file whose first bytes are ``head``."""
    cls = _image_class(path, head)
    size = _NIFTI2_SIZE if cls is nib.Nifti2Image else _NIFTI1_SIZE
    endian = "<" if int.from_bytes(head[:4], "little") == size else ">"
    try:
        return cls.header_class(binaryblock=head[:size], endianness=endian, check=True)
    except Exception as exc:
        raise ImageReadError(path, f"invalid NIfTI header ({exc})") from exc


def read_nifti(path: Path) -> RawVolume:
    """Read a .nii or .nii.gz file (NIfTI-1 or NIfTI-2, 2D/3D/4D).

    Data keep the on-disk dtype (in native byte order) unless the header scales them,
    in which case they are float32 (raw * scl_slope + scl_inter);
    a 4th axis (or NIfTI's 5th "vector" axis) becomes the channel axis. The affine is
    nibabel's choice between sform and qform.

    The voxel array is a read-only view of the inflated bytes: building a nibabel image
    would copy them twice more, which costs as much as the inflate itself on CT.
    """
    path = Path(path)
    raw = _read_bytes(path)
    hdr = _parse_header(path, raw[:_NIFTI2_SIZE])
    try:
        dims = tuple(int(n) for n in hdr.get_data_shape())
        dtype = hdr.get_data_dtype()
        offset = int(hdr["vox_offset"])
        count = int(np.prod(dims))
        slope, inter = hdr.get_slope_inter()  # (None, None) when the header sets none
        affine = np.asarray(hdr.get_best_affine(), dtype=np.float64)
    except Exception as exc:  # nibabel raises HeaderDataError/ValueError variously
        raise ImageReadError(path, f"cannot decode NIfTI header ({exc})") from exc
    needed = offset + count * dtype.itemsize
    if len(raw) < needed:
        raise ImageReadError(
            path, f"truncated NIfTI data ({len(raw)} bytes, header needs {needed})"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(dims, order="F")
    if dtype.fields:  # RGB24/RGBA32 voxels: components become the last axis
        from numpy.lib.recfunctions import structured_to_unstructured

        data = structured_to_unstructured(data)
    slope = 1.0 if slope is None else float(slope)
    inter = 0.0 if inter is None else float(inter)
    if slope != 1.0 or inter != 0.0:
        # Scale in float32: nibabel would go through float64, doubling peak memory on CT.
        data = data.astype(np.float32) * np.float32(slope) + np.float32(inter)
    shape = _spatial_shape(data.shape)
    if len(shape) > 4:
        raise ImageReadError(path, f"unsupported NIfTI shape {data.shape}")
    data = data.reshape(shape)
    if not data.dtype.isnative:
        # Big-endian files (e.g. old Analyze-era data) would surprise downstream encoders.
        data = data.astype(data.dtype.newbyteorder("="))
    return RawVolume(data=data, affine=affine, meta=_header_meta(hdr, slope, inter))


def read_nifti_header_shape(path: Path) -> tuple[tuple[int, ...], np.ndarray]:
    """(shape, affine) from the header alone, without inflating or decoding the voxels.

    ``shape`` uses the same (i, j, k[, c]) layout that :func:`read_nifti` returns.
    """
    path = Path(path)
    hdr = _parse_header(path, _read_bytes(path, limit=_NIFTI2_SIZE))
    try:
        shape = _spatial_shape(tuple(int(n) for n in hdr.get_data_shape()))
        affine = np.asarray(hdr.get_best_affine(), dtype=np.float64)
    except Exception as exc:
        raise ImageReadError(path, f"invalid NIfTI header ({exc})") from exc
    return shape, affine
