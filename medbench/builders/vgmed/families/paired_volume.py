"""Family A: image and label volumes paired by a file-name rule (MSD / nnU-Net style)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from medbench.builders.vgmed.case import CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import glob_files, rel, strip_suffix
from medbench.builders.vgmed.spec import (
    SourceSpec,
    check_aligned,
    check_image,
    read_label_volume,
    read_volume,
)
from medbench.imaging.volume import RawVolume


class PairedVolumeSource(SourceSpec):
    """``label_glob`` finds label files; ``image_from_label`` = (regex, replacement) turns a
    label path (relative to the dataset folder) into its image path. 4D images split their
    last axis into ``channels``."""

    family: ClassVar[str] = "A"
    family_name: ClassVar[str] = "paired volume files"

    label_glob: str
    image_from_label: tuple[str, str]
    channels: list[str] = []
    # (n, modality up to n, modality above n) by the last number in the case id: AMOS ships
    # CT as amos_0001..0500 and MR above 500 in the same folders
    modality_by_case_number: tuple[int, str, str] | None = None

    def case_modality(self, case_id: str) -> str | None:
        if self.modality_by_case_number is None:
            return None
        numbers = re.findall(r"\d+", case_id)
        if not numbers:
            return None
        limit, low, high = self.modality_by_case_number
        return low if int(numbers[-1]) <= limit else high

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        labels, skipped = glob_files(dataset_dir, self.label_glob, self.id)
        cases = []
        pattern, replacement = self.image_from_label
        for label in labels:
            label_rel = rel(label, dataset_dir)
            image_rel = re.sub(pattern, replacement, label_rel)
            if not (dataset_dir / image_rel).is_file():
                skipped.append(Skip(self.id, "", label_rel, f"no image file {image_rel}"))
                continue
            case_id = strip_suffix(label.name)
            cases.append(CaseRef(case_id, (("image", image_rel), ("label", label_rel))))
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        image_path = dataset_dir / case.file("image")
        label_path = dataset_dir / case.file("label")
        image = read_volume(image_path)
        check_image(image_path, image)
        label = read_label_volume(label_path)
        check_aligned(image_path, image, label_path, label)
        images = split_channels(self, image)
        layer_array = self.display(RawVolume(label.data, label.affine)).array
        names = self.label_names()
        layer = LabelLayer(layer_array, names, {v: str(v) for v in names})
        return LoadedCase(
            images=images,
            layers=[layer],
            source_path=case.file("image"),
            slice_axis=self.slice_axis_name,
            modality=self.case_modality(case.case_id),
        )


def split_channels(spec: SourceSpec, image: RawVolume) -> dict:
    """One display volume per channel of a 4D image (names from the spec), else ''."""
    if image.data.ndim == 4 and image.data.shape[3] > 1:
        names = list(getattr(spec, "channels", [])) or [f"c{i}" for i in range(image.data.shape[3])]
        return {
            name: spec.display(RawVolume(image.data[..., i], image.affine))
            for i, name in enumerate(names[: image.data.shape[3]])
        }
    data = image.data[..., 0] if image.data.ndim == 4 else image.data
    return {"": spec.display(RawVolume(data, image.affine))}
