"""FLARE22 replica, family A: ``labels/X.nii.gz`` ↔ ``images/X_0000.nii.gz``."""

from __future__ import annotations

from pathlib import Path

from medbench.demo.btcv import PairedCase, structures, write_cases, write_image_only
from medbench.demo.truth import PlantedStructure

DATASET = "FLARE22"
LABELED = "Training/FLARE22_LabeledCase50"
# FLARE22 ids: 2 = RIGHT kidney, 3 = SPLEEN, 13 = LEFT kidney.
LABEL_IDS = {
    "liver": 1,
    "right kidney": 2,
    "spleen": 3,
    "pancreas": 4,
    "aorta": 5,
    "left kidney": 13,
}
CASES = tuple(
    PairedCase(
        f"FLARE22_Tr_{n}",
        f"{LABELED}/images/FLARE22_Tr_{n}_0000.nii.gz",
        f"{LABELED}/labels/FLARE22_Tr_{n}.nii.gz",
        axcodes,
        background,
    )
    for n, axcodes, background in (("0001", "LPS", -40), ("0037", "LAS", -45))
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = write_cases(dataset_dir, DATASET, CASES, structures(LABEL_IDS), seed)
    # the unlabeled set has images only: nothing to pair, so nothing to convert
    unlabeled = "Training/FLARE22_UnlabeledCase1-1000/Case_00001_0000.nii.gz"
    write_image_only(dataset_dir, unlabeled, seed)
    return planted
