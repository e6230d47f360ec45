"""LUNA16 replica (family H spheres: ``subset0/<seriesuid>.mhd`` + ``.raw`` and
``annotations.csv`` with nodule centres in ITK world mm, LPS).

Each series holds one uniform spherical nodule at a non-zero origin, on the patient's
right in one case and left in the other, anterior of the centre, so a wrong sign of x or y
(LPS vs RAS) or an ignored origin moves the box off the blob. A series without a row and
a row without a series (another subset) are listed, not read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medbench.demo.truth import PlantedStructure

DATASET = "LUNA16"
LABEL = "lung nodule"
SHAPE_ZYX = (16, 64, 64)
SPACING_XYZ = (0.7, 0.7, 2.5)
ORIGIN_LPS = (-22.05, -40.0, -300.0)  # world mm of voxel (0, 0, 0)
NODULE_HU = 60


@dataclass(frozen=True)
class Nodule:
    uid: str
    centre_lps: tuple[float, float, float]  # world mm
    diameter: float
    background: int  # HU, unique per series
    side: str  # the PATIENT's side: LPS x < 0 is the patient's right


NODULES = (
    Nodule(
        "1.3.6.1.4.1.14519.5.2.1.6279.6001.105756658031515062000744821260",
        (-12.3, -27.1, -282.5),
        10.0,
        -700,
        "right",
    ),
    Nodule(
        "1.3.6.1.4.1.14519.5.2.1.6279.6001.108197895896446896160048741492",
        (11.2, -26.4, -283.0),
        9.0,
        -720,
        "left",
    ),
)
UNANNOTATED = "1.3.6.1.4.1.14519.5.2.1.6279.6001.109002525524522225658609808059"
OTHER_SUBSET = "1.3.6.1.4.1.14519.5.2.1.6279.6001.111172165674661221381920536987"


def _world_lps() -> np.ndarray:
    """World LPS mm of every voxel centre, (z, y, x, 3) (identity direction)."""
    z, y, x = np.meshgrid(*(np.arange(n) for n in SHAPE_ZYX), indexing="ij")
    index = np.stack([x, y, z], -1).astype(np.float64)
    return index * np.asarray(SPACING_XYZ) + np.asarray(ORIGIN_LPS)


def write_series(path: Path, background: int, nodule: Nodule | None) -> None:
    data = np.full(SHAPE_ZYX, background, np.int16)
    if nodule is not None:
        distance = np.linalg.norm(_world_lps() - np.asarray(nodule.centre_lps), axis=-1)
        data[distance <= nodule.diameter / 2] = NODULE_HU
    image = sitk.GetImageFromArray(data)
    image.SetSpacing(SPACING_XYZ)
    image.SetOrigin(ORIGIN_LPS)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    del seed  # fixed geometry: the nodule positions are the point of this replica
    root = Path(dataset_dir)
    for nodule in NODULES:
        write_series(root / "subset0" / f"{nodule.uid}.mhd", nodule.background, nodule)
    write_series(root / "subset0" / f"{UNANNOTATED}.mhd", -740, None)
    rows = [(n.uid, *n.centre_lps, n.diameter) for n in NODULES]
    rows.append((OTHER_SUBSET, 30.0, -20.0, -150.0, 6.0))
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "annotations.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"])
        writer.writerows(rows)
    return [
        PlantedStructure(DATASET, n.uid, LABEL, n.side, (n.diameter, n.diameter), None)
        for n in NODULES
    ]


def source_label(nodule: Nodule) -> str:
    """How the row names the nodule: the CSV line (header = line 1)."""
    return f"annotations.csv:{NODULES.index(nodule) + 2}"
