"""MSD Task09_Spleen replica (family A: same file name in imagesTr/ and labelsTr/)."""

from __future__ import annotations

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

DATASET = "MSD-Spleen"
TASK = "Task09_Spleen"
BACKGROUND_HU = 0


@dataclass(frozen=True)
class CaseSpec:
    case_id: str
    axcodes: str  # where each stored voxel axis points (nibabel codes)
    spacing: tuple[float, float, float]  # per stored voxel axis, mm
    shape: tuple[int, int, int]
    spleen_hu: int


# Three storage conventions on purpose: MSD's usual negative x/y diagonal, a permuted
# axis order (axis 0 along inferior) and anisotropic in-plane spacing.
CASES = (
    CaseSpec("spleen_2", "LPS", (0.8, 0.8, 5.0), (64, 64, 16), 80),
    CaseSpec("spleen_6", "IAR", (5.0, 0.8, 0.8), (16, 64, 64), 160),
    CaseSpec("spleen_10", "LPS", (0.7, 1.1, 5.0), (72, 48, 16), 80),
)
TEST_CASE = CaseSpec("spleen_1", "LPS", (0.8, 0.8, 5.0), (64, 64, 16), 80)


def spleen_blob(seed: int, case_id: str) -> Ellipsoid:
    # Patient left = negative RAS x; a seed-dependent 0-2 mm shift keeps seeds distinct.
    dx, dy = seeded_shift(seed, case_id)
    return Ellipsoid("spleen", (-9.0 - dx, -4.0 + dy, 0.0), (8.0, 10.0, 22.0), side="left")


def case_arrays(spec: CaseSpec, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image int16 HU, label uint8, affine) of one case."""
    affine = make_affine(spec.axcodes, spec.spacing, spec.shape)
    mask = spleen_blob(seed, spec.case_id).mask(affine, spec.shape)
    check_layout([mask])
    image = paint(spec.shape, BACKGROUND_HU, [(mask, spec.spleen_hu)]).astype(np.int16)
    return image, mask.astype(np.uint8), affine


def dataset_json(train_ids: list[str], test_ids: list[str]) -> dict:
    return {
        "name": "Spleen",
        "description": "Spleen Segmentation",
        "reference": "Memorial Sloan Kettering Cancer Center",
        "licence": "CC-BY-SA 4.0",
        "release": "1.0 06/08/2018",
        "tensorImageSize": "3D",
        "modality": {"0": "CT"},
        "labels": {"0": "background", "1": "spleen"},
        "numTraining": len(train_ids),
        "numTest": len(test_ids),
        "training": [
            {"image": f"./imagesTr/{c}.nii.gz", "label": f"./labelsTr/{c}.nii.gz"}
            for c in train_ids
        ],
        "test": [f"./imagesTs/{c}.nii.gz" for c in test_ids],
    }


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    task = Path(dataset_dir) / TASK
    planted = []
    for spec in CASES:
        image, label, affine = case_arrays(spec, seed)
        save_nii_gz(
            nifti_image(image, affine, np.int16), task / "imagesTr" / f"{spec.case_id}.nii.gz"
        )
        save_nii_gz(
            nifti_image(label, affine, np.uint8), task / "labelsTr" / f"{spec.case_id}.nii.gz"
        )
        planted.append(
            PlantedStructure(
                DATASET, spec.case_id, "spleen", "left", extent_lr_ap_mm(label > 0, affine), None
            )
        )
    image, _, affine = case_arrays(TEST_CASE, seed)
    save_nii_gz(
        nifti_image(image, affine, np.int16), task / "imagesTs" / f"{TEST_CASE.case_id}.nii.gz"
    )
    save_json(dataset_json([c.case_id for c in CASES], [TEST_CASE.case_id]), task / "dataset.json")
    return planted
