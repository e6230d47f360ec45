"""BraTS 2018 replica (family B: ``{HGG,LGG}/<case>/<case>_<seq>.nii.gz``, labels 1/2/4).

Also holds the writer the BraTS 2019 and 2020 replicas share: same member names, same
raw ids (1 necrotic core, 2 oedema, 4 enhancing; never 3) and the same 1 mm LPS-stored
grid as the real 240×240×155 volumes, scaled down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np

from medbench.demo._files import nifti_image, save_nii_gz
from medbench.demo._geometry import extent_lr_ap_mm, seeded_shift
from medbench.demo._mri_brain import paint_case, tumour_blobs
from medbench.demo.truth import PlantedStructure

DATASET = "BraTS2018"
ROOT = "MICCAI_BraTS_2018_Data_Training"
LABELS = {1: "necrotic tumor core", 2: "peritumoral edema", 4: "enhancing tumor"}  # no 3
LABEL_IDS = {name: lid for lid, name in LABELS.items()}
SEQUENCES = ("flair", "t1", "t1ce", "t2")


@dataclass(frozen=True)
class CaseSpec:
    folder: str  # case folder relative to ROOT (grade folder included where there is one)
    order: tuple[int, ...]  # blob slot per label, in LABELS order
    label_ids: tuple[int, ...] = (1, 2, 4)
    seg_name: str | None = None  # real file name when it is not <case>_seg.nii.gz

    @property
    def case_key(self) -> str:
        return Path(self.folder).name


CASES = (
    CaseSpec("HGG/Brats18_2013_2_1", (0, 3, 1)),
    CaseSpec("LGG/Brats18_TCIA10_103_1", (3, 2, 0), (1, 2)),
)
SHAPE = (48, 48, 14)


def brats_affine(shape: tuple[int, int, int]) -> np.ndarray:
    """1 mm, x and y flipped (LPS storage), origin (0, n-1, 0) as in the real headers."""
    affine = np.diag([-1.0, -1.0, 1.0, 1.0])
    affine[1, 3] = shape[1] - 1.0
    return affine


def save_nii(img: nib.Nifti1Image, path: Path) -> Path:
    """Uncompressed ``.nii`` (the Kaggle mirror; BraTS20_Training_355's seg)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, path)
    return path


def write_cases(
    dataset: str,
    root: Path,
    cases: tuple[CaseSpec, ...],
    shape: tuple[int, int, int],
    seed: int,
) -> list[PlantedStructure]:
    """Write every case under ``root`` and return what was planted."""
    affine = brats_affine(shape)
    planted = []
    for spec in cases:
        case = spec.case_key
        labels = {lid: LABELS[lid] for lid in spec.label_ids}
        blobs = tumour_blobs(affine, shape, labels, spec.order, seeded_shift(seed, case))
        channels, seg, masks = paint_case(affine, shape, blobs)
        folder = root / spec.folder
        for name in SEQUENCES:
            img = nifti_image(channels[name], affine, np.int16)
            save_nii_gz(img, folder / f"{case}_{name}.nii.gz")
        seg_img = nifti_image(seg, affine, np.uint8)
        if spec.seg_name is None:
            save_nii_gz(seg_img, folder / f"{case}_seg.nii.gz")
        else:
            save_nii(seg_img, folder / spec.seg_name)
        planted += [
            PlantedStructure(dataset, case, LABELS[lid], None, extent_lr_ap_mm(m, affine), None)
            for lid, m in masks.items()
        ]
    return planted


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    return write_cases(DATASET, Path(dataset_dir) / ROOT, CASES, SHAPE, seed)
