"""KiTS21 replica (family B: ``dataset/case_XXXXX/{imaging,aggregated_MAJ_seg}.nii.gz``).

Axis order as ASSUMED for KiTS21 (UNVERIFIED, research/dataset-layouts.md §4): the KiTS19
convention, voxel array ``(slices, rows, columns)``, here with the corrected affine that
later kits19 downloads carry (axis 0 → inferior, 1 → posterior, 2 → patient left). The
other aggregations (``aggregated_AND_seg``, ``aggregated_OR_seg``) are written too and must
not be read: OR has a larger tumour.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.kits2019 import KITS_SHAPE, KITS_SPACING, TRUE_AXCODES
from medbench.demo.msd_liver import Blob, VolumeCase, case_volumes, write_nifti, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "KiTS2021"
LABEL_IDS = {"kidney": 1, "kidney tumor": 2, "kidney cyst": 3}
BLOBS = (
    Blob("kidney", 1, (14.0, -11.0, 0.0), (4.5, 5.0, 9.0), 170, "right"),
    Blob("kidney", 1, (-14.0, -11.0, 0.0), (4.5, 5.0, 9.0), 170, "left"),
    Blob("kidney tumor", 2, (-12.0, 11.0, 0.0), (4.0, 4.5, 7.0), 80, "left"),
    Blob("kidney cyst", 3, (10.0, 11.0, 0.0), (3.5, 3.5, 5.0), 5, "right"),
)
OR_BLOBS = (*BLOBS[:2], Blob("kidney tumor", 2, (-12.0, 11.0, 0.0), (6.0, 6.5, 8.0), 80), BLOBS[3])


def kits21_case(n: int, background: int, label: str = "aggregated_MAJ_seg.nii.gz") -> VolumeCase:
    folder = f"dataset/case_{n:05d}"
    return VolumeCase(
        f"case_{n:05d}",
        f"{folder}/imaging.nii.gz",
        f"{folder}/{label}",
        TRUE_AXCODES,
        background,
        KITS_SHAPE,
        KITS_SPACING,
    )


CASES = (kits21_case(3, -52), kits21_case(11, -57))


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = write_volume_cases(root, DATASET, CASES, lambda _c: BLOBS, seed)
    for case in CASES:
        _, label, affine, _ = case_volumes(case, BLOBS, seed)
        folder = Path(case.label).parent
        write_nifti(root / folder / "aggregated_AND_seg.nii.gz", label, affine, True)
        _, wider, _, _ = case_volumes(case, OR_BLOBS, seed)
        write_nifti(root / folder / "aggregated_OR_seg.nii.gz", wider, affine, True)
    return planted
