"""ISIC 2016 Task 1 (Part 1) replica (family G): JPEG inputs and 0/255 PNG masks.

Trap: the 2016 mask suffix is ``_Segmentation.png`` with a CAPITAL S (2017 and 2018 use
``_segmentation.png``); a spec with the later suffix finds no mask at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg, save_png
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "ISIC2016"
SKIN = (200, 170, 150)
LESION = (95, 60, 50)
# (data folder, ground-truth folder, image id, width, height, lesion)
IMAGES = [
    (
        "ISBI2016_ISIC_Part1_Training_Data",
        "ISBI2016_ISIC_Part1_Training_GroundTruth",
        "ISIC_0000000",
        76,
        60,
        Ellipse("skin lesion", 36, 30, 18, 14),
    ),
    (
        "ISBI2016_ISIC_Part1_Training_Data",
        "ISBI2016_ISIC_Part1_Training_GroundTruth",
        "ISIC_0000008",
        60,
        68,
        Ellipse("skin lesion", 28, 33, 11, 17),
    ),
    (
        "ISBI2016_ISIC_Part1_Test_Data",
        "ISBI2016_ISIC_Part1_Test_GroundTruth",
        "ISIC_0000003",
        64,
        56,
        Ellipse("skin lesion", 30, 26, 15, 12),
    ),
]


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
        save_png(mask.astype(np.uint8) * 255, root / truth / f"{image_id}_Segmentation.png")
        planted.append(
            PlantedStructure(DATASET, image_id, "skin lesion", None, None, extent_px(mask))
        )
    return planted
