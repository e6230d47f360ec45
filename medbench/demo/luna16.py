"""LUNA16 replica (family H spheres: ``subset0/<seriesuid>.mhd`` + ``.raw`` and
``annotations.csv`` with nodule centres in ITK world mm, LPS; lung masks
``seg-lungs-LUNA16/<seriesuid>.mhd`` + ``.zraw`` on the scan's voxel grid).

Each series holds two uniform ellipsoidal lungs and a trachea (superior to them, in slices
of its own) at a non-zero origin, and one uniform spherical nodule inside a lung: on the
patient's right in two series and left in one, anterior of the centre, so a wrong sign of x
or y (LPS vs RAS) or an ignored origin moves the box off the blob. The masks hold 3 = left
lung, 4 = right lung, 5 = trachea (``LABEL_IDS``), the left lung planted on the patient's
left (LPS +x), so a swapped 3/4 puts "left lung" on the image's left half.

Traps: one series' mask is on a coarser grid (half the rows and columns, same world
extent: listed, its nodule still read), one series has no mask file (listed, nodule read),
a series without a CSV row has a mask (read for its lungs only), and a CSV row names a
series of another subset (listed). Lungs that cannot be read are not in the planted truth.
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
# seg-lungs values as SAT reads them (UNVERIFIED on real files, see the spec's notes)
LABEL_IDS = {"left lung": 3, "right lung": 4, "trachea": 5}
SHAPE_ZYX = (16, 96, 96)
SPACING_XYZ = (0.7, 0.7, 2.5)
ORIGIN_LPS = (-33.25, -50.0, -300.0)  # world mm of voxel (0, 0, 0)
NODULE_HU = 60
ORGAN_HU = {"left lung": -880, "right lung": -900, "trachea": -1000}
MASK_DIR = "seg-lungs-LUNA16"
MASKS = ("ok", "coarse grid", "missing")


@dataclass(frozen=True)
class Organ:
    label: str
    centre_lps: tuple[float, float, float]  # world mm, on a voxel centre
    semi_axes: tuple[float, float, float]  # mm along x, y, z
    side: str | None  # the PATIENT's side: LPS x > 0 is the patient's left


ORGANS = (
    # right lung: patient's right, LPS x < 0 (image left half in the radiological view)
    Organ("right lung", (-15.05, -17.1, -282.5), (13.0, 22.0, 12.0), "right"),
    Organ("left lung", (15.75, -16.4, -282.5), (12.0, 20.0, 12.0), "left"),
    Organ("trachea", (0.35, -17.8, -267.5), (3.6, 3.6, 3.6), None),
)


@dataclass(frozen=True)
class Nodule:
    uid: str
    centre_lps: tuple[float, float, float]  # world mm
    diameter: float
    background: int  # HU, unique per series
    side: str  # the PATIENT's side: LPS x < 0 is the patient's right
    mask: str = "ok"  # one of MASKS


NODULES = (
    Nodule(
        "1.3.6.1.4.1.14519.5.2.1.6279.6001.105756658031515062000744821260",
        (-15.3, -25.1, -282.5),
        10.0,
        -700,
        "right",
    ),
    Nodule(
        "1.3.6.1.4.1.14519.5.2.1.6279.6001.108197895896446896160048741492",
        (15.2, -24.4, -283.0),
        9.0,
        -720,
        "left",
        "coarse grid",
    ),
    Nodule(
        "1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860",
        (-13.0, -24.0, -280.0),
        8.0,
        -760,
        "right",
        "missing",
    ),
)
UNANNOTATED = "1.3.6.1.4.1.14519.5.2.1.6279.6001.109002525524522225658609808059"
OTHER_SUBSET = "1.3.6.1.4.1.14519.5.2.1.6279.6001.111172165674661221381920536987"


def _world_lps(shape_zyx=SHAPE_ZYX, spacing_xyz=SPACING_XYZ) -> np.ndarray:
    """World LPS mm of every voxel centre, (z, y, x, 3) (identity direction)."""
    z, y, x = np.meshgrid(*(np.arange(n) for n in shape_zyx), indexing="ij")
    index = np.stack([x, y, z], -1).astype(np.float64)
    return index * np.asarray(spacing_xyz) + np.asarray(ORIGIN_LPS)


def organ_voxels(organ: Organ, world: np.ndarray) -> np.ndarray:
    """The voxels (of a ``_world_lps`` grid) whose centres lie in the organ's ellipsoid."""
    offset = (world - np.asarray(organ.centre_lps)) / np.asarray(organ.semi_axes)
    return (offset**2).sum(-1) <= 1.0


