"""The source spec: one declarative entry per dataset over a generic family reader.

A spec says what the dataset is (modality, body part, licence, labels) and where its
files are, in the layout its official archive extracts to. The family class it is an
instance of knows how to discover and load cases of that layout (families A–H of
research/dataset-layouts.md §2, in ``medbench.builders.vgmed.families``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from medbench.builders.vgmed.case import CaseError, CaseRef, LoadedCase, Skip
from medbench.imaging.nifti import read_nifti
from medbench.imaging.orientation import to_display
from medbench.imaging.volume import DisplayVolume, RawVolume

# Max voxel-to-world disagreement (mm) tolerated between an image and its label.
AFFINE_TOLERANCE_MM = 1e-2


class SourceSpec(BaseModel):
    """Fields every dataset declares. Subclasses add the family's layout fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: ClassVar[str] = "?"
    family_name: ClassVar[str] = ""

    id: str
    title: str
    modality: str  # CT, MR, X-ray, ultrasound, endoscopy, fundus, dermoscopy, PET
    # every modality of a mixed source (rows then carry each image's own); else [modality]
    modalities: list[str] = []
    body_part: str
    license: str  # SPDX id where one exists, else a short name
    homepage: str = ""
    anchor: str  # a path (relative to the dataset folder) that the archive always has
    labels: dict[str, str] = {}  # source label (id, file stem or name) → medbench name
    ct_window: str | None = None  # key of medbench.imaging.intensity.CT_WINDOWS
    reorient: bool = True
    slice_axis: int = 2  # file axis to slice along when reorient is False
    flip_rows: bool = False
    # multi-sequence sources: the sequence each structure is shown on (e.g. T1ce for the
    # enhancing tumour), else ``default_channel``; the sequence is kept on the row
    channel_for_label: dict[str, str] = {}
    default_channel: str | None = None
    credentialed: bool = False
    # False where the terms forbid re-sharing the data (Kaggle competition rules, ...):
    # `medbench publish` then refuses a public upload that contains its rows
    redistributable: bool = True
    # archives (globs relative to the dataset folder) to unpack, nested ones included,
    # when the anchor is not there yet (PALM ships zips inside zips)
    archives: list[str] = []
    notes: str = ""  # UNVERIFIED choices and how to flip them

    @property
    def all_modalities(self) -> list[str]:
        return self.modalities or [self.modality]

    # -- what each family implements -------------------------------------------------
    def resolve(self, dataset_dir: Path) -> SourceSpec:
        """The spec that reads ``dataset_dir``: itself, or one of several layouts."""
        return self

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        raise NotImplementedError

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        raise NotImplementedError

    # -- shared helpers ----------------------------------------------------------------
    def locate(self, source_root: Path) -> Path | None:
        """The dataset folder: ``<root>/<id>``, tolerating one extra wrapping folder."""
        base = source_root / self.id
        if not base.is_dir():
            return None
        if (base / self.anchor).exists():
            return base
        for child in sorted(p for p in base.iterdir() if p.is_dir()):
            if (child / self.anchor).exists():
                return child
        return None

    def display(self, raw: RawVolume) -> DisplayVolume:
        return to_display(
            raw, reorient=self.reorient, slice_axis=self.slice_axis, flip_rows=self.flip_rows
        )

    @property
    def slice_axis_name(self) -> str:
        return "axial" if self.reorient else f"file:{self.slice_axis}"

    def label_names(self) -> dict[int, str]:
        """Integer label ids → names (for label-map sources)."""
        return {int(k): v for k, v in self.labels.items() if k.lstrip("-").isdigit()}


def is_junk(path: Path) -> str | None:
    """Why a file found by a glob is not data, or None if it is."""
    name = path.name
    if name.startswith("._"):
        return "AppleDouble metadata file (macOS), not data"
    if name.startswith("."):
        return "hidden file, not data"
    return None


def read_volume(path: Path) -> RawVolume:
    """NIfTI through nibabel, everything else (MHA/MHD/NRRD) through SimpleITK."""
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        return read_nifti(path)
    from medbench.imaging.itk import read_itk  # SimpleITK costs ~100 MB per worker: load on use

    return read_itk(path)


def read_label_volume(path: Path) -> RawVolume:
    """A label volume with integer voxels (float-stored labels must be whole numbers)."""
    raw = read_volume(path)
    data = raw.data
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)):
            raise CaseError(f"{path}: label volume has NaN or infinite voxels")
        rounded = np.rint(data)
        if not np.array_equal(rounded, data):
            raise CaseError(f"{path}: label volume has non-integer values")
        data = rounded.astype(np.int32 if rounded.max(initial=0) > 255 else np.uint8)
    elif data.dtype.kind == "i" and data.size and data.min() < 0:
        raise CaseError(f"{path}: label volume has negative values")
    if data.dtype == np.bool_:
        data = data.view(np.uint8)
    return RawVolume(data=data, affine=raw.affine, meta=raw.meta)


def check_image(path: Path, raw: RawVolume) -> None:
    if raw.data.dtype.kind == "f" and not np.all(np.isfinite(raw.data)):
        bad = int(np.count_nonzero(~np.isfinite(raw.data)))
        raise CaseError(f"{path}: image has {bad} NaN/infinite voxels")


def check_aligned(image_path: Path, image: RawVolume, label_path: Path, label: RawVolume) -> None:
    """Image and label must share the voxel grid: same shape, same affine."""
    if image.data.shape[:3] != label.data.shape[:3]:
        raise CaseError(
            f"{label_path}: label shape {label.data.shape[:3]} differs from image shape "
            f"{image.data.shape[:3]} of image {image_path.name}"
        )
    corners = np.array(
        [
            [i, j, k, 1.0]
            for i in (0, image.data.shape[0])
            for j in (0, image.data.shape[1])
            for k in (0, image.data.shape[2])
        ]
    ).T
    gap = np.abs((image.affine @ corners) - (label.affine @ corners))[:3].max()
    if gap > AFFINE_TOLERANCE_MM:
        raise CaseError(
            f"{label_path}: label affine differs from image affine by {gap:.2f} mm "
            f"of image {image_path.name}"
        )
