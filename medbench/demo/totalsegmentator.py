"""TotalSegmentator v2.0.1 replica (family D: one binary mask file per structure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medbench.demo._files import nifti_image, save_nii_gz
from medbench.demo._geometry import (
    Ellipsoid,
    check_layout,
    extent_lr_ap_mm,
    make_affine,
    paint,
    seeded_shift,
)
from medbench.demo.truth import PlantedStructure

DATASET = "TotalSegmentator"
ROOT = "Totalsegmentator_dataset_v201"
SHAPE_MM = 1.5
BACKGROUND_HU = 0

# File stem -> (medbench name, patient side). RAS: patient right = +x, anterior = +y.
NAMES = {
    "spleen": ("spleen", "left"),
    "kidney_right": ("right kidney", "right"),
    "kidney_left": ("left kidney", "left"),
    "liver": ("liver", "right"),
    "aorta": ("aorta", None),
}
# Centre offsets (mm, RAS) and radii (mm) of each structure; z is the grid centre.
PLACES = {
    "liver": ((22.0, 12.0), (12.0, 10.0, 10.0)),
    "spleen": ((-22.0, 8.0), (7.0, 8.0, 9.0)),
    "kidney_right": ((18.0, -18.0), (6.0, 6.0, 8.0)),
    "kidney_left": ((-18.0, -18.0), (6.0, 7.0, 8.0)),
    "aorta": ((-1.0, -8.0), (4.0, 4.0, 11.0)),
}
# Written for every case but left all-zero (out of the field of view), as in the real data.
EMPTY = ("brain", "skull", "urinary_bladder", "heart")


@dataclass(frozen=True)
class CaseSpec:
    case: str
    split: str
    axcodes: str
    shape: tuple[int, int, int]
    hu: dict[str, int]  # structure -> uniform HU (inside the 40/400 window, >= 70 apart)
    meta: tuple[int, str, str, str]  # age, gender, institute, study_type


CASES = (
    CaseSpec(
        "s0000",
        "train",
        "RAS",
        (60, 52, 24),
        {"liver": 80, "spleen": 160, "kidney_right": 230, "kidney_left": -120},
        (65, "m", "A", "ct abdomen-pelvis"),
    ),
    CaseSpec(
        "s0011",
        "val",
        "LPS",
        (60, 52, 24),
        {"liver": 160, "aorta": 230, "kidney_left": 80},
        (48, "f", "B", "ct thorax-abdomen-pelvis"),
    ),
    CaseSpec(
        "s0117",
        "test",
        "LAS",
        (60, 52, 24),
        {"spleen": 80, "kidney_right": -120, "aorta": 160},
        (71, "m", "C", "ct abdomen"),
    ),
)


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir) / ROOT
    planted = []
    for spec in CASES:
        affine = make_affine(spec.axcodes, (SHAPE_MM,) * 3, spec.shape)
        dx, dy = seeded_shift(seed, spec.case)
        masks = {}
        for stem in spec.hu:
            (ox, oy), radii = PLACES[stem]
            blob = Ellipsoid(stem, (ox + dx, oy + dy, 0.0), radii)
            masks[stem] = blob.mask(affine, spec.shape)
        check_layout(list(masks.values()))
        ct = paint(spec.shape, BACKGROUND_HU, [(masks[s], spec.hu[s]) for s in masks])
        case_dir = root / spec.case
        save_nii_gz(nifti_image(ct, affine, np.int16), case_dir / "ct.nii.gz")
        for stem in (*NAMES, *EMPTY):
            mask = masks.get(stem, np.zeros(spec.shape, dtype=bool))
            save_nii_gz(
                nifti_image(mask, affine, np.uint8), case_dir / "segmentations" / f"{stem}.nii.gz"
            )
        for stem, mask in masks.items():
            label, side = NAMES[stem]
            extent = extent_lr_ap_mm(mask, affine)
            planted.append(PlantedStructure(DATASET, spec.case, label, side, extent, None))
    rows = ["image_id;age;gender;institute;study_type;split"]
    rows += [f"{c.case};{c.meta[0]};{c.meta[1]};{c.meta[2]};{c.meta[3]};{c.split}" for c in CASES]
    (root / "meta.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return planted
