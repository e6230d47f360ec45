"""PROMISE09 replica (family A over parallel trees, NRRD): ``T2_segmented_images/<n>/
<stem>.004.nrrd`` ↔ ``T2_images/<n>/<stem>.002.nrrd``, paired by the case folder ``<n>``
(the case id); ``T1_images/<n>/<stem>.001.nrrd`` is unlabelled and must never be read.

The layout itself is UNVERIFIED (one secondary source, research/dataset-layouts.md row 29).
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, VolumeCase, case_volumes, write_volume_cases
from medbench.demo.promise12 import write_mhd as write_itk  # writes by suffix: NRRD here
from medbench.demo.truth import PlantedStructure

DATASET = "PROMISE09"
LABEL_IDS = {"prostate": 1}
BLOBS = (Blob("prostate", 1, (2.0, -3.0, 0.0), (11.0, 9.0, 12.0), 300),)
# T1 of the same case: another contrast on the same grid, never a case
T1_BLOBS = (Blob("prostate", 1, (2.0, -3.0, 0.0), (11.0, 9.0, 12.0), 180),)
# the real T2 scans are 256 x 256 x ~30 at 0.55 x 0.55 x 5 mm (OML:Promise09.md)
SHAPE = (64, 64, 12)
SPACING = (0.55, 0.55, 5.0)


def promise09_case(n: int, stem: str, axcodes: str, background: int) -> VolumeCase:
    """Case folder ``n``; file stems are not derived from it (as in the source listing)."""
    return VolumeCase(
        str(n),
        f"T2_images/{n}/{stem}.002.nrrd",
        f"T2_segmented_images/{n}/{stem}.004.nrrd",
        axcodes,
        background,
        SHAPE,
        SPACING,
    )


CASES = (
    promise09_case(3, "000031.00002", "LPS", 75),
    promise09_case(11, "000047.00005", "RAS", 85),
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = write_volume_cases(root, DATASET, CASES, lambda _c: BLOBS, seed, writer=write_itk)
    for case in CASES:
        t1 = VolumeCase(case.case_key, "", "", case.axcodes, case.background + 50, SHAPE, SPACING)
        image, _, affine, _ = case_volumes(t1, T1_BLOBS, seed)
        t1_path = case.image.replace("T2_images/", "T1_images/").replace(".002.", ".001.")
        write_itk(root / t1_path, image, affine, False)
    return planted
