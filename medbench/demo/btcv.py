"""BTCV (Synapse "Abdomen") replica, family A: ``label/labelNNNN`` ↔ ``img/imgNNNN``.

Also holds the abdominal layout shared by the multi-organ CT replicas (WORD, FLARE21/22,
AbdomenCT-1K, AMOS): every organ is a uniform ellipsoid at a fixed place in RAS mm, and each
dataset writes the raw label ids its own label map uses. RAS: patient right = +x.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medbench.demo._files import nifti_image, save_nii_gz
from medbench.demo._geometry import (
    Ellipsoid,
    check_layout,
    extent_lr_ap_mm,
    make_affine,
    paint,
    seeded_shift,
)
from medbench.demo.truth import PlantedStructure

SHAPE = (64, 64, 16)
SPACING = (0.8, 0.8, 2.5)  # mm per stored axis (the in-plane axes come first)


@dataclass(frozen=True)
class Organ:
    side: str | None  # the PATIENT's side
    center: tuple[float, float]  # RAS mm (x, y); z is the grid centre
    radii: tuple[float, float, float]  # mm along R, A, S
    hu: int  # uniform value, inside the -160..240 abdomen window


# Blob keys (medbench names of single organs) → where they sit. >= 4 voxels apart.
ORGANS = {
    "liver": Organ("right", (14.0, 11.0), (6.5, 6.0, 9.0), 60),
    "spleen": Organ("left", (-15.0, 10.0), (5.0, 5.0, 8.0), 140),
    "right kidney": Organ("right", (14.0, -12.0), (5.0, 5.0, 8.0), 220),
    "left kidney": Organ("left", (-14.0, -12.0), (5.0, 5.5, 8.0), 180),
    "aorta": Organ(None, (0.0, -9.0), (3.0, 3.0, 10.0), 100),
    "pancreas": Organ(None, (0.0, 6.0), (3.5, 3.0, 6.0), -100),
}


@dataclass(frozen=True)
class Structure:
    """One raw label id of a dataset: its medbench name and the blobs that carry it."""

    name: str
    raw_id: int
    blobs: tuple[str, ...]

    @property
    def side(self) -> str | None:
        sides = {ORGANS[b].side for b in self.blobs}
        return sides.pop() if len(self.blobs) == 1 else None


def structures(ids: dict[str, int]) -> tuple[Structure, ...]:
    """Single-blob structures from ``name → raw id`` (the name is also the blob key)."""
    return tuple(Structure(name, raw, (name,)) for name, raw in ids.items())


@dataclass(frozen=True)
class PairedCase:
    case_key: str  # the case id medbench derives (label file name without suffix)
    image: str  # paths relative to the dataset folder
    label: str
    axcodes: str  # where each stored voxel axis points (nibabel codes)
    # uniform background, unique per case: medbench drops cases whose voxels equal
    # another case's (cross-dataset deduplication), so no two replicas may share an image
    background_hu: int


def case_volumes(
    case: PairedCase, items: tuple[Structure, ...], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(image HU int16, label map uint8, affine, name → mask) of one abdominal case."""
    affine = make_affine(case.axcodes, SPACING, SHAPE)
    dx, dy = seeded_shift(seed, case.case_key, high=1)
    blobs = {}
    for item in items:
        for key in item.blobs:
            organ = ORGANS[key]
            centre = (organ.center[0] - dx, organ.center[1] + dy, 0.0)
            blobs[key] = Ellipsoid(key, centre, organ.radii, organ.side).mask(affine, SHAPE)
    check_layout(list(blobs.values()))
    image = paint(SHAPE, case.background_hu, [(m, ORGANS[k].hu) for k, m in blobs.items()])
    label = np.zeros(SHAPE, np.uint8)
    masks = {}
    for item in items:
        mask = np.logical_or.reduce([blobs[b] for b in item.blobs])
        label[mask] = item.raw_id
        masks[item.name] = mask
    return image.astype(np.int16), label, affine, masks


def write_cases(
    dataset_dir: Path,
    dataset: str,
    cases: tuple[PairedCase, ...],
    items: tuple[Structure, ...],
    seed: int,
) -> list[PlantedStructure]:
    """Write each case's image and label map; return what was planted."""
    by_name = {item.name: item for item in items}
    planted = []
    for case in cases:
        image, label, affine, masks = case_volumes(case, items, seed)
        save_nii_gz(nifti_image(image, affine, np.int16), Path(dataset_dir) / case.image)
        save_nii_gz(nifti_image(label, affine, np.uint8), Path(dataset_dir) / case.label)
        for name, mask in masks.items():
            extent = extent_lr_ap_mm(mask, affine)
            side = by_name[name].side
            planted.append(PlantedStructure(dataset, case.case_key, name, side, extent, None))
    return planted


def write_image_only(dataset_dir: Path, path: str, seed: int) -> None:
    """An unlabelled image (test/validation split) the converter must not pair."""
    case = PairedCase(path, path, "", "LPS", background_hu=-60)
    image, _, affine, _ = case_volumes(case, structures({"liver": 1}), seed)
    save_nii_gz(nifti_image(image, affine, np.int16), Path(dataset_dir) / path)


# ----------------------------------------------------------------------------- BTCV

DATASET = "BTCV"
# BTCV ids: 2 = RIGHT kidney, 3 = LEFT kidney (WORD has the opposite).
LABEL_IDS = {
    "spleen": 1,
    "right kidney": 2,
    "left kidney": 3,
    "liver": 6,
    "aorta": 8,
    "pancreas": 11,
}
CASES = tuple(
    PairedCase(
        f"label{n}",
        f"RawData/Training/img/img{n}.nii.gz",
        f"RawData/Training/label/label{n}.nii.gz",
        axcodes,
        background,
    )
    for n, axcodes, background in (("0001", "LPS", -20), ("0022", "RAS", -25))
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = write_cases(dataset_dir, DATASET, CASES, structures(LABEL_IDS), seed)
    write_image_only(dataset_dir, "RawData/Testing/img/img0061.nii.gz", seed)
    return planted
