"""CT-ORG replica (family A, one folder: ``OrganSegmentations/labels-<i>`` ↔ ``volume-<i>``).

Six organ classes; lungs and kidneys are one id each (both sides). Brain is planted in one
case only, as it appears in only a few real cases.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, VolumeCase, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "CT-ORG"
LABEL_IDS = {
    "liver": 1,
    "urinary bladder": 2,
    "lung": 3,
    "kidney": 4,
    "bone": 5,
    "brain": 6,
}
R = (3.5, 3.5, 6.0)  # mm
# Three rows (RAS y): the paired organs at the top and bottom, so the union box of a pair
# holds no other blob; single organs in the middle row, 11-12 mm apart.
BLOBS = (
    Blob("lung", 3, (17.0, 17.0, 0.0), R, -140, "right"),
    Blob("lung", 3, (-17.0, 17.0, 0.0), R, -140, "left"),
    Blob("liver", 1, (17.0, 0.0, 0.0), (3.5, 4.5, 6.0), 60, "right"),
    Blob("urinary bladder", 2, (6.0, 0.0, 0.0), R, 20),
    Blob("bone", 5, (-6.0, 0.0, 0.0), R, 230),
    Blob("kidney", 4, (17.0, -17.0, 0.0), R, 180, "right"),
    Blob("kidney", 4, (-17.0, -17.0, 0.0), R, 180, "left"),
)
BRAIN = Blob("brain", 6, (-17.0, 0.0, 0.0), R, 110)
CASES = (
    VolumeCase(
        "labels-3",
        "OrganSegmentations/volume-3.nii.gz",
        "OrganSegmentations/labels-3.nii.gz",
        "LPS",
        -60,
    ),
    VolumeCase(
        "labels-24",
        "OrganSegmentations/volume-24.nii.gz",
        "OrganSegmentations/labels-24.nii.gz",
        "RAS",
        -66,
    ),
)


def blobs_for(case: VolumeCase) -> tuple[Blob, ...]:
    return (*BLOBS, BRAIN) if case.case_key == "labels-3" else BLOBS


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    return write_volume_cases(dataset_dir, DATASET, CASES, blobs_for, seed)
