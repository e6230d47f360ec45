"""ISLES 2015 SISS replica (family C: VSD folders with a numeric suffix, ``.nii`` members).

``SISS2015_Training/<n>/VSD.Brain.XX.O.MR_{DWI,Flair,T1,T2}.<id>/<same>.nii`` plus
``VSD.Brain.XX.O.OT.<id>/<same>.nii``, one binary label (1 = ischemic stroke lesion).
Written through ITK as the originals were, so the NIfTI affine is ITK's LPS flipped to
RAS (x and y negative).
"""

from __future__ import annotations

from pathlib import Path

import SimpleITK as sitk

from medbench.demo._geometry import extent_lr_ap_mm, seeded_shift
from medbench.demo._mri_brain import paint_case, tumour_blobs
from medbench.demo.brats2015 import ras_affine, write_mha
from medbench.demo.truth import PlantedStructure

DATASET = "ISLES"
ROOT = "SISS2015_Training"
LABELS = {1: "ischemic stroke lesion"}
LABEL_IDS = {name: lid for lid, name in LABELS.items()}
# sequence token -> replica intensity table (_mri_brain.CHANNEL_VALUES); DWI borrows t1ce's
SEQUENCES = {"MR_DWI": "t1ce", "MR_Flair": "flair", "MR_T1": "t1", "MR_T2": "t2"}
SHAPE = (48, 48, 16)
# case folder -> (lesion slot, first SMIR object id, ITK origin in LPS mm)
CASES = {"1": (1, 70613, (0.0, 0.0, 0.0)), "12": (2, 70703, (-23.5, -23.5, -7.5))}


def case_key(number: str) -> str:
    return f"{ROOT}/{number}"


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = []
    for number, (slot, first_id, origin) in CASES.items():
        affine = ras_affine(origin)
        key = case_key(number)
        blobs = tumour_blobs(affine, SHAPE, LABELS, (slot,), seeded_shift(seed, key))
        channels, seg, masks = paint_case(affine, SHAPE, blobs)
        case_dir = Path(dataset_dir) / key
        for n, (token, chan) in enumerate(SEQUENCES.items()):
            name = f"VSD.Brain.XX.O.{token}.{first_id + seed + n}"
            write_mha(channels[chan], affine, sitk.sitkInt16, case_dir / name / f"{name}.nii")
        name = f"VSD.Brain.XX.O.OT.{first_id + seed + 5}"
        write_mha(seg, affine, sitk.sitkUInt8, case_dir / name / f"{name}.nii")
        planted += [
            PlantedStructure(DATASET, key, LABELS[lid], None, extent_lr_ap_mm(m, affine), None)
            for lid, m in masks.items()
        ]
    return planted
