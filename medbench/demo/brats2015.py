"""BraTS 2015 replica (family C: legacy VSD/SMIR ``.mha`` files, one sub-folder per image)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from medbench.demo._geometry import extent_lr_ap_mm, seeded_shift
from medbench.demo._mri_brain import paint_case, tumour_blobs
from medbench.demo.truth import PlantedStructure

DATASET = "BraTS2015"
ROOT = "BRATS2015_Training"
LABELS = {1: "necrosis", 2: "edema", 3: "non-enhancing tumor", 4: "enhancing tumor"}
SHAPE = (64, 64, 16)
# Sequence token in the VSD name -> replica channel (intensity table) it uses.
SEQUENCES = {"MR_Flair": "flair", "MR_T1": "t1", "MR_T1c": "t1ce", "MR_T2": "t2"}
_LPS = np.diag([-1.0, -1.0, 1.0])  # RAS <-> LPS (ITK) sign flip


@dataclass(frozen=True)
class CaseSpec:
    grade: str  # HGG / LGG folder
    case: str
    ot_prefix: str  # VSD.Brain_3more (HGG) or VSD.Brain_2more (some LGG)
    label_ids: tuple[int, ...]
    order: tuple[int, ...]  # blob slot per label
    suffix: int  # first numeric suffix; real suffixes vary per case, never hard-code them
    origin_lps: tuple[float, float, float]


CASES = (
    CaseSpec(
        "HGG",
        "brats_2013_pat0001_1",
        "VSD.Brain_3more",
        (1, 2, 3, 4),
        (0, 1, 2, 3),
        54512,
        (0, 0, 0),
    ),
    CaseSpec(
        "HGG",
        "brats_tcia_pat123_0083",
        "VSD.Brain_3more",
        (1, 2, 4),
        (2, 0, 3),
        41207,
        (-31.5, -31.5, 0),
    ),
    CaseSpec("LGG", "brats_tcia_pat101_0001", "VSD.Brain_2more", (2, 3), (3, 0), 36877, (0, 0, 0)),
)


def ras_affine(origin_lps: tuple[float, float, float]) -> np.ndarray:
    """Identity ITK direction, 1 mm: voxel i -> patient left, j -> posterior, k -> superior."""
    affine = np.eye(4)
    affine[:3, :3] = _LPS
    affine[:3, 3] = _LPS @ np.asarray(origin_lps)
    return affine


def write_mha(array_ijk: np.ndarray, affine: np.ndarray, pixel: int, path: Path) -> Path:
    """Write an (i, j, k) array with a RAS affine as compressed ``.mha`` (ITK is LPS, z-y-x)."""
    zooms = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    img = sitk.GetImageFromArray(np.ascontiguousarray(array_ijk.transpose(2, 1, 0)))
    img = sitk.Cast(img, pixel)
    img.SetSpacing(tuple(float(z) for z in zooms))
    img.SetDirection(tuple(float(v) for v in (_LPS @ (affine[:3, :3] / zooms)).ravel()))
    img.SetOrigin(tuple(float(v) for v in _LPS @ affine[:3, 3]))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(img, str(path), True)
    return path


def write(dataset_dir: Path, seed: int = 0) -> list[PlantedStructure]:
    planted = []
    for spec in CASES:
        affine = ras_affine(spec.origin_lps)
        labels = {lid: LABELS[lid] for lid in spec.label_ids}
        blobs = tumour_blobs(affine, SHAPE, labels, spec.order, seeded_shift(seed, spec.case))
        channels, seg, masks = paint_case(affine, SHAPE, blobs)
        case_dir = Path(dataset_dir) / ROOT / spec.grade / spec.case
        for n, (token, chan) in enumerate(SEQUENCES.items()):
            name = f"VSD.Brain.XX.O.{token}.{spec.suffix + seed + n}"
            write_mha(channels[chan], affine, sitk.sitkInt16, case_dir / name / f"{name}.mha")
        name = f"{spec.ot_prefix}.XX.O.OT.{spec.suffix + seed + 5}"
        write_mha(seg, affine, sitk.sitkUInt8, case_dir / name / f"{name}.mha")
        planted += [
            PlantedStructure(
                DATASET, spec.case, LABELS[lid], None, extent_lr_ap_mm(m, affine), None
            )
            for lid, m in masks.items()
        ]
    return planted
