"""COVID Rural replica: the ``covid_rural_annot/`` folder of
haimingt/opacity_segmentation_covid_chest_X_ray: ``jpgs/<stem>.jpg``, ``jpgs/jsons/<stem>.json``
(LabelMe polygons, ``imageData`` left empty here), ``pngs_masks/<stem>.png`` (0 background,
1 opacity, as the repository's README states) and ``covid_rural_patient_info.csv``.

Planted: an image whose mask has three 8-connected components, one of them two squares that
touch only at a corner (one component, one box); an image with an empty mask (a zero-box
row); an image without a mask (not annotated: listed, not written); a mask whose JPEG is
missing (row written with the mask's size); a mask whose size differs from its JPEG's
(skipped).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg, save_json, save_png
from medbench.demo.cxr._draw import canvas

ANNOT = "covid_rural_annot"
WITH_BOXES = "COVID-19-AR-16406502_01-12-2012-XR"
EMPTY = "COVID-19-AR-16406488_01-15-2012-XR"
UNANNOTATED = "COVID-19-AR-16406488_01-08-2012-XR"
NO_IMAGE = "COVID-19-AR-16406531_01-20-2012-XR"
MISMATCH = "COVID-19-AR-16424070_02-07-2012-XR"

# stem -> (mask width, height, rectangles as (x1, y1, x2, y2) pixel boxes)
MASKS: dict[str, tuple[int, int, list[tuple[int, int, int, int]]]] = {
    WITH_BOXES: (
        120,
        100,
        [(10, 20, 30, 40), (70, 50, 100, 80), (50, 5, 55, 10), (55, 10, 60, 15)],
    ),
    EMPTY: (90, 110, []),
    NO_IMAGE: (80, 60, [(20, 10, 40, 20)]),
    MISMATCH: (100, 100, [(10, 10, 20, 20)]),
}
IMAGES: dict[str, tuple[int, int]] = {
    WITH_BOXES: (120, 100),
    EMPTY: (90, 110),
    UNANNOTATED: (100, 80),
    MISMATCH: (120, 100),
}
PATIENT_COLUMNS = ["PATIENT_ID", "AGE", "SEX", "COVID TEST POSITIVE", "ICU Admit", "MORTALITY"]


@dataclass(frozen=True)
class Planted:
    boxes: dict[str, list[tuple[float, float, float, float]]]  # written rows, expected boxes
    sizes: dict[str, tuple[int, int]]
    empty: str
    unannotated: str
    missing_image: str
    mismatch: str


def source_root(root: Path) -> Path:
    return root / ANNOT


def image_root(root: Path) -> Path:
    return root / ANNOT


def _labelme(stem: str, width: int, height: int, rects: list) -> dict:
    shapes = [
        {
            "label": "groud_glass_opacity",  # sic: the label as the annotators typed it
            "points": [[x1, y1], [x2, y1], [x2, y2], [x1, y2]],
            "group_id": None,
            "shape_type": "polygon",
            "flags": {},
        }
        for x1, y1, x2, y2 in rects
    ]
    return {
        "version": "4.5.6",
        "flags": {},
        "shapes": shapes,
        "imagePath": f"{stem}.jpg",
        "imageData": None,
        "imageHeight": height,
        "imageWidth": width,
    }


def write(root: Path) -> Planted:
    annot = source_root(root)
    for stem, (width, height) in IMAGES.items():
        rects = MASKS.get(stem, (0, 0, []))[2]
        save_jpeg(canvas(width, height, rects), annot / "jpgs" / f"{stem}.jpg")
    for stem, (width, height, rects) in MASKS.items():
        mask = np.zeros((height, width), dtype=np.uint8)
        for x1, y1, x2, y2 in rects:
            mask[y1:y2, x1:x2] = 1
        save_png(mask, annot / "pngs_masks" / f"{stem}.png")
        save_json(_labelme(stem, width, height, rects), annot / "jpgs" / "jsons" / f"{stem}.json")
    with open(annot / "covid_rural_patient_info.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(PATIENT_COLUMNS)
        for patient in sorted({s.split("_")[0] for s in (*IMAGES, *MASKS)}):
            writer.writerow([patient, 60, "F", 1, 0, 0])
    return Planted(
        boxes={
            # sorted by (y1, x1); the two corner-touching squares are one component
            WITH_BOXES: [(50, 5, 60, 15), (10, 20, 30, 40), (70, 50, 100, 80)],
            EMPTY: [],
            NO_IMAGE: [(20, 10, 40, 20)],
        },
        sizes={WITH_BOXES: (120, 100), EMPTY: (90, 110), NO_IMAGE: (80, 60)},
        empty=EMPTY,
        unannotated=UNANNOTATED,
        missing_image=NO_IMAGE,
        mismatch=MISMATCH,
    )
