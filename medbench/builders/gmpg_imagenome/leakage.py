"""Leakage: every MIMIC-CXR study that overlaps MS-CXR is left out of GMPG-ImaGenome (paper 002
sec. 3.4.1), all of its images, whichever split they are in.

MS-CXR (``MS_CXR_Local_Alignment_v1.0.0.csv`` / ``v1.1.0``) has one row per box with
``dicom_id`` and the MIMIC-CXR ``path`` (``files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg``). A
row's study is its ``study_id`` column if there is one, else the ``s<digits>`` folder of
``path``, else the study the Chest ImaGenome splits give its ``dicom_id``. An image is excluded
when its study is one of those studies or its own dicom id is in MS-CXR.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from medbench.builders.gmpg_imagenome.inputs import SplitIndex

_STUDY_DIR = re.compile(r"(?:^|/)s(\d+)(?:/|$)")


@dataclass
class MsCxrOverlap:
    csv_path: Path | None = None
    dicom_ids: frozenset[str] = frozenset()
    studies: frozenset[str] = frozenset()
    rows: int = 0
    unresolved: list[str] = field(default_factory=list)  # dicom ids with no known study
    excluded: list[dict] = field(default_factory=list)  # one per excluded image

    @property
    def applied(self) -> bool:
        return self.csv_path is not None

    @classmethod
    def load(cls, csv_path: Path | None, splits: SplitIndex) -> MsCxrOverlap:
        if csv_path is None:
            return cls()
        dicoms: set[str] = set()
        studies: set[str] = set()
        unresolved: list[str] = []
        rows = 0
        with open(csv_path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if "dicom_id" not in (reader.fieldnames or []):
                raise ValueError(f"{csv_path}: no dicom_id column (is this the MS-CXR CSV?)")
            for row in reader:
                rows += 1
                dicom = (row.get("dicom_id") or "").strip()
                study = (row.get("study_id") or "").strip().lstrip("s")
                if study.endswith(".0"):
                    study = study[:-2]
                if not study:
                    match = _STUDY_DIR.search((row.get("path") or "").strip())
                    study = match.group(1) if match else ""
                if not study and dicom:
                    study = splits.study_of(dicom) or ""
                if dicom:
                    dicoms.add(dicom)
                if study:
                    studies.add(study)
                elif dicom:
                    unresolved.append(dicom)
        return cls(csv_path, frozenset(dicoms), frozenset(studies), rows, sorted(set(unresolved)))

    def overlaps(self, dicom_id: str, study_id: str) -> str | None:
        """Why this image overlaps MS-CXR ('dicom_id' / 'study'), or None."""
        if dicom_id in self.dicom_ids:
            return "dicom_id"
        if study_id in self.studies:
            return "study"
        return None

    def record(self, dicom_id: str, subject_id: str, study_id: str, split: str, via: str):
        self.excluded.append(
            {
                "study_id": study_id,
                "subject_id": subject_id,
                "dicom_id": dicom_id,
                "split": split,
                "matched_by": via,
            }
        )

    def summary(self) -> dict:
        return {
            "applied": self.applied,
            "ms_cxr_csv": self.csv_path.name if self.csv_path else None,
            "ms_cxr_rows": self.rows,
            "ms_cxr_images": len(self.dicom_ids),
            "ms_cxr_studies": len(self.studies),
            "unresolved_dicom_ids": len(self.unresolved),
            "excluded_images": len(self.excluded),
            "excluded_studies": len({e["study_id"] for e in self.excluded}),
        }
