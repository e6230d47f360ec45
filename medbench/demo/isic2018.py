"""ISIC 2018 Task 1 replica (family G: RGB JPEG + ``<id>_segmentation.png`` 0/255 mask)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg, save_png
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "ISIC2018"
INPUT = "ISIC2018_Task1-2_Training_Input"
GROUND_TRUTH = "ISIC2018_Task1_Training_GroundTruth"
SKIN = (205, 160, 135)
LESION = (105, 65, 45)  # >= 90 below the skin in every channel, so JPEG keeps it apart
# id -> (width, height, lesion ellipse); sizes differ on purpose.
IMAGES = {
    "ISIC_0000000": (80, 60, Ellipse("skin lesion", 38, 28, 20, 14)),
    "ISIC_0000003": (64, 64, Ellipse("skin lesion", 30, 34, 14, 18)),
    "ISIC_0000012": (72, 56, Ellipse("skin lesion", 40, 26, 16, 11)),
}
ATTRIBUTION = "ISIC_0000000: Anonymous (CC-0)\nISIC_0000003: Anonymous (CC-0)\n"
LICENSE = "Creative Commons Attribution-NonCommercial 4.0 International (CC BY-NC 4.0)\n"


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = []
    for image_id, (width, height, blob) in IMAGES.items():
        dx, dy = seeded_shift(seed, image_id)
        blob = Ellipse(blob.label, blob.cx + dx, blob.cy + dy, blob.rx, blob.ry)
        mask = blob.mask(height, width)
        check_layout([mask])
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = SKIN
        rgb[mask] = LESION
        save_jpeg(rgb, root / INPUT / f"{image_id}.jpg")
        save_png(mask.astype(np.uint8) * 255, root / GROUND_TRUTH / f"{image_id}_segmentation.png")
        planted.append(
            PlantedStructure(DATASET, image_id, "skin lesion", None, None, extent_px(mask))
        )
    # The official input folder ships these next to the images.
    (root / INPUT / "ATTRIBUTION.txt").write_text(ATTRIBUTION, encoding="utf-8")
    (root / INPUT / "LICENSE.txt").write_text(LICENSE, encoding="utf-8")
    return planted
