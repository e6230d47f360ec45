"""BraTS 2020 replica (family B, no HGG/LGG split; labels 1/2/4).

Case 355 reproduces the release's quirk: its segmentation is ``W39_1998.09.19_Segm.nii``
(uncompressed, foreign name) instead of ``BraTS20_Training_355_seg.nii.gz``.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.brats2018 import LABELS, CaseSpec, write_cases
from medbench.demo.truth import PlantedStructure

DATASET = "BraTS2020"
ROOT = "MICCAI_BraTS2020_TrainingData"
LABEL_IDS = {name: lid for lid, name in LABELS.items()}
ALIAS_CASE = "BraTS20_Training_355"
ALIAS_SEG = "W39_1998.09.19_Segm.nii"
CASES = (
    CaseSpec("BraTS20_Training_001", (2, 3, 0)),
    CaseSpec(ALIAS_CASE, (3, 1, 2), seg_name=ALIAS_SEG),
)
SHAPE = (48, 48, 16)
NAME_MAPPING = (
    "Grade,BraTS_2017_subject_ID,BraTS_2018_subject_ID,TCGA_TCIA_subject_ID,"
    "BraTS_2019_subject_ID,BraTS_2020_subject_ID\n"
    "HGG,Brats17_2013_10_1,Brats18_2013_10_1,NA,BraTS19_2013_10_1,BraTS20_Training_001\n"
    "HGG,NA,NA,NA,NA,BraTS20_Training_355\n"
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir) / ROOT
    planted = write_cases(DATASET, root, CASES, SHAPE, seed)
    (root / "name_mapping.csv").write_text(NAME_MAPPING, encoding="utf-8")
    return planted
