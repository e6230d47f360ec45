"""RSNA Pneumonia replica: ``stage_2_train_labels.csv`` (``patientId,x,y,width,height,
Target``; one line per box, empty coordinates and Target 0 for negatives),
``stage_2_detailed_class_info.csv`` (``patientId,class``) and
``stage_2_train_images/<patientId>.dcm`` (8-bit MONOCHROME2, 128 columns × 96 rows, so width
and height cannot be swapped unnoticed).

Planted: a patient with two boxes (two CSV lines, not adjacent), two negatives with
different classes, a positive whose DICOM is missing (skipped: the CSV has no size) and a
positive whose box runs past the right and bottom edges (clipped).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from medbench.demo._files import dicom_base, save_dicom, set_pixels, uid
from medbench.demo.cxr._draw import canvas, fake_id

WIDTH, HEIGHT = 128, 96
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
UID_ROOT = "1.2.826.0.1.3680043.10.1099."


def _patient(n: int) -> str:
    return fake_id("rsna", n, groups=(8, 4, 4, 4, 12))


P1, P2, P3, P4, P5 = (_patient(n) for n in range(1, 6))
# (patientId, xywh or None, Target), in CSV order
LINES = [
    (P1, (10.0, 20.0, 30.0, 40.0), 1),
    (P2, None, 0),
    (P3, None, 0),
    (P1, (80.0, 25.0, 35.0, 45.0), 1),
    (P4, (30.0, 30.0, 20.0, 20.0), 1),
    (P5, (100.0, 60.0, 50.0, 50.0), 1),
]
CLASSES = {
    P1: "Lung Opacity",
    P2: "Normal",
    P3: "No Lung Opacity / Not Normal",
    P4: "Lung Opacity",
    P5: "Lung Opacity",
}


@dataclass(frozen=True)
class Planted:
    boxes: dict[str, list[tuple[float, float, float, float]]]  # written rows: CSV xywh
    classes: dict[str, str]
    size: tuple[int, int]  # (width, height) of every DICOM
    missing_image: str  # patientId without a DICOM (skipped)
    clipped: str  # patientId whose box runs past the image


def source_root(root: Path) -> Path:
    return root


def image_root(root: Path) -> Path:
    return root


def _dicom(patient: str, boxes: list, path: Path) -> None:
    ds = dicom_base(SECONDARY_CAPTURE, uid(UID_ROOT, patient, "sop"))
    ds.PatientID = patient
    ds.PatientName = patient
    ds.Modality = "CR"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.StudyInstanceUID = uid(UID_ROOT, patient, "study")
    ds.SeriesInstanceUID = uid(UID_ROOT, patient, "series")
    ds.PixelSpacing = [0.168, 0.168]
    xyxy = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    set_pixels(ds, canvas(WIDTH, HEIGHT, xyxy), bits=8)
    save_dicom(ds, path)


def write(root: Path) -> Planted:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "stage_2_train_labels.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["patientId", "x", "y", "width", "height", "Target"])
        for patient, box, target in LINES:
            writer.writerow([patient, *(box or ("", "", "", "")), target])
    with open(root / "stage_2_detailed_class_info.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["patientId", "class"])
        for patient, _, _ in LINES:  # the real file also has one line per box
            writer.writerow([patient, CLASSES[patient]])
    boxes: dict[str, list] = {}
    for patient, box, _ in LINES:
        boxes.setdefault(patient, [])
        if box is not None:
            boxes[patient].append(box)
    for patient, planted in boxes.items():
        if patient != P4:
            _dicom(patient, planted, root / "stage_2_train_images" / f"{patient}.dcm")
    written = {p: b for p, b in boxes.items() if p != P4}
    return Planted(written, dict(CLASSES), (WIDTH, HEIGHT), P4, P5)
