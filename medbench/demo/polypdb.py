"""PolypDB replica (family G), modality-wise view:
``{BLI,FICE,LCI,NBI,WLI}/{images,annotations}/<same name>.jpg``.

Traps: filenames with spaces; masks are JPEG (thresholded); images and masks in sibling
folders of each modality folder. The centre-wise view holds the same images again, so a
spec must read one view only (not reproduced here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import save_jpeg
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "PolypDB"
JPEG_QUALITY = 90
# (modality, name, width, height, polyp, mucosa colour, polyp colour)
IMAGES = [
    (
        "WLI",
        "PKHL_15 220831_201030_BN011_036",
        80,
        64,
        Ellipse("polyp", 38, 30, 16, 13),
        (200, 90, 80),
        (250, 215, 195),
    ),
    (
        "NBI",
        "PKHL_15 220831_201030_BN011_041",
        72,
        64,
        Ellipse("polyp", 32, 32, 12, 15),
        (70, 110, 90),
        (185, 205, 170),
    ),
    (
        "BLI",
        "BLI 0003",
        64,
        56,
        Ellipse("polyp", 30, 26, 11, 9),
        (60, 95, 120),
        (175, 200, 215),
    ),
]


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = []
    for modality, name, width, height, blob, mucosa, polyp in IMAGES:
        dx, dy = seeded_shift(seed, name)
        mask = Ellipse(blob.label, blob.cx + dx, blob.cy + dy, blob.rx, blob.ry).mask(height, width)
        check_layout([mask])
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = mucosa
        rgb[mask] = polyp
        save_jpeg(rgb, root / modality / "images" / f"{name}.jpg", quality=JPEG_QUALITY)
        mask_rgb = np.repeat(mask[..., np.newaxis].astype(np.uint8) * 255, 3, axis=2)
        save_jpeg(mask_rgb, root / modality / "annotations" / f"{name}.jpg", quality=JPEG_QUALITY)
        planted.append(PlantedStructure(DATASET, name, "polyp", None, None, extent_px(mask)))
    return planted
