"""Family G: 2D image files with mask files found by a path template (ISIC, Kvasir, BUSI...)."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from medbench.builders.vgmed.case import CaseError, CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import glob_files, rel, unused_neighbours
from medbench.builders.vgmed.spec import SourceSpec, is_junk
from medbench.imaging.raster import binary_mask, inverted_binary_mask, read_raster
from medbench.imaging.volume import display_from_2d

MaskDecoder = Literal["binary", "inverted"]


class Paired2DSource(SourceSpec):
    """``image_globs`` find images (relative to the dataset folder). ``mask`` is a template
    relative to the dataset folder with ``{stem}`` (image name without extension) and
    ``{parent}`` (the image's folder, relative); a glob in it (``{stem}_mask*.png``) makes
    each matching file one instance of the structure."""

    family: ClassVar[str] = "G"
    family_name: ClassVar[str] = "paired 2D image and mask files"

    image_globs: list[str]
    mask: str
    decoder: MaskDecoder = "binary"
    label: str

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        images, skipped = [], []
        for pattern in self.image_globs:
            found, junk = glob_files(dataset_dir, pattern, self.id)
            images += found
            skipped += junk
        cases, used = [], list(images)
        for image in images:
            image_rel = rel(image, dataset_dir)
            # names like "benign (4)" or "[1]" must not act as glob syntax
            pattern = self.mask.format(
                stem=glob.escape(image.stem), parent=glob.escape(rel(image.parent, dataset_dir))
            )
            masks = [m for m in sorted(dataset_dir.glob(pattern)) if m.is_file() and not is_junk(m)]
            if not masks:
                skipped.append(Skip(self.id, image.stem, image_rel, f"no mask {pattern}"))
                continue
            used += masks
            files = [("image", image_rel)] + [("mask", rel(m, dataset_dir)) for m in masks]
            cases.append(CaseRef(image.stem, tuple(files)))
        skipped += unused_neighbours(dataset_dir, used, self.id, only_in={p.parent for p in images})
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        image_path = dataset_dir / case.file("image")
        pixels = read_raster(image_path)
        decode = binary_mask if self.decoder == "binary" else inverted_binary_mask
        union = np.zeros(pixels.shape[:2], dtype=bool)
        for _, mask_rel in case.files_for("mask"):
            mask = decode(read_raster(dataset_dir / mask_rel))
            if mask.shape != union.shape:
                raise CaseError(
                    f"{dataset_dir / mask_rel}: mask size {mask.shape} differs from image "
                    f"size {union.shape}"
                )
            union |= mask
        if pixels.ndim == 3 and pixels.shape[2] == 4:
            pixels = pixels[..., :3]
        layer = LabelLayer(union[np.newaxis].view(np.uint8), {1: self.label}, {1: "mask"})
        return LoadedCase(
            images={"": display_from_2d(pixels)},
            layers=[layer],
            source_path=case.file("image"),
            slice_axis="none",
        )
