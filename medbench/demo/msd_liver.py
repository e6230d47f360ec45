"""MSD Task03_Liver replica (family A: same file name in imagesTr/ and labelsTr/).

Also holds the generic blob-volume writer shared by the replicas of
``medbench.builders.vgmed.sources.more_volumes`` (MSD-Pancreas, KiTS, CT-ORG, ATM2022,
HVSMR2016, PROMISE12): every structure is one or more uniform ellipsoids placed in RAS mm
around the grid centre, on a uniform background unique to each case (medbench drops
cases whose voxels equal another case's). RAS: patient right = +x, anterior = +y.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medbench.demo._files import nifti_image, save_json, save_nii_gz
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
# Written next to real files by macOS archivers; 4-byte AppleDouble magic + padding.
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"Mac OS X        " + b"\x00" * 58


@dataclass(frozen=True)
class Blob:
    """One uniform ellipsoid carrying a raw label id; several blobs may share a name."""

    name: str  # medbench name
    raw_id: int
    center: tuple[float, float, float]  # RAS mm relative to the grid centre
    radii: tuple[float, float, float]  # mm along R, A, S
    value: int  # uniform image value (HU for CT)
    side: str | None = None  # the PATIENT's side


@dataclass(frozen=True)
class VolumeCase:
    case_key: str  # the case id medbench derives
    image: str  # paths relative to the dataset folder
    label: str
    axcodes: str  # where each stored voxel axis points (nibabel codes)
    background: int  # uniform, unique per case
    shape: tuple[int, int, int] = SHAPE
    spacing: tuple[float, float, float] = SPACING


# (path, data, affine, is_label) → writes one volume file
Writer = Callable[[Path, np.ndarray, np.ndarray, bool], None]


def write_nifti(path: Path, data: np.ndarray, affine: np.ndarray, is_label: bool) -> None:
    dtype = np.uint8 if is_label else np.int16
    save_nii_gz(nifti_image(data, affine, dtype), path)


def case_volumes(
    case: VolumeCase, blobs: tuple[Blob, ...], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(image, label map, true affine, name → mask) of one case."""
    affine = make_affine(case.axcodes, case.spacing, case.shape)
    dx, dy = seeded_shift(seed, case.case_key, high=1)
    masks = []
    for blob in blobs:
        centre = (blob.center[0] - dx, blob.center[1] + dy, blob.center[2])
        masks.append(Ellipsoid(blob.name, centre, blob.radii, blob.side).mask(affine, case.shape))
    check_layout(masks)
    image = paint(
        case.shape, case.background, [(m, b.value) for m, b in zip(masks, blobs, strict=True)]
    )
    label = np.zeros(case.shape, np.uint8)
    by_name: dict[str, np.ndarray] = {}
    for mask, blob in zip(masks, blobs, strict=True):
        label[mask] = blob.raw_id
        by_name[blob.name] = by_name.get(blob.name, np.zeros(case.shape, bool)) | mask
    return image, label, affine, by_name


def side_of(blobs: tuple[Blob, ...], name: str) -> str | None:
    sides = {b.side for b in blobs if b.name == name}
    return sides.pop() if len(sides) == 1 else None


def write_volume_cases(
    dataset_dir: Path,
    dataset: str,
    cases: tuple[VolumeCase, ...],
    blobs_for: Callable[[VolumeCase], tuple[Blob, ...]],
    seed: int,
    writer: Writer = write_nifti,
    shipped_affine: Callable[[VolumeCase, np.ndarray], np.ndarray] | None = None,
) -> list[PlantedStructure]:
    """Write each case's image and label; return what was planted (extents from the TRUE
    geometry, even where ``shipped_affine`` writes another affine into the files)."""
    planted = []
    for case in cases:
        blobs = blobs_for(case)
        image, label, affine, masks = case_volumes(case, blobs, seed)
        on_disk = shipped_affine(case, affine) if shipped_affine else affine
        writer(Path(dataset_dir) / case.image, image, on_disk, False)
        writer(Path(dataset_dir) / case.label, label, on_disk, True)
        for name, mask in masks.items():
            extent = extent_lr_ap_mm(mask, affine)
            side = side_of(blobs, name)
            planted.append(PlantedStructure(dataset, case.case_key, name, side, extent, None))
    return planted


def write_appledouble(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(APPLEDOUBLE)


def msd_dataset_json(name: str, labels: dict[int, str], train: list[str], test: list[str]):
    return {
        "name": name,
        "tensorImageSize": "3D",
        "modality": {"0": "CT"},
        "labels": {"0": "background", **{str(k): v for k, v in labels.items()}},
        "numTraining": len(train),
        "numTest": len(test),
        "training": [
            {"image": f"./imagesTr/{c}.nii.gz", "label": f"./labelsTr/{c}.nii.gz"} for c in train
        ],
        "test": [f"./imagesTs/{c}.nii.gz" for c in test],
    }


def write_msd_task(
    dataset_dir: Path,
    dataset: str,
    task: str,
    cases: tuple[VolumeCase, ...],
    blobs: tuple[Blob, ...],
    raw_names: dict[int, str],
    test_case: VolumeCase,
    seed: int,
) -> list[PlantedStructure]:
    """An MSD task folder: imagesTr/labelsTr pairs, an imagesTs image, dataset.json and
    AppleDouble ``._<case>.nii.gz`` junk next to the first case in both folders."""
    root = Path(dataset_dir)
    planted = write_volume_cases(root, dataset, cases, lambda _c: blobs, seed)
    image, _, affine, _ = case_volumes(test_case, blobs, seed)
    write_nifti(root / test_case.image, image, affine, False)
    first = Path(cases[0].image).name
    for folder in ("imagesTr", "labelsTr"):
        write_appledouble(root / task / folder / f"._{first}")
    train = [c.case_key for c in cases]
    test = [test_case.case_key]
    meta = msd_dataset_json(task.split("_", 1)[1], raw_names, train, test)
    save_json(meta, root / task / "dataset.json")
    return planted


# ----------------------------------------------------------------------------- MSD-Liver

DATASET = "MSD-Liver"
TASK = "Task03_Liver"
LABEL_IDS = {"liver": 1, "liver tumor": 2}
BLOBS = (
    Blob("liver", 1, (12.0, 8.0, 0.0), (8.0, 7.0, 9.0), 60, "right"),
    # a lesion kept apart from the liver blob: uniform blobs must not touch
    Blob("liver tumor", 2, (-11.0, -10.0, 0.0), (4.0, 4.0, 5.0), 150),
)
CASES = tuple(
    VolumeCase(k, f"{TASK}/imagesTr/{k}.nii.gz", f"{TASK}/labelsTr/{k}.nii.gz", ax, bg)
    for k, ax, bg in (("liver_0", "LPS", -30), ("liver_17", "RAS", -35))
)
TEST_CASE = VolumeCase("liver_132", f"{TASK}/imagesTs/liver_132.nii.gz", "", "LPS", -38)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    return write_msd_task(
        dataset_dir, DATASET, TASK, CASES, BLOBS, {1: "liver", 2: "cancer"}, TEST_CASE, seed
    )
