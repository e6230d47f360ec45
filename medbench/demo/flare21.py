"""FLARE21 replica, family A: ``TrainingMask/X.nii.gz`` ↔ ``TrainingImg/X_0000.nii.gz``."""

from __future__ import annotations

from pathlib import Path

from medbench.demo.btcv import PairedCase, Structure, write_cases, write_image_only
from medbench.demo.truth import PlantedStructure

DATASET = "FLARE21"
# One "kidney" id covers both kidneys; 3 = spleen (as in AbdomenCT-1K and FLARE22).
STRUCTURES = (
    Structure("liver", 1, ("liver",)),
    Structure("kidney", 2, ("right kidney", "left kidney")),
    Structure("spleen", 3, ("spleen",)),
    Structure("pancreas", 4, ("pancreas",)),
)
LABEL_IDS = {s.name: s.raw_id for s in STRUCTURES}
CASES = tuple(
    PairedCase(
        f"train_{n}", f"TrainingImg/train_{n}_0000.nii.gz", f"TrainingMask/train_{n}.nii.gz", ax, bg
    )
    for n, ax, bg in (("000", "LPS", -10), ("017", "RAS", -15))
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = write_cases(dataset_dir, DATASET, CASES, STRUCTURES, seed)
    write_image_only(dataset_dir, "ValidationImg/validation_001_0000.nii.gz", seed)
    return planted
