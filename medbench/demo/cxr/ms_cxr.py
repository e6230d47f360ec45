"""MS-CXR replica: ``ms-cxr/MS_CXR_Local_Alignment_v1.1.0.csv`` (one line per box, xywh in
pixels of the original image, with image_width/image_height and split) and the MIMIC-CXR-JPG
images it points at, ``mimic-cxr-jpg/files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg``.

Planted: a one-box phrase; a two-box phrase whose lines are NOT adjacent in the CSV, on an
image that also has a one-box phrase; a phrase whose image is missing from the store (its
size is in the CSV, so the row is still written); a phrase whose only box has w = 0
(left out); and an image stored at half the CSV's size (boxes must be halved).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from medbench.demo._files import save_jpeg
from medbench.demo.cxr._draw import canvas, fake_id

CSV_NAME = "MS_CXR_Local_Alignment_v1.1.0.csv"
COLUMNS = [
    "dicom_id",
    "category_name",
    "label_text",
    "path",
    "x",
    "y",
    "w",
    "h",
    "image_width",
    "image_height",
    "split",
]


@dataclass(frozen=True)
class _Image:
    key: str
    subject: str
    study: str
    width: int  # as the CSV states (the original DICOM's size)
    height: int
    stored_scale: float | None  # None: not in the image store; else stored size factor

    @property
    def dicom_id(self) -> str:
        return fake_id("ms-cxr", self.key)

    @property
    def rel_path(self) -> str:
        return f"files/p{self.subject[:2]}/p{self.subject}/s{self.study}/{self.dicom_id}.jpg"


@dataclass(frozen=True)
class PlantedPhrase:
    dicom_id: str
    phrase: str
    category: str
    xywh: tuple[tuple[float, float, float, float], ...]  # as in the CSV, original pixels
    split: str
    image_path: str


@dataclass(frozen=True)
class Planted:
    phrases: list[PlantedPhrase]  # the phrases a build must write, boxes in CSV terms
    missing_image: str  # image_path absent from the store (row written)
    degenerate: str  # phrase left out: its only box has w = 0
    rescaled: str  # dicom_id stored at half size


IMAGES = {
    "A": _Image("A", "10000032", "50414267", 160, 128, 1.0),
    "B": _Image("B", "10000764", "57375967", 150, 120, 1.0),
    "C": _Image("C", "10001217", "52067803", 140, 140, None),
    "D": _Image("D", "10002428", "51321189", 120, 100, 1.0),
    "E": _Image("E", "10003400", "53009463", 200, 160, 0.5),
}
# (image, category, phrase, xywh, split), in CSV order
LINES = [
    ("A", "Pneumonia", "Right lower lobe opacity", (20, 60, 40, 30), "train"),
    ("B", "Pleural effusion", "Bilateral pleural effusions", (10, 80, 30, 25), "test"),
    ("B", "Cardiomegaly", "Enlarged cardiac silhouette", (50, 50, 55, 40), "test"),
    ("B", "Pleural effusion", "Bilateral pleural effusions", (105, 78, 35, 30), "test"),
    ("C", "Pneumothorax", "Small left apical pneumothorax", (90, 10, 30, 20), "val"),
    ("D", "Atelectasis", "Bibasilar atelectasis", (20, 70, 0, 15), "train"),
    ("E", "Consolidation", "Left lower lobe consolidation", (120, 90, 40, 30), "train"),
]


def source_root(root: Path) -> Path:
    return root / "ms-cxr"


def image_root(root: Path) -> Path:
    return root / "mimic-cxr-jpg"


def write(root: Path) -> Planted:
    src = source_root(root)
    src.mkdir(parents=True, exist_ok=True)
    with open(src / CSV_NAME, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for key, category, phrase, (x, y, w, h), split in LINES:
            img = IMAGES[key]
            writer.writerow(
                [img.dicom_id, category, phrase, img.rel_path, x, y, w, h, img.width, img.height]
                + [split]
            )
    for key, img in IMAGES.items():
        if img.stored_scale is None:
            continue
        s = img.stored_scale
        boxes = [
            (x * s, y * s, (x + w) * s, (y + h) * s)
            for k, _, _, (x, y, w, h), _ in LINES
            if k == key and w > 0
        ]
        pixels = canvas(round(img.width * s), round(img.height * s), boxes)
        save_jpeg(pixels, image_root(root) / img.rel_path)

    phrases: dict[tuple[str, str], PlantedPhrase] = {}
    for key, category, phrase, xywh, split in LINES:
        img = IMAGES[key]
        if xywh[2] <= 0:
            continue
        prev = phrases.get((key, phrase))
        boxes = (prev.xywh if prev else ()) + (tuple(float(v) for v in xywh),)
        phrases[(key, phrase)] = PlantedPhrase(
            img.dicom_id,
            phrase,
            category,
            boxes,
            split,
            img.rel_path,  # type: ignore[arg-type]
        )
    return Planted(
        phrases=list(phrases.values()),
        missing_image=IMAGES["C"].rel_path,
        degenerate="Bibasilar atelectasis",
        rescaled=IMAGES["E"].dicom_id,
    )
