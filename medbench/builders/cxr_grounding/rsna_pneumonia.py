"""RSNA Pneumonia Detection Challenge (Kaggle, 2018): pneumonia boxes on chest X-rays.

Input, as the competition archive extracts: ``stage_2_train_labels.csv`` (``patientId, x,
y, width, height, Target``; one line per box, so a patient with two boxes has two lines, and
one line with empty coordinates and Target 0 for a negative), optional
``stage_2_detailed_class_info.csv`` (``patientId, class``: "Lung Opacity", "Normal",
"No Lung Opacity / Not Normal"), and ``stage_2_train_images/<patientId>.dcm``.

Rows: one per image; query = "pneumonia" (the disease name, as DAP uses); positives carry
their xywh boxes as [x, y, x + w, y + h] pixels, negatives (Target 0) are zero-box rows.
The CSV has no image sizes, so they come from the DICOM header (Rows/Columns); an image whose
DICOM is missing is skipped. The challenge's masks are these boxes filled in, so no mask
column is written: rasterise ``boxes`` when a metric needs a mask (pointing game, Dice).
Split: ``train`` (stage 2 training labels are the only labels published).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from medbench.builders.cxr_grounding.records import (
    BuildError,
    ImageStore,
    ReadResult,
    Sample,
    Skip,
    SourceInfo,
    csv_number,
    finish_boxes,
    read_csv,
)
from medbench.hashing import stable_hash
from medbench.imaging.boxes import xywh_to_xyxy
from medbench.schemas.gmpg import GroundingRow

NAME = "rsna-pneumonia"
QUERY = "pneumonia"
SPLIT = "train"
SOURCE = SourceInfo(
    id="RSNA-Pneumonia",
    title="RSNA Pneumonia Detection Challenge (Kaggle 2018, stage 2 training set)",
    license="other (Kaggle competition rules, non-commercial)",
    homepage="https://www.kaggle.com/competitions/rsna-pneumonia-detection-challenge",
    terms="https://www.kaggle.com/competitions/rsna-pneumonia-detection-challenge/rules",
    credentialed=False,
    redistributable=False,
    citation="Shih et al., Augmenting the National Institutes of Health Chest Radiograph "
    "Dataset with Expert Annotations of Possible Pneumonia, Radiology: AI 2019",
    image_store="the extracted competition folder (holding stage_2_train_images/)",
)
LABELS_FILE = "stage_2_train_labels.csv"
CLASS_FILE = "stage_2_detailed_class_info.csv"
IMAGE_DIR = "stage_2_train_images"
REQUIRED = ("patientId", "x", "y", "width", "height", "Target")


def _find(source_root: Path, name: str) -> Path | None:
    direct = source_root / name
    if direct.is_file():
        return direct
    return next(iter(sorted(p for p in source_root.rglob(name) if p.is_file())), None)


def read(source_root: Path, image_root: Path | None) -> ReadResult:
    labels_path = _find(source_root, LABELS_FILE)
    if labels_path is None:
        raise BuildError(f"{source_root}: no {LABELS_FILE} found (the RSNA challenge files)")
    records, _ = read_csv(labels_path, REQUIRED)
    class_path = _find(source_root, CLASS_FILE)
    classes: dict[str, str] = {}
    if class_path is not None:
        with open(class_path, newline="", encoding="utf-8-sig") as fh:
            for rec in csv.DictReader(fh):
                classes.setdefault(rec.get("patientId", ""), (rec.get("class") or "").strip())

    by_patient: dict[str, list[tuple[int, dict]]] = {}
    for line, rec in enumerate(records, start=2):
        by_patient.setdefault(rec["patientId"].strip(), []).append((line, rec))

    image_root = image_root or labels_path.parent
    store = ImageStore(image_root)
    notes: Counter = Counter()
    samples: list[Sample] = []
    skipped: list[Skip] = []
    for patient, members in by_patient.items():
        targets = {rec["Target"].strip() for _, rec in members}
        if not patient or len(targets) != 1 or targets - {"0", "1"}:
            skipped.append(Skip(patient or "<empty>", "bad_target", f"Target values {targets}"))
            continue
        positive = targets == {"1"}
        xywh = []
        for line, rec in members:
            values = [csv_number(rec[k]) for k in ("x", "y", "width", "height")]
            if not positive:
                if any(v is not None for v in values):
                    notes["negative_lines_with_coordinates"] += 1
                continue
            if any(v is None for v in values) or values[2] <= 0 or values[3] <= 0:  # type: ignore[operator]
                skipped.append(Skip(f"{patient} (line {line})", "degenerate_box", f"{values}"))
                continue
            xywh.append(values)
        if positive and not xywh:
            skipped.append(Skip(patient, "no_valid_box", "Target 1 but no usable box"))
            continue
        rel = f"{IMAGE_DIR}/{patient}.dcm"
        probe = store.probe(rel)
        if probe.size is None:
            store.report(rel, "row skipped (size unknown: the CSV has no image sizes)")
            why = f"DICOM {probe.problem}: the CSV gives no image size"
            skipped.append(Skip(patient, "image_unavailable", why))
            continue
        width, height = probe.size
        boxes, dropped = finish_boxes([xywh_to_xyxy(b) for b in xywh], width, height, notes)  # type: ignore[arg-type]
        if dropped:
            reason = f"{dropped} box(es) outside the image"
            skipped.append(Skip(patient, "box_outside_image", reason))
        if positive and not boxes:
            continue
        label = classes.get(patient) or (QUERY if positive else f"no {QUERY}")
        row = GroundingRow(
            sample_id=stable_hash(NAME, patient),
            dataset=NAME,
            image_id=patient,
            subject_id=patient,
            split=SPLIT,
            image_path=rel,
            image_width=width,
            image_height=height,
            image_size_source=probe.size_source,
            sentence=QUERY,
            boxes=boxes,
            box_names=[QUERY] * len(boxes),
            groundable=bool(boxes),
            label=label,
        )
        samples.append(Sample(row, probe.path))
    notes["csv_rows"] = len(records)
    inputs = {"labels": labels_path}
    if class_path is not None:
        inputs["detailed_class_info"] = class_path
    return ReadResult(
        samples=samples,
        skipped=skipped,
        image_issues=list(store.issues.values()),
        inputs=inputs,
        image_root=image_root,
        notes=notes,
    )
