"""BraTS 2021 replica (family B: per-case folder, fixed member names ``<case>_<chan>``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import nifti_image, save_nii_gz
from medbench.demo._geometry import extent_lr_ap_mm, seeded_shift
from medbench.demo._mri_brain import paint_case, tumour_blobs
from medbench.demo.truth import PlantedStructure

DATASET = "BraTS2021"
ROOT = "RSNA_ASNR_MICCAI_BraTS2021_TrainingData"
LABELS = {1: "necrotic tumor core", 2: "peritumoral edema", 4: "enhancing tumor"}  # no 3
SHAPE = (48, 48, 16)
# Real BraTS 2021 headers: 1 mm, x and y flipped (LPS storage), origin at (0, 239, 0) for
# 240 voxels; scaled down here to 48 voxels.
AFFINE = np.array([[-1.0, 0, 0, 0], [0, -1.0, 0, SHAPE[1] - 1.0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]])
CASES = {"BraTS2021_00000": (0, 1, 2), "BraTS2021_00002": (3, 0, 1), "BraTS2021_01666": (1, 2, 3)}


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = []
    for case, order in CASES.items():
        blobs = tumour_blobs(AFFINE, SHAPE, LABELS, order, seeded_shift(seed, case))
        channels, seg, masks = paint_case(AFFINE, SHAPE, blobs)
        folder = Path(dataset_dir) / ROOT / case
        for name, data in channels.items():
            save_nii_gz(nifti_image(data, AFFINE, np.int16), folder / f"{case}_{name}.nii.gz")
        save_nii_gz(nifti_image(seg, AFFINE, np.uint8), folder / f"{case}_seg.nii.gz")
        planted += [
            PlantedStructure(DATASET, case, LABELS[lid], None, extent_lr_ap_mm(m, AFFINE), None)
            for lid, m in masks.items()
        ]
    return planted
