"""BRATS 2013 replica (family C: VSD ``.mha`` files, one sub-folder per image).

Unlike 2015 the sequence folders have no numeric suffix
(``VSD.Brain.XX.O.MR_Flair/VSD.Brain.XX.O.MR_Flair.684.mha``); only the file names do.
Case numbers restart per grade (``HG/0001`` and ``LG/0001`` are two patients), and the
ground truth is ``VSD.Brain_3more.XX.XX.OT`` (HG) or ``VSD.Brain_2more.XX.XX.OT`` (LG).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import SimpleITK as sitk

from medbench.demo._geometry import extent_lr_ap_mm, seeded_shift
from medbench.demo._mri_brain import paint_case, tumour_blobs
from medbench.demo.brats2015 import ras_affine, write_mha
from medbench.demo.truth import PlantedStructure

DATASET = "BraTS2013"
ROOT = "BRATS-2/Image_Data"
LABELS = {1: "necrosis", 2: "edema", 3: "non-enhancing tumor", 4: "enhancing tumor"}
LABEL_IDS = {name: lid for lid, name in LABELS.items()}
SEQUENCES = {"MR_Flair": "flair", "MR_T1": "t1", "MR_T1c": "t1ce", "MR_T2": "t2"}
SHAPE = (48, 48, 16)


@dataclass(frozen=True)
class CaseSpec:
    grade: str  # HG / LG
    number: str  # restarts at 0001 in each grade
    ot_prefix: str
    label_ids: tuple[int, ...]
    order: tuple[int, ...]
    first_id: int  # SMIR object id of the first sequence file; never hard-code them
    ot_id: int

    @property
    def case_key(self) -> str:
        return f"{ROOT}/{self.grade}/{self.number}"


CASES = (
    CaseSpec("HG", "0001", "VSD.Brain_3more", (1, 2, 3, 4), (1, 3, 0, 2), 684, 6560),
    CaseSpec("LG", "0001", "VSD.Brain_2more", (2, 3), (0, 3), 1011, 6671),
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = []
    for spec in CASES:
        affine = ras_affine((0.0, 0.0, 0.0))
        labels = {lid: LABELS[lid] for lid in spec.label_ids}
        blobs = tumour_blobs(affine, SHAPE, labels, spec.order, seeded_shift(seed, spec.case_key))
        channels, seg, masks = paint_case(affine, SHAPE, blobs)
        case_dir = Path(dataset_dir) / spec.case_key
        for n, (token, chan) in enumerate(SEQUENCES.items()):
            folder = f"VSD.Brain.XX.O.{token}"
            path = case_dir / folder / f"{folder}.{spec.first_id + seed + n}.mha"
            write_mha(channels[chan], affine, sitk.sitkInt16, path)
        folder = f"{spec.ot_prefix}.XX.XX.OT"
        path = case_dir / folder / f"{folder}.{spec.ot_id + seed}.mha"
        write_mha(seg, affine, sitk.sitkUInt8, path)
        planted += [
            PlantedStructure(
                DATASET, spec.case_key, LABELS[lid], None, extent_lr_ap_mm(m, affine), None
            )
            for lid, m in masks.items()
        ]
    return planted
