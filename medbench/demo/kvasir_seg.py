"""Kvasir-SEG replica (family G): ``Kvasir-SEG/{images,masks}/<id>.jpg`` + ``kavsir_bboxes.json``.

Traps: the masks are JPEG (compression noise around the edge, so they must be thresholded);
the archive extracts to a ``Kvasir-SEG/`` folder (one wrapping folder inside the dataset
folder); the box file is misspelt ``kavsir_bboxes.json`` and holds xyxy boxes per stem
(written here as pixel edges, max exclusive; UNVERIFIED against the real file). The box
file disagrees with the masks on purpose: ``WRONG_BOX_STEM`` has a box (``WRONG_BOX``) that
misses its polyp, and ``NOT_IN_JSON_STEM`` has no entry at all. Every other entry is the
mask's box (``planted_boxes``), so a cross-check must list exactly those two images, while
the rows' boxes still come from the masks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg, save_json
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "Kvasir-SEG"
ARCHIVE = "Kvasir-SEG"  # the folder the official zip extracts to
BOX_FILE = "kavsir_bboxes.json"
MUCOSA = (200, 90, 80)
POLYP = (250, 215, 195)  # about 100 grey levels above the mucosa
JPEG_QUALITY = 90
IMAGES = {
    "cju0qkwl35piu0993l0dewei2": (80, 64, Ellipse("polyp", 40, 30, 18, 14)),
    "cju0qoxqj9q6s0835b43399p4": (64, 72, Ellipse("polyp", 28, 38, 13, 19)),
    "cju0roawvklrq0799vmjorwfv": (72, 56, Ellipse("polyp", 34, 26, 9, 8)),
    "cju0s690hkp960855tjuaqvv0": (80, 60, Ellipse("polyp", 22, 28, 10, 9)),
    "cju0sr5ghl0nd08789uzf1raf": (64, 64, Ellipse("polyp", 32, 32, 11, 10)),
}
# the polyp is on the left (x <= 34 for any seed); this box sits on the right: IoU 0
WRONG_BOX_STEM = "cju0s690hkp960855tjuaqvv0"
WRONG_BOX = {"label": "polyp", "xmin": 50, "ymin": 18, "xmax": 70, "ymax": 38}
NOT_IN_JSON_STEM = "cju0sr5ghl0nd08789uzf1raf"


def _mask(stem: str, seed: int) -> np.ndarray:
    width, height, blob = IMAGES[stem]
    dx, dy = seeded_shift(seed, stem)
    return Ellipse(blob.label, blob.cx + dx, blob.cy + dy, blob.rx, blob.ry).mask(height, width)


def planted_boxes(seed: int = 0) -> dict[str, tuple[int, int, int, int]]:
    """Each image's polyp box (x1, y1, x2, y2; max exclusive) from the planted mask."""
    boxes = {}
    for stem in IMAGES:
        rows, cols = np.nonzero(_mask(stem, seed))
        boxes[stem] = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    return boxes


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir) / ARCHIVE
    planted, boxes = [], {}
    true_boxes = planted_boxes(seed)
    for stem, (width, height, blob) in IMAGES.items():
        mask = _mask(stem, seed)
        check_layout([mask])
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = MUCOSA
        rgb[mask] = POLYP
        save_jpeg(rgb, root / "images" / f"{stem}.jpg", quality=JPEG_QUALITY)
        mask_rgb = np.repeat(mask[..., np.newaxis].astype(np.uint8) * 255, 3, axis=2)
        save_jpeg(mask_rgb, root / "masks" / f"{stem}.jpg", quality=JPEG_QUALITY)
        planted.append(PlantedStructure(DATASET, stem, blob.label, None, None, extent_px(mask)))
        if stem == NOT_IN_JSON_STEM:
            continue
        x1, y1, x2, y2 = true_boxes[stem]
        box = {"label": "polyp", "xmin": x1, "ymin": y1, "xmax": x2, "ymax": y2}
        if stem == WRONG_BOX_STEM:
            box = dict(WRONG_BOX)
        boxes[stem] = {"height": height, "width": width, "bbox": [box]}
    save_json(boxes, root / BOX_FILE)
    return planted
