"""SIIM-ACR Pneumothorax replica (family F: DICOM tree plus a run-length CSV).

RLE flavour of the Kaggle ``train-rle.csv``: pixels are numbered column-major (down each
column first), 0-indexed, and each pair is (offset from the END of the previous run, run
length). One CSV row per region, so an image with two regions has two rows; ``-1`` = none.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medbench.demo._files import dicom_base, save_dicom, set_pixels, uid
from medbench.demo._geometry import Ellipse, check_layout, extent_px
from medbench.demo.truth import PlantedStructure

DATASET = "SIIM-ACR"
# The Kaggle files are Secondary Capture objects with Modality CR.
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
UID_ROOT = "1.2.276.0.7230010.3.1."
SIZE = 96
BACKGROUND, REGION = 90, 200  # 8-bit grey, >= 60 apart
CSV_HEADER = "ImageId, EncodedPixels"  # the second column name starts with a space


@dataclass(frozen=True)
class XRay:
    key: str  # stable name used to derive this image's UIDs
    regions: tuple[Ellipse, ...]
    sex: str
    age: str
    view: str


IMAGES = (
    XRay("one", (Ellipse("pneumothorax", 24, 30, 10, 16),), "M", "038Y", "PA"),
    XRay(
        "two",
        (Ellipse("pneumothorax", 20, 26, 8, 12), Ellipse("pneumothorax", 72, 60, 9, 14)),
        "F",
        "051Y",
        "AP",
    ),
    XRay("none", (), "M", "062Y", "PA"),
)


def rle_encode(mask: np.ndarray) -> str:
    """Relative, column-major, 0-indexed RLE of a boolean mask (SIIM train-rle.csv)."""
    flat = np.concatenate([[0], mask.T.ravel().astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(flat))
    starts, ends = edges[0::2], edges[1::2]
    pairs, prev_end = [], 0
    for start, end in zip(starts, ends, strict=True):
        pairs += [int(start - prev_end), int(end - start)]
        prev_end = end
    return " ".join(map(str, pairs))


def image_uids(seed: int, key: str) -> tuple[str, str, str]:
    """(study, series, SOP instance) UIDs; the SOP UID is the ImageId and the file stem."""
    return tuple(uid(UID_ROOT + f"{n}.", "siim", seed, key, n) for n in (2, 3, 4))


def write_dicom(root: Path, seed: int, image: XRay, pixels: np.ndarray) -> Path:
    study, series, sop = image_uids(seed, image.key)
    ds = dicom_base(SECONDARY_CAPTURE, sop)
    ds.Modality = "CR"
    ds.ConversionType = "WSD"
    # Kaggle's anonymised ids are UUID strings; derive one from the seed.
    digest = hashlib.sha256(f"siim-patient-{seed}-{image.key}".encode()).digest()
    ds.PatientName = ds.PatientID = str(uuid.UUID(bytes=digest[:16]))
    ds.PatientSex, ds.PatientAge = image.sex, image.age
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = image.view
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "", 1, 1
    ds.PixelSpacing = [0.168, 0.168]
    set_pixels(ds, pixels, 8)
    return save_dicom(ds, root / "dicom-images-train" / study / series / f"{sop}.dcm")


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    rows, planted = [CSV_HEADER], []
    for image in IMAGES:
        masks = [r.mask(SIZE, SIZE) for r in image.regions]
        if masks:
            check_layout(masks)
        pixels = np.full((SIZE, SIZE), BACKGROUND, dtype=np.uint8)
        for m in masks:
            pixels[m] = REGION
        write_dicom(root, seed, image, pixels)
        image_id = image_uids(seed, image.key)[2]
        rows += [f"{image_id}, {rle_encode(m)}" for m in masks] or [f"{image_id}, -1"]
        if masks:
            union = np.logical_or.reduce(masks)
            planted.append(
                PlantedStructure(DATASET, image_id, "pneumothorax", None, None, extent_px(union))
            )
    (root / "train-rle.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return planted
