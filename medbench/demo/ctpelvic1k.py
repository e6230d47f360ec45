"""CTPelvic1K replica, dataset 6 (family A: ``CTPelvic1K_dataset6_data/<key>_data.nii.gz``
↔ ``CTPelvic1K_dataset6_Anonymized_mask/<key>_mask_4label.nii.gz``).

Ids as the official conversion has them (2 = right hip, 3 = left hip; SAT swaps them), so
the hips are planted on the patient's matching side. A mask of dataset 1 (mask-only, its
image belongs to another dataset) lies next to them and must not become a case.
"""

from __future__ import annotations

from pathlib import Path

from medbench.demo.msd_liver import Blob, VolumeCase, case_volumes, write_nifti, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "CTPelvic1K"
DATA = "CTPelvic1K_dataset6_data"
MASKS = "CTPelvic1K_dataset6_Anonymized_mask"
LABEL_IDS = {"sacrum": 1, "right hip bone": 2, "left hip bone": 3, "lumbar vertebra": 4}
BLOBS = (
    Blob("sacrum", 1, (0.0, -12.0, 0.0), (5.0, 4.0, 5.0), 200),
    Blob("right hip bone", 2, (14.0, 0.0, 0.0), (5.0, 8.0, 6.0), 150, "right"),
    Blob("left hip bone", 3, (-14.0, 0.0, 0.0), (5.0, 8.0, 6.0), 150, "left"),
    Blob("lumbar vertebra", 4, (0.0, 10.0, 0.0), (4.0, 4.0, 5.0), 110),
)


def pelvic_case(key: str, axcodes: str, background: int) -> VolumeCase:
    image = f"{DATA}/{key}_data.nii.gz"
    return VolumeCase(
        f"{key}_mask_4label", image, f"{MASKS}/{key}_mask_4label.nii.gz", axcodes, background
    )


CASES = (
    pelvic_case("dataset6_CLINIC_0001", "LPS", -50),
    pelvic_case("dataset6_CLINIC_0007", "RAS", -65),
)
# dataset 1 ships masks only (the image is BTCV's)
MASK_ONLY = VolumeCase(
    "dataset1_img0001_mask_4label",
    "",
    "CTPelvic1K_dataset1_mask_mappingback/dataset1_img0001_mask_4label.nii.gz",
    "LPS",
    -70,
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = write_volume_cases(root, DATASET, CASES, lambda _c: BLOBS, seed)
    _, label, affine, _ = case_volumes(MASK_ONLY, BLOBS, seed)
    write_nifti(root / MASK_ONLY.label, label, affine, True)
    return planted
