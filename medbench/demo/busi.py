"""BUSI replica (family G): ``Dataset_BUSI_with_GT/<class>/<class> (n).png`` + ``_mask*.png``.

Traps: names with spaces and parentheses; masks in the same folder as the images (so an
image glob must not match them); ``benign (4)`` has two lesions in ``_mask.png`` and
``_mask_1.png`` (instances, OR'd into one structure); masks saved as L, RGB and RGBA;
the ``normal`` class has all-zero masks (no structure).

``write`` returns one structure per image with the extent of ALL its lesions (the default
union box); each lesion's own extent is in its mask file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "BUSI"
ROOT = "Dataset_BUSI_with_GT"
TISSUE = 130
LESION = 40  # hypoechoic: darker than the tissue
# (class, n, width, height, lesions, mask mode per lesion file)
IMAGES = [
    (
        "benign",
        4,
        88,
        64,
        [Ellipse("breast tumor", 22, 24, 12, 9), Ellipse("breast tumor", 64, 40, 10, 12)],
        ["L", "RGBA"],
    ),
    ("malignant", 1, 72, 60, [Ellipse("breast tumor", 36, 30, 17, 13)], ["RGB"]),
    ("normal", 1, 64, 56, [], ["L"]),
]


def _save_mask(mask: np.ndarray, mode: str, path: Path) -> None:
    grey = mask.astype(np.uint8) * 255
    if mode == "L":
        pixels = grey
    else:
        channels = [grey] * 3 + ([np.full_like(grey, 255)] if mode == "RGBA" else [])
        pixels = np.stack(channels, axis=-1)
    Image.fromarray(pixels, mode=mode).save(path, format="PNG")


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir) / ROOT
    planted = []
    for cls, n, width, height, lesions, modes in IMAGES:
        stem = f"{cls} ({n})"
        folder = root / cls
        folder.mkdir(parents=True, exist_ok=True)
        dx, dy = seeded_shift(seed, stem)
        masks = [
            Ellipse(b.label, b.cx + dx, b.cy + dy, b.rx, b.ry).mask(height, width) for b in lesions
        ]
        if masks:
            check_layout(masks)
        else:
            masks = [np.zeros((height, width), dtype=bool)]  # normal: an empty mask file
        grey = np.full((height, width), TISSUE, dtype=np.uint8)
        for mask in masks:
            grey[mask] = LESION
        Image.fromarray(np.stack([grey] * 3, axis=-1)).save(folder / f"{stem}.png", format="PNG")
        for i, (mask, mode) in enumerate(zip(masks, modes, strict=True)):
            suffix = "_mask" if i == 0 else f"_mask_{i}"
            _save_mask(mask, mode, folder / f"{stem}{suffix}.png")
        union = np.logical_or.reduce(masks)
        if union.any():
            planted.append(
                PlantedStructure(DATASET, stem, "breast tumor", None, None, extent_px(union))
            )
    return planted
