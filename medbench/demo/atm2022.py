"""ATM'22 replica (family A: ``TrainBatch<n>/labelsTr/ATM_xxx_0000.nii.gz`` ↔ the same name
in ``imagesTr/``; the ``_0000`` suffix is kept on the label)."""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, VolumeCase, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "ATM2022"
LABEL_IDS = {"airway": 1}
# Trachea (midline) and the two main bronchi as separate air-filled blobs, one id.
BLOBS = (
    Blob("airway", 1, (0.0, 4.0, 0.0), (3.0, 3.0, 9.0), -1000),
    Blob("airway", 1, (12.0, -8.0, 0.0), (3.0, 3.0, 4.0), -1000, "right"),
    Blob("airway", 1, (-12.0, -8.0, 0.0), (3.0, 3.0, 4.0), -1000, "left"),
)


def atm_case(batch: int, n: int, axcodes: str, background: int) -> VolumeCase:
    name = f"ATM_{n:03d}_0000.nii.gz"
    return VolumeCase(
        name.removesuffix(".nii.gz"),
        f"TrainBatch{batch}/imagesTr/{name}",
        f"TrainBatch{batch}/labelsTr/{name}",
        axcodes,
        background,
    )


CASES = (atm_case(1, 1, "LPS", -120), atm_case(2, 101, "RAS", -130))


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    return write_volume_cases(dataset_dir, DATASET, CASES, lambda _c: BLOBS, seed)
