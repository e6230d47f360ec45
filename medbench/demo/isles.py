"""ISLES 2015 SISS replica (family C: VSD folders with a numeric suffix, ``.nii`` members).

``SISS2015_Training/<n>/VSD.Brain.XX.O.MR_{DWI,Flair,T1,T2}.<id>/<same>.nii`` plus
``VSD.Brain.XX.O.OT.<id>/<same>.nii``, one binary label (1 = ischemic stroke lesion).
Written through ITK as the originals were, so the NIfTI affine is ITK's LPS flipped to
RAS (x and y negative).
"""

from __future__ import annotations

from pathlib import Path

import SimpleITK as sitk

from medbench.demo._geometry import extent_lr_ap_mm, seeded_shift
from medbench.demo._mri_brain import paint_case, tumour_blobs
from medbench.demo.brats2015 import ras_affine, write_mha
from medbench.demo.truth import PlantedStructure

DATASET = "ISLES"
ROOT = "SISS2015_Training"
LABELS = {1: "ischemic stroke lesion"}
LABEL_IDS = {name: lid for lid, name in LABELS.items()}
# sequence token -> replica intensity table (_mri_brain.CHANNEL_VALUES); DWI borrows t1ce's
SEQUENCES = {"MR_DWI": "t1ce", "MR_Flair": "flair", "MR_T1": "t1", "MR_T2": "t2"}
SHAPE = (48, 48, 16)
# case folder -> (lesion slot, first SMIR object id, ITK origin in LPS mm)
CASES = {"1": (1, 70613, (0.0, 0.0, 0.0)), "12": (2, 70703, (-23.5, -23.5, -7.5))}


def case_key(number: str) -> str:
    return f"{ROOT}/{number}"


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = []
    for number, (slot, first_id, origin) in CASES.items():
        affine = ras_affine(origin)
        key = case_key(number)
        blobs = tumour_blobs(affine, SHAPE, LABELS, (slot,), seeded_shift(seed, key))
        channels, seg, masks = paint_case(affine, SHAPE, blobs)
        case_dir = Path(dataset_dir) / key
        for n, (token, chan) in enumerate(SEQUENCES.items()):
            name = f"VSD.Brain.XX.O.{token}.{first_id + seed + n}"
            write_mha(channels[chan], affine, sitk.sitkInt16, case_dir / name / f"{name}.nii")
        name = f"VSD.Brain.XX.O.OT.{first_id + seed + 5}"
        write_mha(seg, affine, sitk.sitkUInt8, case_dir / name / f"{name}.nii")
        planted += [
            PlantedStructure(DATASET, key, LABELS[lid], None, extent_lr_ap_mm(m, affine), None)
            for lid, m in masks.items()
        ]
    return planted


# -- ISLES 2022 (BIDS) ---------------------------------------------------------------------
ROOT_2022 = "ISLES-2022"
SESSION = "ses-0001"
DWI_SHAPE, DWI_SPACING = (40, 40, 12), (2.0, 2.0, 4.0)
FLAIR_SHAPE, FLAIR_SPACING = (80, 80, 48), (1.0, 1.0, 1.0)
# background, lesion: bright on DWI, dark on ADC (restricted diffusion), bright on FLAIR
VALUES_2022 = {"dwi": (400, 1200), "adc": (900, 300), "FLAIR": (300, 1000)}
# subject -> lesion centre offset (mm, RAS) from the grid centre; None = empty mask, as
# sub-strokecase0150/0151/0170 ship
CASES_2022: dict[str, tuple[float, float, float] | None] = {
    "sub-strokecase0001": (-14.0, 10.0, 0.0),
    "sub-strokecase0150": None,
}


def write_2022(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    """The ISLES 2022 BIDS tree: DWI and ADC share the mask's grid; FLAIR is on its own
    finer grid (not co-registered), so a reader that pairs it with the mask must fail."""
    import nibabel as nib
    import numpy as np

    from medbench.demo._geometry import Ellipsoid, make_affine

    root = Path(dataset_dir) / ROOT_2022
    dwi_affine = make_affine("LPS", DWI_SPACING, DWI_SHAPE)
    flair_affine = make_affine("RAS", FLAIR_SPACING, FLAIR_SHAPE, center=(3.0, -2.0, 1.0))
    planted = []
    for subject, offset in CASES_2022.items():
        shift = seeded_shift(seed, subject)
        lesion = None
        if offset is not None:
            centre = (offset[0] + shift[0], offset[1] + shift[1], offset[2])
            lesion = Ellipsoid("ischemic stroke lesion", centre, (6.0, 5.0, 5.0))
        dwi_mask = lesion.mask(dwi_affine, DWI_SHAPE) if lesion else np.zeros(DWI_SHAPE, bool)
        flair_mask = (
            lesion.mask(flair_affine, FLAIR_SHAPE) if lesion else np.zeros(FLAIR_SHAPE, bool)
        )
        prefix = f"{subject}_{SESSION}"
        for name, folder, mask, affine in (
            ("dwi", "dwi", dwi_mask, dwi_affine),
            ("adc", "dwi", dwi_mask, dwi_affine),
            ("FLAIR", "anat", flair_mask, flair_affine),
        ):
            background, value = VALUES_2022[name]
            data = np.where(mask, value, background).astype(np.int16)
            path = root / subject / SESSION / folder / f"{prefix}_{name}.nii.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            nib.save(nib.Nifti1Image(data, affine), path)
        path = root / "derivatives" / subject / SESSION / f"{prefix}_msk.nii.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        nib.save(nib.Nifti1Image(dwi_mask.astype(np.uint8), dwi_affine), path)
        if lesion is not None:
            extent = extent_lr_ap_mm(dwi_mask, dwi_affine)
            planted.append(PlantedStructure(DATASET, subject, lesion.label, None, extent, None))
    return planted
