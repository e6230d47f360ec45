"""HVSMR 2016 replica (family A: ``Ground truth/<stem>-label.nii.gz`` ↔
``Training dataset/<stem>.nii.gz``; spaces in both folder names).

Two variants of each training scan ship side by side (``axial_crop`` and ``axial_full``);
the spec reads ``axial_crop`` only, so the full variant here must never become a case.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, VolumeCase, case_volumes, write_nifti, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "HVSMR2016"
LABEL_IDS = {"myocardium": 1, "blood pool": 2}
# MR signal, arbitrary units; every blob brighter than the background and > 0.5 % of the
# voxels, so the 0.5-99.5 percentile window keeps them apart.
BLOBS = (
    Blob("myocardium", 1, (-9.0, 6.0, 0.0), (9.0, 9.0, 8.0), 260),
    Blob("blood pool", 2, (12.0, -9.0, 0.0), (6.0, 6.0, 8.0), 480),
)
IMG, GT = "Training dataset", "Ground truth"


def hvsmr_case(variant: str, n: int, axcodes: str, background: int) -> VolumeCase:
    stem = f"training_{variant}_pat{n}"
    return VolumeCase(
        f"{stem}-label", f"{IMG}/{stem}.nii.gz", f"{GT}/{stem}-label.nii.gz", axcodes, background
    )


CASES = (hvsmr_case("axial_crop", 0, "LPS", 100), hvsmr_case("axial_crop", 3, "RAS", 110))
FULL = tuple(hvsmr_case("axial_full", n, "LPS", 120 + n) for n in (0, 3))
TEST_IMAGE = "Test dataset/testing_axial_crop_pat10.nii.gz"


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = write_volume_cases(root, DATASET, CASES, lambda _c: BLOBS, seed)
    write_volume_cases(root, DATASET, FULL, lambda _c: BLOBS, seed)  # not planted: not read
    image, _, affine, _ = case_volumes(hvsmr_case("axial_crop", 10, "LPS", 95), BLOBS, seed)
    write_nifti(root / TEST_IMAGE, image, affine, False)
    return planted