def _write(path: Path, data: np.ndarray, spacing_xyz, compress: bool = False) -> None:
    image = sitk.GetImageFromArray(data)
    image.SetSpacing(spacing_xyz)
    image.SetOrigin(ORIGIN_LPS)
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path), useCompression=compress)


def write_series(path: Path, background: int, nodule: Nodule | None) -> None:
    world = _world_lps()
    data = np.full(SHAPE_ZYX, background, np.int16)
    for organ in ORGANS:
        data[organ_voxels(organ, world)] = ORGAN_HU[organ.label]
    if nodule is not None:
        distance = np.linalg.norm(world - np.asarray(nodule.centre_lps), axis=-1)
        data[distance <= nodule.diameter / 2] = NODULE_HU
    _write(path, data, SPACING_XYZ)


def write_mask(path: Path, coarse: bool = False) -> None:
    """The lung mask, on the scan's grid or (``coarse``) on one with half the rows and
    columns at twice the spacing: the same world extent, another voxel grid."""
    shape, spacing = SHAPE_ZYX, SPACING_XYZ
    if coarse:
        shape = (SHAPE_ZYX[0], SHAPE_ZYX[1] // 2, SHAPE_ZYX[2] // 2)
        spacing = (SPACING_XYZ[0] * 2, SPACING_XYZ[1] * 2, SPACING_XYZ[2])
    world = _world_lps(shape, spacing)
    mask = np.zeros(shape, np.uint8)
    for organ in ORGANS:
        mask[organ_voxels(organ, world)] = LABEL_IDS[organ.label]
    _write(path, mask, spacing, compress=True)  # .zraw


def mask_path(root: Path, uid: str) -> Path:
    return root / MASK_DIR / f"{uid}.mhd"


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    del seed  # fixed geometry: the positions are the point of this replica
    root = Path(dataset_dir)
    planted = []
    for nodule in NODULES:
        write_series(root / "subset0" / f"{nodule.uid}.mhd", nodule.background, nodule)
        extent = (nodule.diameter, nodule.diameter)
        planted.append(PlantedStructure(DATASET, nodule.uid, LABEL, nodule.side, extent, None))
        if nodule.mask != "missing":
            write_mask(mask_path(root, nodule.uid), coarse=nodule.mask == "coarse grid")
    write_series(root / "subset0" / f"{UNANNOTATED}.mhd", -740, None)
    write_mask(mask_path(root, UNANNOTATED))
    for uid in [*(n.uid for n in NODULES if n.mask == "ok"), UNANNOTATED]:
        for organ in ORGANS:
            extent = (2 * organ.semi_axes[0], 2 * organ.semi_axes[1])
            planted.append(PlantedStructure(DATASET, uid, organ.label, organ.side, extent, None))
    rows = [(n.uid, *n.centre_lps, n.diameter) for n in NODULES]
    rows.append((OTHER_SUBSET, 30.0, -20.0, -150.0, 6.0))
    with open(root / "annotations.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"])
        writer.writerows(rows)
    return planted


def source_label(nodule: Nodule) -> str:
    """How the row names the nodule: the CSV line (header = line 1)."""
    return f"annotations.csv:{NODULES.index(nodule) + 2}"
