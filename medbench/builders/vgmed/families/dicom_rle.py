"""Family F: 2D DICOM images with run-length masks in a CSV (SIIM-ACR, Chest_Image_Pneum).

All CSV rows of an image are merged (several rows = several regions). Images with no row
and rows with no image are listed, not silently dropped.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from medbench.builders.vgmed.case import CaseError, CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import glob_files, rel
from medbench.builders.vgmed.spec import SourceSpec
from medbench.imaging.dicom import read_dicom_image
from medbench.imaging.rle import decode_rle_kaggle, decode_rle_relative
from medbench.imaging.volume import display_from_2d


class DicomRleSource(SourceSpec):
    family: ClassVar[str] = "F"
    family_name: ClassVar[str] = "DICOM images with an RLE mask CSV"

    dicom_glob: str
    csv_path: str
    id_column: str = "ImageId"
    rle_column: str = "EncodedPixels"
    rle_flavour: Literal["relative", "kaggle"] = "relative"
    label: str

    def read_csv(self, dataset_dir: Path) -> dict[str, list[str]]:
        path = dataset_dir / self.csv_path
        rows: dict[str, list[str]] = defaultdict(list)
        with open(path, newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader)]  # SIIM's column is " EncodedPixels"
            try:
                id_at, rle_at = header.index(self.id_column), header.index(self.rle_column)
            except ValueError as exc:
                want = f"{self.id_column}, {self.rle_column}"
                raise CaseError(f"{path}: expected columns {want}") from exc
            for record in reader:
                if len(record) > max(id_at, rle_at):
                    rows[record[id_at].strip()].append(record[rle_at].strip())
        return rows

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        dicoms, skipped = glob_files(dataset_dir, self.dicom_glob, self.id)
        rows = self.read_csv(dataset_dir)
        by_id = {p.stem: p for p in dicoms}
        cases = []
        for image_id, path in sorted(by_id.items()):
            if image_id not in rows:
                why = f"no row in {self.csv_path}"
                skipped.append(Skip(self.id, image_id, rel(path, dataset_dir), why))
                continue
            extra = (("rle", tuple(rows[image_id])),)
            cases.append(CaseRef(image_id, (("image", rel(path, dataset_dir)),), extra))
        for image_id in sorted(set(rows) - set(by_id)):
            skipped.append(Skip(self.id, image_id, self.csv_path, "CSV row has no DICOM file"))
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        path = dataset_dir / case.file("image")
        pixels, _meta = read_dicom_image(path)
        height, width = pixels.shape[:2]
        decode = decode_rle_relative if self.rle_flavour == "relative" else decode_rle_kaggle
        mask = np.zeros((height, width), dtype=bool)
        for rle in case.get("rle", ()):
            try:
                mask |= decode(rle, height, width)
            except ValueError as exc:
                raise CaseError(f"{self.csv_path} row for {case.case_id}: {exc}") from exc
        layer = LabelLayer(mask[np.newaxis].view(np.uint8), {1: self.label}, {1: "rle"})
        return LoadedCase(
            images={"": display_from_2d(pixels)},
            layers=[layer],
            source_path=case.file("image"),
            slice_axis="none",
        )
