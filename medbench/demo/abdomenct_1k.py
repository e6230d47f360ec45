"""AbdomenCT-1K replica, family A: ``Mask/Case_N.nii.gz`` ↔ ``Image/Case_N_0000.nii.gz``."""

from __future__ import annotations

from pathlib import Path

from medbench.demo.btcv import PairedCase, Structure, write_cases
from medbench.demo.truth import PlantedStructure

DATASET = "AbdomenCT-1K"
# Same ids as FLARE21: one "kidney" id covers both kidneys.
STRUCTURES = (
    Structure("liver", 1, ("liver",)),
    Structure("kidney", 2, ("right kidney", "left kidney")),
    Structure("spleen", 3, ("spleen",)),
    Structure("pancreas", 4, ("pancreas",)),
)
LABEL_IDS = {s.name: s.raw_id for s in STRUCTURES}
CASES = tuple(
    PairedCase(f"Case_{n}", f"Image/Case_{n}_0000.nii.gz", f"Mask/Case_{n}.nii.gz", ax, bg)
    for n, ax, bg in (("00001", "LPS", 0), ("00412", "LAS", -5))
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    return write_cases(dataset_dir, DATASET, CASES, STRUCTURES, seed)
