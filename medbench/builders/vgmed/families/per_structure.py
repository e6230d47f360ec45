"""Family D: one binary mask file per structure (TotalSegmentator).

Masks are loaded one at a time and handed to the extractor as separate label layers, so
memory holds the image plus one mask, never all ~117 of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np

from medbench.builders.vgmed.case import CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import rel, strip_suffix
from medbench.builders.vgmed.spec import (
    SourceSpec,
    check_aligned,
    check_image,
    is_junk,
    read_label_volume,
    read_volume,
)
from medbench.builders.vgmed.vocabulary import normalise_name
from medbench.imaging.volume import RawVolume


def natural_name(stem: str) -> str:
    """``kidney_right`` → ``right kidney``; ``rib_left_3`` → ``left rib 3``."""
    return normalise_name(stem)


class PerStructureSource(SourceSpec):
    family: ClassVar[str] = "D"
    family_name: ClassVar[str] = "one binary mask file per structure"

    case_glob: str
    image: str  # relative to the case folder
    mask_glob: str  # relative to the case folder

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        cases, skipped = [], []
        for case_dir in sorted(p for p in dataset_dir.glob(self.case_glob) if p.is_dir()):
            image = case_dir / self.image
            if not image.is_file():
                skipped.append(
                    Skip(self.id, case_dir.name, rel(case_dir, dataset_dir), f"no {self.image}")
                )
                continue
            files = [("image", rel(image, dataset_dir))]
            for mask in sorted(case_dir.glob(self.mask_glob)):
                if is_junk(mask):
                    skipped.append(Skip(self.id, case_dir.name, rel(mask, dataset_dir), "junk"))
                    continue
                files.append((f"mask:{strip_suffix(mask.name)}", rel(mask, dataset_dir)))
            cases.append(CaseRef(case_dir.name, tuple(files)))
        return cases, skipped

    def structure_name(self, stem: str) -> str:
        return self.labels.get(stem) or natural_name(stem)

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        image_path = dataset_dir / case.file("image")
        image = read_volume(image_path)
        check_image(image_path, image)
        masks = case.files_for("mask:")
        # the layers only need the grid to check against, not the raw voxels
        grid = RawVolume(np.empty(image.data.shape[:3] + (0,), np.uint8), image.affine)
        display = self.display(image)
        del image

        def layers() -> Iterator[LabelLayer]:
            for role, path in masks:
                stem = role.split(":", 1)[1]
                mask = read_label_volume(dataset_dir / path)
                check_aligned(image_path, grid, dataset_dir / path, mask)
                array = self.display(RawVolume(mask.data, mask.affine)).array
                del mask
                yield LabelLayer(array, {1: self.structure_name(stem)}, {1: Path(path).name})

        return LoadedCase(
            images={"": display},
            layers=layers,
            source_path=case.file("image"),
            slice_axis=self.slice_axis_name,
        )
