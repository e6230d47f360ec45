"""SLAKE 1.0 replica (family H: per-image folder with native ``detection.json`` boxes).

``detection.json`` is a list of single-key dicts ``{"Liver": [x, y, w, h]}``: top-left
corner plus width and height, in pixels of ``source.jpg``. Here each box is exactly the
planted blob's pixel bounding box (x, y of its first column/row, w/h its pixel counts).
``mask.png`` marks every structure with its id from the root ``mask.txt`` (``id:Name``
lines; the real mapping file is not verified, treat its format as a guess).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg, save_json, save_png
from medbench.demo._geometry import Ellipse, check_layout, extent_px
from medbench.demo.truth import PlantedStructure

DATASET = "SLAKE"
ROOT = "Slake1.0"
MASK_IDS = {
    "Liver": 1,
    "Spleen": 2,
    "Right Kidney": 3,
    "Brain Edema": 4,
    "Brain Enhancing Tumor": 5,
    "Left Lung": 6,
    "Right Lung": 7,
    "Heart": 8,
}


@dataclass(frozen=True)
class SlakeImage:
    img_id: int
    modality: str  # as in the QA json: CT, MRI, X-Ray
    location: str
    split: str  # train / validate / test
    width: int
    height: int
    background: int
    blobs: tuple[tuple[Ellipse, int], ...]  # (ellipse named as in detection.json, grey value)
    detection: str = "boxes"  # "boxes", "empty" (``[]``) or "missing" (no file)


IMAGES = (
    SlakeImage(
        1,
        "CT",
        "Abdomen",
        "train",
        64,
        64,
        95,
        (
            (Ellipse("Liver", 18, 26, 10, 12), 175),
            (Ellipse("Spleen", 48, 22, 6, 8), 255),
            (Ellipse("Right Kidney", 22, 50, 6, 5), 10),
        ),
    ),
    SlakeImage(
        102,
        "MRI",
        "Brain",
        "train",
        60,
        72,
        70,
        (
            (Ellipse("Brain Edema", 20, 24, 9, 12), 150),
            (Ellipse("Brain Enhancing Tumor", 40, 52, 8, 7), 230),
        ),
    ),
    SlakeImage(
        560,
        "X-Ray",
        "Chest",
        "validate",
        80,
        80,
        10,
        (
            (Ellipse("Right Lung", 20, 36, 11, 22), 95),
            (Ellipse("Left Lung", 60, 36, 11, 22), 175),
            (Ellipse("Heart", 40, 62, 5, 6), 255),
        ),
    ),
    SlakeImage(
        7,
        "CT",
        "Abdomen",
        "test",
        64,
        64,
        95,
        ((Ellipse("Liver", 20, 30, 10, 12), 175),),
        detection="missing",
    ),
    SlakeImage(
        9,
        "CT",
        "Chest",
        "test",
        64,
        64,
        95,
        ((Ellipse("Heart", 32, 30, 9, 9), 175),),
        detection="empty",
    ),
)


def questions(image: SlakeImage, first_qid: int) -> list[dict]:
    name = image.blobs[0][0].label
    base = {
        "img_id": image.img_id,
        "img_name": f"xmlab{image.img_id}/source.jpg",
        "location": image.location,
        "modality": image.modality,
        "base_type": "vqa",
    }
    return [
        {
            **base,
            "question": "Which modality is used to take this image?",
            "answer": image.modality,
            "q_lang": "en",
            "answer_type": "OPEN",
            "content_type": "Modality",
            "triple": ["vhead", "_", "_"],
            "qid": first_qid,
        },
        {
            **base,
            "question": f"Does the picture contain {name.lower()}?",
            "answer": "Yes",
            "q_lang": "en",
            "answer_type": "CLOSED",
            "content_type": "Organ",
            "triple": ["vhead", "_", "_"],
            "qid": first_qid + 1,
        },
        {
            **base,
            "question": "这张图片是用什么成像方式拍摄的?",
            "answer": image.modality,
            "q_lang": "zh",
            "answer_type": "OPEN",
            "content_type": "Modality",
            "triple": ["vhead", "_", "_"],
            "qid": first_qid + 2,
        },
    ]


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir) / ROOT
    splits: dict[str, list[dict]] = {"train": [], "validate": [], "test": []}
    planted = []
    shift = seed % 3  # whole-pixel shift keeps boxes integral and seeds distinct
    for n, image in enumerate(IMAGES):
        folder = root / "imgs" / f"xmlab{image.img_id}"
        h, w = image.height, image.width
        masks = [
            Ellipse(e.label, e.cx + shift, e.cy + shift, e.rx, e.ry).mask(h, w)
            for e, _ in image.blobs
        ]
        check_layout(masks)
        grey = np.full((h, w), image.background, dtype=np.uint8)
        label_png = np.zeros((h, w), dtype=np.uint8)
        boxes = []
        for (ellipse, value), mask in zip(image.blobs, masks, strict=True):
            grey[mask] = value
            label_png[mask] = MASK_IDS[ellipse.label]
            rows, cols = np.nonzero(mask)
            bw, bh = extent_px(mask)
            boxes.append({ellipse.label: [float(cols.min()), float(rows.min()), bw, bh]})
            if image.detection == "boxes":
                planted.append(
                    PlantedStructure(
                        DATASET, f"xmlab{image.img_id}", ellipse.label.lower(), None, None, (bw, bh)
                    )
                )
        save_jpeg(np.stack([grey] * 3, axis=-1), folder / "source.jpg")  # 3-channel like SLAKE
        save_png(label_png, folder / "mask.png")
        if image.detection != "missing":
            save_json(boxes if image.detection == "boxes" else [], folder / "detection.json")
        qa = questions(image, 1000 * n)
        save_json(qa, folder / "question.json")
        splits[image.split] += qa
    for split, rows in splits.items():
        save_json(rows, root / f"{split}.json")
    lines = [f"{i}:{name}" for name, i in MASK_IDS.items()]
    (root / "mask.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return planted
