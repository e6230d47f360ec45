"""CVC-ClinicDB replica (family G): ``Original/<n>.tif`` ↔ ``Ground Truth/<n>.tif``.

Traps: the mask folder name has a space; masks are 3-channel (RGB) TIFFs with 0/255.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from medbench.demo._geometry import Ellipse, check_layout, extent_px, seeded_shift
from medbench.demo.truth import PlantedStructure

DATASET = "CVC-ClinicDB"
MUCOSA = (190, 80, 70)
POLYP = (245, 200, 170)
# frame number -> (width, height, polyp)
IMAGES = {
    "1": (76, 58, Ellipse("polyp", 36, 28, 16, 12)),
    "2": (76, 58, Ellipse("polyp", 38, 29, 17, 12)),  # the next frame of the same sequence
    "25": (76, 58, Ellipse("polyp", 24, 20, 9, 10)),
}


def _save_tif(pixels: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels.astype(np.uint8))).save(path, format="TIFF")


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = []
    for frame, (width, height, blob) in IMAGES.items():
        dx, dy = seeded_shift(seed, frame)
        mask = Ellipse(blob.label, blob.cx + dx, blob.cy + dy, blob.rx, blob.ry).mask(height, width)
        check_layout([mask])
        rgb = np.empty((height, width, 3), dtype=np.uint8)
        rgb[...] = MUCOSA
        rgb[mask] = POLYP
        _save_tif(rgb, root / "Original" / f"{frame}.tif")
        mask_rgb = np.repeat(mask[..., np.newaxis].astype(np.uint8) * 255, 3, axis=2)
        _save_tif(mask_rgb, root / "Ground Truth" / f"{frame}.tif")
        planted.append(PlantedStructure(DATASET, frame, "polyp", None, None, extent_px(mask)))
    return planted
