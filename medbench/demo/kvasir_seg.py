"""Kvasir-SEG replica (family G): ``Kvasir-SEG/{images,masks}/<id>.jpg`` + ``kavsir_bboxes.json``.

Traps: the masks are JPEG (compression noise around the edge, so they must be thresholded);
the archive extracts to a ``Kvasir-SEG/`` folder (one wrapping folder inside the dataset
folder); the box file is misspelt ``kavsir_bboxes.json`` and holds xyxy boxes per stem
(written here as pixel edges, max exclusive; UNVERIFIED against the real file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg, save_json
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "Kvasir-SEG"
ARCHIVE = "Kvasir-SEG"  # the folder the official zip extracts to
MUCOSA = (200, 90, 80)
POLYP = (250, 215, 195)  # about 100 grey levels above the mucosa
JPEG_QUALITY = 90
IMAGES = {
    "cju0qkwl35piu0993l0dewei2": (80, 64, Ellipse("polyp", 40, 30, 18, 14)),
    "cju0qoxqj9q6s0835b43399p4": (64, 72, Ellipse("polyp", 28, 38, 13, 19)),
    "cju0roawvklrq0799vmjorwfv": (72, 56, Ellipse("polyp", 34, 26, 9, 8)),
}


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir) / ARCHIVE
    planted, boxes = [], {}
    for stem, (width, height, blob) in IMAGES.items():
        dx, dy = seeded_shift(seed, stem)
        mask = Ellipse(blob.label, blob.cx + dx, blob.cy + dy, blob.rx, blob.ry).mask(height, width)
        check_layout([mask])
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = MUCOSA
        rgb[mask] = POLYP
        save_jpeg(rgb, root / "images" / f"{stem}.jpg", quality=JPEG_QUALITY)
        mask_rgb = np.repeat(mask[..., np.newaxis].astype(np.uint8) * 255, 3, axis=2)
        save_jpeg(mask_rgb, root / "masks" / f"{stem}.jpg", quality=JPEG_QUALITY)
        rows, cols = np.nonzero(mask)
        box = {
            "label": "polyp",
            "xmin": int(cols.min()),
            "ymin": int(rows.min()),
            "xmax": int(cols.max()) + 1,
            "ymax": int(rows.max()) + 1,
        }
        boxes[stem] = {"height": height, "width": width, "bbox": [box]}
        planted.append(PlantedStructure(DATASET, stem, "polyp", None, None, extent_px(mask)))
    save_json(boxes, root / "kavsir_bboxes.json")
    return planted
