"""MSD Task07_Pancreas replica (family A: same file name in imagesTr/ and labelsTr/)."""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, VolumeCase, write_msd_task
from medbench.demo.truth import PlantedStructure

DATASET = "MSD-Pancreas"
TASK = "Task07_Pancreas"
LABEL_IDS = {"pancreas": 1, "pancreatic tumor": 2}
BLOBS = (
    Blob("pancreas", 1, (-2.0, 6.0, 0.0), (10.0, 4.0, 6.0), 90),
    Blob("pancreatic tumor", 2, (-9.0, -12.0, 0.0), (4.5, 4.0, 5.0), -60),
)
CASES = tuple(
    VolumeCase(k, f"{TASK}/imagesTr/{k}.nii.gz", f"{TASK}/labelsTr/{k}.nii.gz", ax, bg)
    for k, ax, bg in (("pancreas_001", "LPS", 15), ("pancreas_004", "LAS", 20))
)
TEST_CASE = VolumeCase("pancreas_002", f"{TASK}/imagesTs/pancreas_002.nii.gz", "", "LPS", 18)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    names = {1: "pancreas", 2: "cancer"}
    return write_msd_task(dataset_dir, DATASET, TASK, CASES, BLOBS, names, TEST_CASE, seed)
