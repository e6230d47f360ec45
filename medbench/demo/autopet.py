"""autoPET replica (family B: ``FDG-PET-CT-Lesions/PETCT_<id>/<study>/{SUV,CTres,SEG}.nii.gz``).

The quirks reproduced: study folder names hold spaces, one of them doubled; one patient
has two studies; one study is a negative control whose SEG is all zero (read, lesion
listed as absent, no sample). SUV is float; the lesion is the hottest uniform blob.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medbench.demo._files import nifti_image, save_nii_gz
from medbench.demo._geometry import make_affine
from medbench.demo.msd_liver import Blob, VolumeCase, write_volume_cases
from medbench.demo.truth import PlantedStructure

DATASET = "autoPET"
ROOT = "FDG-PET-CT-Lesions"
LABEL_IDS = {"tumor lesion": 1}
SUV_SCALE = 0.1  # blob values and backgrounds are written as SUV = value * 0.1
# > 0.5 % of the voxels, so the 99.5th SUV percentile is the lesion's value
BLOBS = (Blob("tumor lesion", 1, (8.0, 5.0, 0.0), (7.0, 7.0, 6.0), 80),)


def study(patient: str, name: str, background: int) -> VolumeCase:
    folder = f"{ROOT}/{patient}/{name}"
    return VolumeCase(name, f"{folder}/SUV.nii.gz", f"{folder}/SEG.nii.gz", "LPS", background)


CASES = (
    study("PETCT_0011f3deaf", "03-23-2003-NA-PET-CT Ganzkoerper  primaer mit KM-10445", 3),
    study("PETCT_7c2e9a41b0", "11-02-2005-NA-PET-CT Ganzkoerper  primaer mit KM-21877", 5),
)
# the first patient's follow-up: a negative control with an empty SEG
NEGATIVE = study("PETCT_0011f3deaf", "07-14-2004-NA-PET-CT Ganzkoerper  nativ-50219", 4)


def write_petct(path: Path, data: np.ndarray, affine: np.ndarray, is_label: bool) -> None:
    """SEG as uint8; SUV as float32 (SUV = value * 0.1), with CTres next to it."""
    if is_label:
        save_nii_gz(nifti_image(data, affine, np.uint8), path)
        return
    save_nii_gz(nifti_image(data * SUV_SCALE, affine, np.float32), path)
    ct = np.where(data == data.flat[0], -700, 40)  # CT resampled to the PET grid (not read)
    save_nii_gz(nifti_image(ct, affine, np.int16), path.with_name("CTres.nii.gz"))


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    root = Path(dataset_dir)
    planted = write_volume_cases(root, DATASET, CASES, lambda _c: BLOBS, seed, writer=write_petct)
    affine = make_affine(NEGATIVE.axcodes, NEGATIVE.spacing, NEGATIVE.shape)
    image = np.full(NEGATIVE.shape, NEGATIVE.background, np.int16)
    write_petct(root / NEGATIVE.image, image, affine, False)
    write_petct(root / NEGATIVE.label, np.zeros(NEGATIVE.shape, np.uint8), affine, True)
    return planted
