"""BraTS 2019 replica (family B: ``{HGG,LGG}/BraTS19_*/``, labels 1/2/4, name_mapping.csv)."""

from __future__ import annotations

from pathlib import Path

from medbench.demo.brats2018 import LABELS, CaseSpec, write_cases
from medbench.demo.truth import PlantedStructure

DATASET = "BraTS2019"
ROOT = "MICCAI_BraTS_2019_Data_Training"
LABEL_IDS = {name: lid for lid, name in LABELS.items()}
CASES = (
    CaseSpec("HGG/BraTS19_CBICA_AAB_1", (1, 0, 3)),
    CaseSpec("LGG/BraTS19_TCIA10_103_1", (2, 0, 1), (2, 4)),
)
SHAPE = (48, 48, 15)
# name_mapping.csv links the years' case names; it is not a case folder
NAME_MAPPING = (
    "Grade,BraTS_2017_subject_ID,BraTS_2018_subject_ID,TCGA_TCIA_subject_ID,"
    "BraTS_2019_subject_ID\n"
    "HGG,Brats17_CBICA_AAB_1,Brats18_CBICA_AAB_1,NA,BraTS19_CBICA_AAB_1\n"
    "LGG,Brats17_TCIA_103_1,Brats18_TCIA10_103_1,TCGA-DU-A5TS,BraTS19_TCIA10_103_1\n"
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir) / ROOT
    planted = write_cases(DATASET, root, CASES, SHAPE, seed)
    (root / "name_mapping.csv").write_text(NAME_MAPPING, encoding="utf-8")
    return planted
