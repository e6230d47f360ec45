"""WORD v0.1.0 replica, family A: same file name in ``images*/`` and ``labels*/``."""

from __future__ import annotations

from pathlib import Path

from medbench.demo.btcv import PairedCase, structures, write_cases, write_image_only
from medbench.demo.truth import PlantedStructure

DATASET = "WORD"
ROOT = "WORD-V0.1.0"
# WORD ids: 3 = LEFT kidney, 4 = RIGHT kidney (BTCV/AMOS have the opposite).
LABEL_IDS = {
    "liver": 1,
    "spleen": 2,
    "left kidney": 3,
    "right kidney": 4,
    "pancreas": 8,
}
CASES = tuple(
    PairedCase(
        f"word_{n}",
        f"{ROOT}/images{split}/word_{n}.nii.gz",
        f"{ROOT}/labels{split}/word_{n}.nii.gz",
        axcodes,
        background,
    )
    for split, n, axcodes, background in (("Tr", "0002", "RAS", -30), ("Val", "0101", "LPS", -35))
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = write_cases(dataset_dir, DATASET, CASES, structures(LABEL_IDS), seed)
    # imagesTs without labelsTs: an image with no label is simply not a case
    write_image_only(dataset_dir, f"{ROOT}/imagesTs/word_0121.nii.gz", seed)
    return planted
