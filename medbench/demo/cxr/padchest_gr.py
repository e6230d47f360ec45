"""PadChest-GR replica: ``grounded_reports_20240819.json`` (studies with findings, boxes
normalised to 0..1 as [x1, y1, x2, y2]), ``master_table.csv`` (one line per study and label,
with the split) and the PNGs under ``Padchest_GR_files/PadChest_GR/<ImageID>``.

Planted: a study (16-bit PNG, train) with a one-box and a two-box abnormal sentence, a
non-abnormal sentence without a ``boxes`` key and a non-abnormal sentence that carries a box
anyway (removed, recorded in the cleanup trail); a study whose PNG is missing (validation:
its two sentences cannot be placed and are skipped); a study (8-bit PNG, test) with a
Spanish-only sentence and an abnormal sentence whose only box is out of range (skipped);
and a study that the master table does not list (skipped).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._files import save_json
from medbench.demo.cxr._draw import canvas

REPORTS_NAME = "grounded_reports_20240819.json"
IMAGE_DIR = "Padchest_GR_files/PadChest_GR"


@dataclass(frozen=True)
class PlantedSentence:
    study_id: str
    image_id: str
    index: int  # position in the study's findings
    sentence: str  # the query a build must use
    boxes: tuple[tuple[float, float, float, float], ...]  # normalised, as in the JSON
    split: str


@dataclass(frozen=True)
class Planted:
    sentences: list[PlantedSentence]  # rows a build must write (non-abnormal: no boxes)
    sizes: dict[str, tuple[int, int]]  # image_id -> (width, height) of the stored PNG
    missing_image: str
    missing_sentences: int  # sentences of the missing image (skipped)
    cleaned: tuple[str, int]  # (study, finding index) whose stray box is removed
    unlisted_study: str
    bad_box: tuple[str, int]


def _ids(n: int) -> tuple[str, str, str]:
    study = f"2053668664013634823614867989145588{n:04d}_k6ga29"
    image = f"21684011136696401382954316651201333813574{n:04d}_02-094-102.png"
    patient = f"1234635254373522753272632661344{n:04d}"
    return study, image, patient


S1, S2, S3, S4 = (_ids(n) for n in (1, 2, 3, 4))
SIZES = {S1[1]: (200, 160), S3[1]: (120, 100)}
STUDIES = [
    (
        S1,
        "train",
        [
            {
                "sentence_en": "Cardiomegaly.",
                "sentence_es": "Cardiomegalia.",
                "abnormal": True,
                "boxes": [[0.3, 0.4, 0.7, 0.8]],
                "extra_boxes": [],
                "labels": ["cardiomegaly"],
                "locations": ["cardiac"],
                "progression": None,
            },
            {
                "sentence_en": "Bilateral pleural effusion.",
                "sentence_es": "Derrame pleural bilateral.",
                "abnormal": True,
                "boxes": [[0.05, 0.6, 0.25, 0.9], [0.75, 0.6, 0.95, 0.9]],
                "extra_boxes": [[0.1, 0.1, 0.2, 0.2]],
                "labels": ["pleural effusion"],
                "locations": ["bilateral", "costophrenic angle"],
                "progression": None,
            },
            {
                "sentence_en": "No pneumothorax.",
                "sentence_es": "Sin neumotórax.",
                "abnormal": False,
            },
            {
                "sentence_en": "Trachea is midline.",
                "sentence_es": "Tráquea centrada.",
                "abnormal": False,
                "boxes": [[0.45, 0.0, 0.55, 0.3]],
            },
        ],
    ),
    (
        S2,
        "validation",
        [
            {
                "sentence_en": "Right basal atelectasis.",
                "sentence_es": "Atelectasia basal derecha.",
                "abnormal": True,
                "boxes": [[0.1, 0.6, 0.4, 0.8]],
                "labels": ["atelectasis"],
                "locations": ["right", "basal"],
            },
            {
                "sentence_en": "No other findings.",
                "sentence_es": "Sin otros hallazgos.",
                "abnormal": False,
            },
        ],
    ),
    (
        S3,
        "test",
        [
            {
                "sentence_en": "",
                "sentence_es": "Nódulo pulmonar derecho.",
                "abnormal": True,
                "boxes": [[0.5, 0.2, 0.6, 0.3]],
                "labels": ["nodule"],
                "locations": ["right"],
            },
            {
                "sentence_en": "Calcified granuloma.",
                "sentence_es": "Granuloma calcificado.",
                "abnormal": True,
                "boxes": [[1.5, 0.2, 0.3, 0.4]],
                "labels": ["calcified granuloma"],
                "locations": [],
            },
        ],
    ),
    (
        S4,
        "test",
        [
            {
                "sentence_en": "Scoliosis.",
                "sentence_es": "Escoliosis.",
                "abnormal": True,
                "boxes": [[0.4, 0.1, 0.6, 0.9]],
                "labels": ["scoliosis"],
                "locations": ["spine"],
            }
        ],
    ),
]


def source_root(root: Path) -> Path:
    return root


def image_root(root: Path) -> Path:
    return root / IMAGE_DIR


def _png(image_id: str, boxes: list[list[float]], sixteen_bit: bool, root: Path) -> None:
    width, height = SIZES[image_id]
    pixel_boxes = [(b[0] * width, b[1] * height, b[2] * width, b[3] * height) for b in boxes]
    pixels = canvas(width, height, pixel_boxes)
    path = image_root(root) / image_id
    path.parent.mkdir(parents=True, exist_ok=True)
    if sixteen_bit:  # PadChest PNGs are 16-bit greyscale
        img = Image.fromarray(pixels.astype(np.uint16) * 257)  # uint16 -> mode I;16
    else:
        img = Image.fromarray(pixels)
    img.save(path, format="PNG")


def write(root: Path) -> Planted:
    reports = [
        {"StudyID": study, "ImageID": image, "findings": findings}
        for (study, image, _), _, findings in STUDIES
    ]
    save_json(reports, source_root(root) / REPORTS_NAME)
    with open(source_root(root) / "master_table.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["StudyID", "ImageID", "PatientID", "PatientSex_DICOM", "split", "label_group"]
        )
        for (study, image, patient), split, findings in STUDIES:
            if study == S4[0]:
                continue  # not in the master table
            for label in sorted({lab for f in findings for lab in f.get("labels", [])}) or [""]:
                writer.writerow([study, image, patient, "F", split, label])
    _png(S1[1], [b for f in STUDIES[0][2] if f["abnormal"] for b in f["boxes"]], True, root)
    _png(S3[1], [STUDIES[2][2][0]["boxes"][0]], False, root)

    sentences = []
    for (study, image, _), split, findings in STUDIES[:3:2]:  # S1 and S3 have their PNGs
        for i, f in enumerate(findings):
            if f["abnormal"] and any(v > 1 for b in f["boxes"] for v in b):
                continue  # the bad box
            boxes = tuple(tuple(b) for b in f.get("boxes", [])) if f["abnormal"] else ()
            sentences.append(
                PlantedSentence(study, image, i, f["sentence_en"] or f["sentence_es"], boxes, split)  # type: ignore[arg-type]
            )
    return Planted(
        sentences=sentences,
        sizes=dict(SIZES),
        missing_image=S2[1],
        missing_sentences=len(STUDIES[1][2]),
        cleaned=(S1[0], 3),
        unlisted_study=S4[0],
        bad_box=(S3[0], 1),
    )
