"""ADAM (iChallenge-AMD, task 2) replica (family G): fundus JPEGs in class folders, flat
``Disc_Masks/<id>.bmp``.

``write(..., zipped=True)`` writes the same data as zips, one per top folder:
``AMD-Training400.zip`` → ``Training400/``, ``DF-Annotation-Training400.zip`` →
``Annotation-DF-Training400/``, ``Training400-Lesion.zip`` → ``Training400-Lesion/`` (zip
names from a third-party script, UNVERIFIED).

Traps: disc masks are INVERTED (0 = optic disc, 255 = background); an image with no
visible disc has an all-255 mask (no structure); lesion masks in another tree share the
image stems (and the polarity) and must not be read as disc masks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._files import save_jpeg
from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.palm19 import folder_members, zip_bytes
from medbench.demo.truth import PlantedStructure

DATASET = "ADAM"
DISC_MASKS = "Annotation-DF-Training400/Training400/Disc_Masks"
LESION_MASKS = "Training400-Lesion/Lesion_Masks/drusen"
ZIPS = {  # zipped form: zip → the top folder it holds
    "AMD-Training400.zip": "Training400",
    "DF-Annotation-Training400.zip": "Annotation-DF-Training400",
    "Training400-Lesion.zip": "Training400-Lesion",
}
FUNDUS = (190, 80, 40)
DISC = (250, 230, 170)  # about 120 grey levels above the fundus
DRUSEN = (215, 190, 60)  # painted in the image too: a second blob the disc box must skip
# (class folder, id, width, height, disc or None, drusen or None)
IMAGES = [
    ("AMD", "A0001", 80, 72, Ellipse("optic disc", 58, 34, 9, 10), Ellipse("drusen", 22, 40, 6, 5)),
    ("Non-AMD", "N0001", 72, 72, Ellipse("optic disc", 20, 36, 8, 9), None),
    ("Non-AMD", "N0002", 72, 72, None, None),  # disc not visible: all-255 mask
]


def _save_bmp(mask: np.ndarray, path: Path) -> None:
    """Inverted iChallenge convention: 0 where the structure is, 255 elsewhere."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.where(mask, 0, 255).astype(np.uint8)).save(path, format="BMP")


def write(dataset_dir: Path, seed: int = 0, zipped: bool = False) -> list[PlantedStructure]:
    """The extracted layout, or with ``zipped`` the zips of the same data."""
    root = Path(dataset_dir)
    if zipped:
        with tempfile.TemporaryDirectory() as tmp:
            planted = write(Path(tmp), seed)
            root.mkdir(parents=True, exist_ok=True)
            for name, folder in ZIPS.items():
                (root / name).write_bytes(zip_bytes(folder_members(Path(tmp), folder, folder)))
        return planted
    planted = []
    for folder, image_id, width, height, disc, drusen in IMAGES:
        dx, dy = seeded_shift(seed, image_id)
        blobs = [b for b in (disc, drusen) if b is not None]
        masks = [
            Ellipse(b.label, b.cx + dx, b.cy + dy, b.rx, b.ry).mask(height, width) for b in blobs
        ]
        if masks:
            check_layout(masks)
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = FUNDUS
        for blob, mask in zip(blobs, masks, strict=True):
            rgb[mask] = DISC if blob is disc else DRUSEN
        save_jpeg(rgb, root / "Training400" / folder / f"{image_id}.jpg")
        disc_mask = masks[0] if disc is not None else np.zeros((height, width), dtype=bool)
        _save_bmp(disc_mask, root / DISC_MASKS / f"{image_id}.bmp")
        if drusen is not None:
            _save_bmp(masks[-1], root / LESION_MASKS / f"{image_id}.bmp")
        if disc is not None:
            planted.append(
                PlantedStructure(DATASET, image_id, "optic disc", None, None, extent_px(disc_mask))
            )
    return planted
