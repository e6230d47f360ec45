"""AMOS 2022 replica, family A: ``amos22/{imagesTr,labelsTr,imagesVa,labelsVa}/amos_NNNN``.

Case numbers above 500 are MR scans in the same folders as the CT ones.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.btcv import PairedCase, structures, write_cases, write_image_only
from medbench.demo.truth import PlantedStructure

DATASET = "AMOS2022"
# AMOS ids: 2 = RIGHT kidney, 3 = LEFT kidney, as BTCV.
LABEL_IDS = {"spleen": 1, "right kidney": 2, "left kidney": 3, "liver": 6, "aorta": 8}
CASES = (
    PairedCase(
        "amos_0001",
        "amos22/imagesTr/amos_0001.nii.gz",
        "amos22/labelsTr/amos_0001.nii.gz",
        "LPS",
        -40,
    ),
    PairedCase(
        "amos_0540",
        "amos22/imagesVa/amos_0540.nii.gz",
        "amos22/labelsVa/amos_0540.nii.gz",
        "RAS",
        -45,
    ),
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = write_cases(dataset_dir, DATASET, CASES, structures(LABEL_IDS), seed)
    write_image_only(dataset_dir, "amos22/imagesTs/amos_0600.nii.gz", seed)
    return planted
