"""Ultrasound Nerve Segmentation (Kaggle) replica (family G):
``train/<subject>_<n>.tif`` ↔ ``train/<subject>_<n>_mask.tif`` in the same folder.

Traps: masks sit next to the images with the same extension (an image glob ``*.tif`` would
take them as images); many masks are empty (no nerve); ``test/`` has no masks; the
redundant ``train_masks.csv`` (Kaggle RLE: 1-indexed, column-major) is not read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "UltrasoundNerve"
TISSUE = 70
NERVE = 170
# stem -> (width, height, nerve or None)
IMAGES = {
    "1_1": (80, 58, Ellipse("brachial plexus nerve", 40, 28, 14, 9)),
    "1_2": (80, 58, None),  # empty mask (most of the real masks)
    "10_1": (80, 58, Ellipse("brachial plexus nerve", 30, 32, 10, 8)),
}


def _save_tif(pixels: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.astype(np.uint8)).save(path, format="TIFF")


def _rle(mask: np.ndarray) -> str:
    """Kaggle run-length pairs (start length), 1-indexed, column-major."""
    flat = np.concatenate([[0], mask.T.reshape(-1).astype(np.int8), [0]])
    runs = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs[1::2] -= runs[::2]
    return " ".join(str(v) for v in runs)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted, csv_rows = [], ["subject,img,pixels"]
    for stem, (width, height, blob) in IMAGES.items():
        mask = np.zeros((height, width), dtype=bool)
        if blob is not None:
            dx, dy = seeded_shift(seed, stem)
            mask = Ellipse(blob.label, blob.cx + dx, blob.cy + dy, blob.rx, blob.ry).mask(
                height, width
            )
            check_layout([mask])
        grey = np.full((height, width), TISSUE, dtype=np.uint8)
        grey[mask] = NERVE
        _save_tif(grey, root / "train" / f"{stem}.tif")
        _save_tif(mask.astype(np.uint8) * 255, root / "train" / f"{stem}_mask.tif")
        subject, img = stem.split("_")
        csv_rows.append(f"{subject},{img},{_rle(mask)}")
        if blob is not None:
            planted.append(
                PlantedStructure(
                    DATASET, stem, "brachial plexus nerve", None, None, extent_px(mask)
                )
            )
    _save_tif(np.full((58, 80), TISSUE, dtype=np.uint8), root / "test" / "1.tif")
    (root / "train_masks.csv").write_text("\n".join(csv_rows) + "\n", encoding="utf-8")
    return planted
