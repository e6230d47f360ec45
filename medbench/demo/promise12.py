"""PROMISE12 replica (family A, MetaImage: ``TrainingData_Part<n>/CaseNN.mhd`` ↔
``CaseNN_segmentation.mhd`` in the same folder, each with its ``.raw`` data file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medbench.demo.msd_liver import Blob, VolumeCase, case_volumes, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "PROMISE12"
LABEL_IDS = {"prostate": 1}
_LPS = np.diag([-1.0, -1.0, 1.0])
BLOBS = (Blob("prostate", 1, (2.0, -3.0, 0.0), (9.0, 7.0, 8.0), 340),)


def write_mhd(path: Path, data: np.ndarray, affine: np.ndarray, is_label: bool) -> None:
    """(i, j, k) array + RAS affine → ``.mhd`` header and plain ``.raw`` (ITK: LPS, z-y-x)."""
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    img = sitk.GetImageFromArray(np.ascontiguousarray(data.transpose(2, 1, 0)))
    img = sitk.Cast(img, sitk.sitkUInt8 if is_label else sitk.sitkInt16)
    img.SetSpacing(tuple(float(z) for z in zooms))
    img.SetDirection(tuple(float(v) for v in (_LPS @ (affine[:3, :3] / zooms)).ravel()))
    img.SetOrigin(tuple(float(v) for v in _LPS @ affine[:3, 3]))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(img, str(path), False)


def promise_case(part: int, n: int, axcodes: str, background: int) -> VolumeCase:
    folder = f"TrainingData_Part{part}"
    return VolumeCase(
        f"Case{n:02d}_segmentation",
        f"{folder}/Case{n:02d}.mhd",
        f"{folder}/Case{n:02d}_segmentation.mhd",
        axcodes,
        background,
    )


CASES = (promise_case(1, 0, "LPS", 60), promise_case(2, 17, "RAS", 70))


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = write_volume_cases(root, DATASET, CASES, lambda _c: BLOBS, seed, writer=write_mhd)
    test = VolumeCase("Case00", "TestData/Case00.mhd", "", "LPS", 65)
    image, _, affine, _ = case_volumes(test, BLOBS, seed)
    write_mhd(root / test.image, image, affine, False)
    return planted
