"""StructSeg2019 Task 1 replica (family B: ``HaN_OAR/<n>/{data,label}.nii.gz``).

Head-and-neck organs at risk with left/right pairs (eyes, parotid glands), so a swapped
id order shows up as a structure on the wrong image half.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, VolumeCase, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "StructSeg2019-Task1"
FOLDER = "HaN_OAR"
LABEL_IDS = {
    "brainstem": 1,
    "left eye": 2,
    "right eye": 3,
    "left parotid gland": 12,
    "right parotid gland": 13,
    "spinal cord": 20,
}
BLOBS = (
    Blob("brainstem", 1, (0.0, -2.0, 0.0), (4.0, 4.0, 5.0), 30),
    Blob("left eye", 2, (-12.0, 14.0, 0.0), (4.0, 4.0, 4.0), 60, "left"),
    Blob("right eye", 3, (12.0, 14.0, 0.0), (4.0, 4.0, 4.0), 90, "right"),
    Blob("left parotid gland", 12, (-15.0, -10.0, 0.0), (4.0, 5.0, 5.0), 120, "left"),
    Blob("right parotid gland", 13, (15.0, -10.0, 0.0), (4.0, 5.0, 5.0), 150, "right"),
    Blob("spinal cord", 20, (0.0, -16.0, 0.0), (3.0, 3.0, 6.0), 180),
)


def structseg_cases(folder: str, numbers: tuple[tuple[int, str, int], ...]):
    return tuple(
        VolumeCase(str(n), f"{folder}/{n}/data.nii.gz", f"{folder}/{n}/label.nii.gz", ax, bg)
        for n, ax, bg in numbers
    )


CASES = structseg_cases(FOLDER, ((1, "LPS", -80), (12, "RAS", -95)))


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    return write_volume_cases(Path(dataset_dir), DATASET, CASES, lambda _c: BLOBS, seed)
