"""MSD Task01_BrainTumour replica (family A: 4D image in imagesTr/, label in labelsTr/).

The traps: the image is one 4D file whose last axis holds the sequences in dataset.json
order (0 FLAIR, 1 T1w, 2 t1gd, 3 T2w), and the label ids differ from BraTS (1 oedema,
2 non-enhancing tumour, 3 enhancing tumour). The tarball's macOS ``._*`` AppleDouble
files are reproduced beside the real ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import nifti_image, save_json, save_nii_gz
from medbench.demo._geometry import extent_lr_ap_mm, seeded_shift
from medbench.demo._mri_brain import paint_case, tumour_blobs
from medbench.demo.truth import PlantedStructure

DATASET = "MSD-BrainTumor"
TASK = "Task01_BrainTumour"
LABELS = {1: "peritumoral edema", 2: "non-enhancing tumor", 3: "enhancing tumor"}
LABEL_IDS = {name: lid for lid, name in LABELS.items()}
# dataset.json modality index -> replica intensity table (_mri_brain.CHANNEL_VALUES)
MODALITIES = {"FLAIR": "flair", "T1w": "t1", "t1gd": "t1ce", "T2w": "t2"}
# case -> blob slot per label (1, 2, 3)
CASES = {"BRATS_001": (1, 3, 0), "BRATS_002": (0, 2, 3)}
TEST_CASE = "BRATS_485"
SHAPE = (48, 48, 16)
# 1 mm, voxel axes along +R +A +S, origin 0: how the Task01 headers are believed to read
# (UNVERIFIED; the reader reorients either way).
AFFINE = np.eye(4)
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "


def case_arrays(case: str, order: tuple[int, ...], seed: int):
    """(4D float32 image, uint8 label, masks by label id)."""
    blobs = tumour_blobs(AFFINE, SHAPE, LABELS, order, seeded_shift(seed, case))
    channels, seg, masks = paint_case(AFFINE, SHAPE, blobs)
    image = np.stack([channels[c] for c in MODALITIES.values()], axis=-1).astype(np.float32)
    return image, seg, masks


def dataset_json(train: list[str], test: list[str]) -> dict:
    return {
        "name": "BRATS",
        "description": "Gliomas segmentation tumour and oedema in on brain images",
        "reference": "https://www.med.upenn.edu/sbia/brats2017.html",
        "licence": "CC-BY-SA 4.0",
        "release": "2.0 04/05/2018",
        "tensorImageSize": "4D",
        "modality": {str(i): name for i, name in enumerate(MODALITIES)},
        "labels": {
            "0": "background",
            "1": "edema",
            "2": "non-enhancing tumor",
            "3": "enhancing tumour",
        },
        "numTraining": len(train),
        "numTest": len(test),
        "training": [
            {"image": f"./imagesTr/{c}.nii.gz", "label": f"./labelsTr/{c}.nii.gz"} for c in train
        ],
        "test": [f"./imagesTs/{c}.nii.gz" for c in test],
    }


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    task = Path(dataset_dir) / TASK
    planted = []
    for case, order in CASES.items():
        image, seg, masks = case_arrays(case, order, seed)
        save_nii_gz(nifti_image(image, AFFINE, np.float32), task / "imagesTr" / f"{case}.nii.gz")
        save_nii_gz(nifti_image(seg, AFFINE, np.uint8), task / "labelsTr" / f"{case}.nii.gz")
        planted += [
            PlantedStructure(DATASET, case, LABELS[lid], None, extent_lr_ap_mm(m, AFFINE), None)
            for lid, m in masks.items()
        ]
    first = next(iter(CASES))
    for folder in ("imagesTr", "labelsTr"):
        (task / folder / f"._{first}.nii.gz").write_bytes(APPLEDOUBLE)
    image, _, _ = case_arrays(TEST_CASE, (2, 1, 3), seed)
    save_nii_gz(nifti_image(image, AFFINE, np.float32), task / "imagesTs" / f"{TEST_CASE}.nii.gz")
    save_json(dataset_json(list(CASES), [TEST_CASE]), task / "dataset.json")
    return planted
