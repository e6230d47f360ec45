"""Family E: DICOM series with one PNG mask per slice (CHAOS).

Slices are ordered by position (not file name); each slice's mask is found by the
DICOM's file stem, or, for a series whose ground truth is shared with another series
(CHAOS T1-DUAL out-phase uses the in-phase masks), by spatial index in that series.
The stacked masks get the series' own geometry, so image and label reorient together.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from medbench.builders.vgmed.case import CaseError, CaseRef, LabelLayer, LoadedCase, Skip
from medbench.builders.vgmed.families._paths import rel
from medbench.builders.vgmed.spec import SourceSpec, is_junk
from medbench.imaging.dicom import read_dicom_series
from medbench.imaging.raster import intensity_ranges_to_labels, read_raster
from medbench.imaging.volume import RawVolume


class DicomSeriesMasks(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str  # e.g. "T2SPIR", "T1DUAL-InPhase"
    dicom_dir: str  # relative to the case folder
    mask_dir: str
    masks_named_after: str | None = None  # another series' dicom_dir whose stems name the masks


class DicomPngSource(SourceSpec):
    family: ClassVar[str] = "E"
    family_name: ClassVar[str] = "DICOM series with per-slice PNG masks"

    case_glob: str
    series: list[DicomSeriesMasks]
    mask_ranges: dict[str, tuple[int, int]]  # medbench name → inclusive grey range

    def discover(self, dataset_dir: Path) -> tuple[list[CaseRef], list[Skip]]:
        cases, skipped = [], []
        for case_dir in sorted(p for p in dataset_dir.glob(self.case_glob) if p.is_dir()):
            for series in self.series:
                case_id = f"{case_dir.name}/{series.channel}"
                dicom_dir = case_dir / series.dicom_dir
                if not dicom_dir.is_dir() or not (case_dir / series.mask_dir).is_dir():
                    why = f"missing {series.dicom_dir} or {series.mask_dir}"
                    skipped.append(Skip(self.id, case_id, rel(case_dir, dataset_dir), why))
                    continue
                extra = (("series", series.model_dump()), ("case_dir", rel(case_dir, dataset_dir)))
                cases.append(CaseRef(case_id, (("dicom_dir", rel(dicom_dir, dataset_dir)),), extra))
        return cases, skipped

    def load(self, dataset_dir: Path, case: CaseRef) -> LoadedCase:
        series = DicomSeriesMasks(**case.get("series"))
        case_dir = dataset_dir / str(case.get("case_dir"))
        files, skipped = _dicom_files(case_dir / series.dicom_dir, dataset_dir, self.id, case)
        if not files:
            raise CaseError(f"{case_dir / series.dicom_dir}: no DICOM files")
        raw, ordered = read_dicom_series(files)
        if series.masks_named_after:
            named, _ = _dicom_files(case_dir / series.masks_named_after, dataset_dir, self.id, case)
            _, reference = read_dicom_series(named)
            if len(reference) != len(ordered):
                raise CaseError(
                    f"{case_dir / series.dicom_dir}: {len(ordered)} slices but "
                    f"{len(reference)} in {series.masks_named_after}, whose masks it shares"
                )
            stems = [p.stem for p in reference]
        else:
            stems = [p.stem for p in ordered]
        ranges = {i + 1: rng for i, rng in enumerate(self.mask_ranges.values())}
        names = {i + 1: name for i, name in enumerate(self.mask_ranges)}
        planes = []
        for stem in stems:
            mask_path = case_dir / series.mask_dir / f"{stem}.png"
            if not mask_path.is_file():
                raise CaseError(f"{mask_path}: mask for slice {stem} is missing")
            planes.append(intensity_ranges_to_labels(read_raster(mask_path), ranges))
        shape = raw.data.shape[:2]
        if any(p.T.shape != shape for p in planes):
            raise CaseError(f"{case_dir / series.mask_dir}: mask size differs from DICOM size")
        # masks are (rows, cols) like the pixel data; raw volumes are indexed (col, row, slice)
        label = np.stack([p.T for p in planes], axis=-1)
        image = self.display(raw)
        layer = LabelLayer(
            self.display(RawVolume(label, raw.affine)).array,
            names,
            {v: f"grey {lo}-{hi}" for v, (lo, hi) in ranges.items()},
        )
        return LoadedCase(
            images={"": image},
            layers=[layer],
            source_path=rel(case_dir / series.dicom_dir, dataset_dir),
            slice_axis=self.slice_axis_name,
            skipped=skipped,
        )


def _dicom_files(folder: Path, base: Path, dataset: str, case: CaseRef):
    files, skipped = [], []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        why = is_junk(path)
        if why:
            skipped.append(Skip(dataset, case.case_id, rel(path, base), why))
        else:
            files.append(path)
    return files, skipped
