"""KiTS19 replica (family B: ``data/case_XXXXX/{imaging,segmentation}.nii.gz``).

The quirk reproduced: the voxel array is stored as ``(slices, rows, columns)``, so the FIRST
array axis is the axial one (axis 0 runs inferior, axis 1 posterior, axis 2 to the patient's
left), while the affine is the one the kits19 README describes, ``diag(slice thickness,
pixel width, pixel width)``. That affine claims axis 0 runs to the patient's right, so
canonical reorientation would slice along axis 2 and show a sagittal-like plane whose
columns are the slice axis. The spec keeps the file axes and slices axis 0 instead.
The planted extents come from the TRUE geometry, not the shipped affine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import save_json
from medbench.demo.msd_liver import Blob, VolumeCase, case_volumes, write_nifti, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "KiTS2019"
LABEL_IDS = {"kidney": 1, "kidney tumor": 2}
KITS_SHAPE = (16, 64, 64)  # (slices, rows, columns)
KITS_SPACING = (2.5, 0.8, 0.8)
TRUE_AXCODES = "IPL"  # what the voxel axes really point to
# Both kidneys and the tumour are long in z (18 mm) and small in-plane (8-10 mm): sliced in
# the wrong plane they show up as long boxes.
BLOBS = (
    Blob("kidney", 1, (14.0, -10.0, 0.0), (4.5, 5.0, 9.0), 180, "right"),
    Blob("kidney", 1, (-14.0, -10.0, 0.0), (4.5, 5.0, 9.0), 180, "left"),
    Blob("kidney tumor", 2, (12.0, 11.0, 0.0), (4.0, 4.0, 9.0), 90, "right"),
)


def kits_case(n: int, background: int, label: str = "segmentation.nii.gz") -> VolumeCase:
    folder = f"data/case_{n:05d}"
    return VolumeCase(
        f"case_{n:05d}",
        f"{folder}/imaging.nii.gz",
        f"{folder}/{label}",
        TRUE_AXCODES,
        background,
        KITS_SHAPE,
        KITS_SPACING,
    )


CASES = (kits_case(0, -40), kits_case(7, -48))
UNLABELLED = kits_case(210, -44)  # case_00210..00299 ship imaging only


def readme_affine(case: VolumeCase, _true: np.ndarray) -> np.ndarray:
    """The affine the kits19 README describes: diag(slice thickness, pixel width, pixel width)."""
    return np.diag([*case.spacing, 1.0])


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = write_volume_cases(
        root, DATASET, CASES, lambda _c: BLOBS, seed, shipped_affine=readme_affine
    )
    image, _, _, _ = case_volumes(UNLABELLED, BLOBS, seed)
    write_nifti(root / UNLABELLED.image, image, readme_affine(UNLABELLED, np.eye(4)), False)
    cases = [{"case_id": c.case_key} for c in (*CASES, UNLABELLED)]
    save_json(cases, root / "data" / "kits.json")
    return planted
