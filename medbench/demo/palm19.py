"""PALM19 (iChallenge-PM) replica (family G): fundus JPEGs + inverted ``Disc_Masks/<id>.bmp``.

Written as the official nested zips look once EXTRACTED (``training.zip`` →
``PALM-Training400/PALM-Training400.zip`` → ``PALM-Training400/PALM-Training400/*.jpg``;
``PALM-Training400-Annotation-D&F.zip`` → ``…-D&F/Disc_Masks``;
``PALM-Training400-Annotation-Lession.zip`` (sic) → ``…-Lession/Lesion_Masks``). The zips
themselves are not reproduced: medbench reads extracted folders only.

Traps: ``&`` and the misspelling ``Lession`` in paths; disc masks are INVERTED (0 = disc);
images with no disc have all-255 masks; lesion masks share the image stems.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._files import save_jpeg
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "PALM19"
TRAIN_IMAGES = "PALM-Training400/PALM-Training400"
TRAIN_DISC = "PALM-Training400-Annotation-D&F/Disc_Masks"
TRAIN_ATROPHY = "PALM-Training400-Annotation-Lession/Lesion_Masks/Atrophy"
VALID_IMAGES = "PALM-Validation400"
VALID_DISC = "PALM-Validation-GT/Disc_Masks"
FUNDUS = (180, 70, 35)
DISC = (250, 225, 165)
ATROPHY = (225, 170, 120)
# (image folder, disc-mask folder, id, width, height, disc or None, atrophy or None)
IMAGES = [
    (
        TRAIN_IMAGES,
        TRAIN_DISC,
        "H0001",
        80,
        72,
        Ellipse("optic disc", 56, 34, 10, 11),
        Ellipse("atrophy", 20, 36, 7, 9),
    ),
    (TRAIN_IMAGES, TRAIN_DISC, "P0002", 72, 64, None, None),  # no disc: all-255 mask
    (VALID_IMAGES, VALID_DISC, "V0001", 72, 72, Ellipse("optic disc", 24, 38, 9, 8), None),
]


def _save_bmp(mask: np.ndarray, path: Path) -> None:
    """Inverted iChallenge convention: 0 where the structure is, 255 elsewhere."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.where(mask, 0, 255).astype(np.uint8)).save(path, format="BMP")


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = []
    for images, discs, image_id, width, height, disc, atrophy in IMAGES:
        dx, dy = seeded_shift(seed, image_id)
        blobs = [b for b in (disc, atrophy) if b is not None]
        masks = [
            Ellipse(b.label, b.cx + dx, b.cy + dy, b.rx, b.ry).mask(height, width) for b in blobs
        ]
        if masks:
            check_layout(masks)
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = FUNDUS
        for blob, mask in zip(blobs, masks, strict=True):
            rgb[mask] = DISC if blob is disc else ATROPHY
        save_jpeg(rgb, root / images / f"{image_id}.jpg")
        disc_mask = masks[0] if disc is not None else np.zeros((height, width), dtype=bool)
        _save_bmp(disc_mask, root / discs / f"{image_id}.bmp")
        if atrophy is not None:
            _save_bmp(masks[-1], root / TRAIN_ATROPHY / f"{image_id}.bmp")
        if disc is not None:
            planted.append(
                PlantedStructure(DATASET, image_id, "optic disc", None, None, extent_px(disc_mask))
            )
    return planted
