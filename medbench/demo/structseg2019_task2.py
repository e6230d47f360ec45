"""StructSeg2019 Task 2 replica (family B: ``Thoracic_OAR/<n>/{data,label}.nii.gz``).

Thoracic organs at risk: both lungs (a left/right pair, ids 1 and 2), heart, esophagus
and spinal cord. Trachea (id 6, UNVERIFIED) is not planted.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, write_volume_cases
from medbench.demo.structseg2019_task1 import structseg_cases
from medbench.demo.truth import PlantedStructure

DATASET = "StructSeg2019-Task2"
FOLDER = "Thoracic_OAR"
LABEL_IDS = {"left lung": 1, "right lung": 2, "spinal cord": 3, "esophagus": 4, "heart": 5}
BLOBS = (
    Blob("left lung", 1, (-14.0, 0.0, 0.0), (6.0, 9.0, 6.0), -100, "left"),
    Blob("right lung", 2, (14.0, 0.0, 0.0), (6.0, 9.0, 6.0), -100, "right"),
    Blob("spinal cord", 3, (0.0, -15.0, 0.0), (3.0, 3.0, 6.0), 180),
    Blob("esophagus", 4, (0.0, -3.0, 0.0), (2.5, 2.5, 6.0), 120),
    Blob("heart", 5, (0.0, 13.0, 0.0), (5.0, 4.0, 5.0), 60),
)
CASES = structseg_cases(FOLDER, ((3, "RAS", -40), (27, "LPS", -55)))


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    return write_volume_cases(Path(dataset_dir), DATASET, CASES, lambda _c: BLOBS, seed)
