"""Chest_Image_Pneum replica (Tianchi re-host of SIIM-ACR; family F: DICOM tree + RLE CSV).

Same encoding as SIIM's ``train-rle.csv`` (relative offsets, column-major, 0-indexed, one
row per region, ``-1`` = no pneumothorax, a space after each comma), under Tianchi's names:
``chestimage_train_datasets/<study>/<series>/<SOP UID>.dcm`` and
``chestimage_train-rle_datasets.csv``. The two rows of the two-region image are NOT adjacent
in the CSV, so a reader keeping one row per id (as a dict of the CSV would) loses a region.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from medbench.demo._files import dicom_base, save_dicom, set_pixels, uid
from medbench.demo._geometry import Ellipse, check_layout, extent_px
from medbench.demo.siim_acr import CSV_HEADER, SECONDARY_CAPTURE, UID_ROOT, XRay, rle_encode
from medbench.demo.truth import PlantedStructure

DATASET = "Chest_Image_Pneum"
TRAIN_DIR = "chestimage_train_datasets"
TEST_DIR = "chestimage_test_datasets"
CSV_NAME = "chestimage_train-rle_datasets.csv"
SIZE = 80
BACKGROUND, REGION = 70, 215  # 8-bit grey, unlike the SIIM replica's (no duplicate scans)

IMAGES = (
    XRay("single", (Ellipse("pneumothorax", 58, 26, 9, 14),), "F", "044Y", "PA"),
    XRay(
        "double",
        (Ellipse("pneumothorax", 18, 22, 7, 11), Ellipse("pneumothorax", 60, 54, 8, 13)),
        "M",
        "057Y",
        "PA",
    ),
    XRay("empty", (), "F", "033Y", "AP"),
)
ORPHAN = XRay("orphan", (Ellipse("pneumothorax", 40, 40, 8, 8),), "M", "070Y", "PA")
TEST_IMAGE = XRay("test", (), "M", "029Y", "PA")


def image_uids(seed: int, key: str) -> tuple[str, str, str]:
    """(study, series, SOP instance) UIDs; the SOP UID is the ImageId and the file stem."""
    return tuple(uid(UID_ROOT + f"{n}.", "tianchi", seed, key, n) for n in (2, 3, 4))


def write_dicom(folder: Path, seed: int, image: XRay, pixels: np.ndarray) -> str:
    study, series, sop = image_uids(seed, image.key)
    ds = dicom_base(SECONDARY_CAPTURE, sop)
    ds.Modality = "CR"
    ds.ConversionType = "WSD"
    digest = hashlib.sha256(f"tianchi-patient-{seed}-{image.key}".encode()).hexdigest()
    ds.PatientName = ds.PatientID = digest[:32]
    ds.PatientSex, ds.PatientAge = image.sex, image.age
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = image.view
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "", 1, 1
    ds.PixelSpacing = [0.168, 0.168]
    set_pixels(ds, pixels, 8)
    save_dicom(ds, folder / study / series / f"{sop}.dcm")
    return sop


def pixels_and_masks(image: XRay) -> tuple[np.ndarray, list[np.ndarray]]:
    masks = [r.mask(SIZE, SIZE) for r in image.regions]
    if masks:
        check_layout(masks)
    pixels = np.full((SIZE, SIZE), BACKGROUND, dtype=np.uint8)
    for m in masks:
        pixels[m] = REGION
    return pixels, masks


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    first_rows, later_rows, planted = [], [], []
    for image in IMAGES:
        pixels, masks = pixels_and_masks(image)
        image_id = write_dicom(root / TRAIN_DIR, seed, image, pixels)
        rows = [f"{image_id}, {rle_encode(m)}" for m in masks] or [f"{image_id}, -1"]
        first_rows.append(rows[0])
        later_rows += rows[1:]
        if masks:
            union = np.logical_or.reduce(masks)
            planted.append(
                PlantedStructure(DATASET, image_id, "pneumothorax", None, None, extent_px(union))
            )
    write_dicom(root / TRAIN_DIR, seed, ORPHAN, pixels_and_masks(ORPHAN)[0])  # no CSV row
    write_dicom(root / TEST_DIR, seed, TEST_IMAGE, pixels_and_masks(TEST_IMAGE)[0])
    lines = [CSV_HEADER, *first_rows, *later_rows]
    (root / CSV_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return planted
