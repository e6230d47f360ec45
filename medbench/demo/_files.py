"""Deterministic writers shared by the replicas (NIfTI, DICOM, images, JSON, UIDs)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

FIXED_DATE = "20180101"  # every DICOM date is fixed so files are byte-identical
FIXED_TIME = "120000"


def nifti_image(data: np.ndarray, affine: np.ndarray, dtype: type) -> nib.Nifti1Image:
    """NIfTI-1 image with qform and sform both set to the affine (code 1, scanner)."""
    img = nib.Nifti1Image(np.asarray(data).astype(dtype), affine)
    img.header.set_xyzt_units("mm", "sec")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    return img


def save_nii_gz(img: nib.Nifti1Image, path: Path) -> Path:
    """Write ``.nii.gz`` with gzip mtime 0 and no embedded name, so bytes are reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        gz.write(img.to_bytes())
    return path


def uid(root: str, *parts: object) -> str:
    """A DICOM UID derived only from its parts (hash), so it is stable for a seed."""
    return generate_uid(prefix=root, entropy_srcs=[str(p) for p in parts])


def dicom_base(sop_class: str, sop_uid: str) -> Dataset:
    """Dataset with file meta (explicit VR little endian) and the SOP identifiers set."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.SpecificCharacterSet = "ISO_IR 100"
    for tag in ("StudyDate", "SeriesDate", "ContentDate"):
        setattr(ds, tag, FIXED_DATE)
    for tag in ("StudyTime", "SeriesTime", "ContentTime"):
        setattr(ds, tag, FIXED_TIME)
    return ds


def set_pixels(ds: Dataset, pixels: np.ndarray, bits: int, signed: bool = False) -> None:
    """Attach a 2D grey pixel array with consistent bit/photometric attributes."""
    dtype = {8: np.uint8, 16: np.int16 if signed else np.uint16}[bits]
    arr = np.ascontiguousarray(pixels.astype(dtype))
    ds.Rows, ds.Columns = (int(n) for n in arr.shape)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = arr.tobytes()


def save_dicom(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def save_png(pixels: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels.astype(np.uint8))).save(path, format="PNG")
    return path


def save_jpeg(pixels: np.ndarray, path: Path, quality: int = 95) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(np.ascontiguousarray(pixels.astype(np.uint8)))
    img.save(path, format="JPEG", quality=quality)
    return path


def save_json(obj: object, path: Path, indent: int | None = 4) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
