"""ISIC 2017 Task 1 replica (family G): JPEG inputs, ``<id>_segmentation.png`` masks.

Trap: the data folders also hold ``<id>_superpixels.png`` and a metadata CSV, which must be
listed as ignored and never become images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg, save_png
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "ISIC2017"
SKIN = (210, 165, 140)
LESION = (100, 60, 45)  # >= 95 below the skin in every channel: JPEG keeps it apart
# (data folder, ground-truth folder, image id, width, height, lesion)
IMAGES = [
    (
        "ISIC-2017_Training_Data",
        "ISIC-2017_Training_Part1_GroundTruth",
        "ISIC_0000001",
        72,
        60,
        Ellipse("skin lesion", 34, 28, 17, 13),
    ),
    (
        "ISIC-2017_Validation_Data",
        "ISIC-2017_Validation_Part1_GroundTruth",
        "ISIC_0001769",
        64,
        64,
        Ellipse("skin lesion", 30, 31, 12, 16),
    ),
    (
        "ISIC-2017_Test_v2_Data",
        "ISIC-2017_Test_v2_Part1_GroundTruth",
        "ISIC_0012086",
        80,
        56,
        Ellipse("skin lesion", 38, 26, 20, 10),
    ),
]
METADATA_HEADER = "image_id,age_approximate,sex\n"


def _superpixels(height: int, width: int) -> np.ndarray:
    """An RGB superpixel index image (ids packed into R, G): grid cells of 8 px."""
    yy, xx = np.mgrid[0:height, 0:width]
    ids = (yy // 8) * ((width + 7) // 8) + xx // 8
    out = np.zeros((height, width, 3), dtype=np.uint8)
    out[..., 0], out[..., 1] = ids & 255, ids >> 8
    return out


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = []
    for data, truth, image_id, width, height, blob in IMAGES:
        dx, dy = seeded_shift(seed, image_id)
        mask = Ellipse(blob.label, blob.cx + dx, blob.cy + dy, blob.rx, blob.ry).mask(height, width)
        check_layout([mask])
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = SKIN
        rgb[mask] = LESION
        save_jpeg(rgb, root / data / f"{image_id}.jpg")
        save_png(_superpixels(height, width), root / data / f"{image_id}_superpixels.png")
        save_png(mask.astype(np.uint8) * 255, root / truth / f"{image_id}_segmentation.png")
        metadata = root / data / f"{data}_metadata.csv"
        rows = metadata.read_text(encoding="utf-8") if metadata.exists() else METADATA_HEADER
        metadata.write_text(rows + f"{image_id},55,female\n", encoding="utf-8")
        planted.append(
            PlantedStructure(DATASET, image_id, "skin lesion", None, None, extent_px(mask))
        )
    return planted
