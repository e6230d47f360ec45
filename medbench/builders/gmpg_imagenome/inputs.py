"""The tables around the scene graphs: Chest ImaGenome's official splits and
``images_to_avoid.csv``, and image sizes from MIMIC-CXR-JPG.

Splits: ``silver_dataset/splits/{train,valid,test}.csv``, columns
``,subject_id,study_id,dicom_id,path,ViewPosition`` (``path`` is the MIMIC-CXR DICOM path,
``files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.dcm``). Each CSV's file stem is the split name.
``images_to_avoid.csv`` (same folder) lists the gold-standard images, which Chest ImaGenome says
to keep out of training and validation: they are dropped from train/valid, kept in test.

Image sizes, first that answers: the JPEG header of ``<mimic-jpg>/files/.../<dicom_id>.jpg``
(only the header is read); the ``Rows``/``Columns`` of MIMIC-CXR-JPG's
``mimic-cxr-2.0.0-metadata.csv(.gz)``; a size in the scene graph itself (none is known to exist);
else 0 × 0, meaning unknown (boxes are then clipped at 0 only; read the size from the image).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

AVOID_FILE = "images_to_avoid.csv"
AVOID_SPLITS = frozenset({"train", "valid", "validate", "val"})
METADATA_FILES = ("mimic-cxr-2.0.0-metadata.csv.gz", "mimic-cxr-2.0.0-metadata.csv")


class InputError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ImageEntry:
    split: str
    subject_id: str
    study_id: str
    jpg_path: str  # relative into MIMIC-CXR-JPG: files/pXX/pXXXXXXXX/sXXXXXXXX/<dicom_id>.jpg


def _rows(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        yield from csv.DictReader(fh)


def _strip_id(value: str | None, prefix: str) -> str:
    value = (value or "").strip()
    if value.endswith(".0"):  # pandas-written ids
        value = value[:-2]
    return value[1:] if value.startswith(prefix) else value


def jpg_path(subject_id: str, study_id: str, dicom_id: str) -> str:
    return f"files/p{subject_id[:2]}/p{subject_id}/s{study_id}/{dicom_id}.jpg"


@dataclass
class SplitIndex:
    entries: dict[str, ImageEntry] = field(default_factory=dict)
    avoid: frozenset[str] = frozenset()
    split_names: list[str] = field(default_factory=list)
    rows_per_split: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)  # dicom ids listed in two splits
    folder: Path | None = None

    @classmethod
    def load(cls, imagenome_root: Path) -> SplitIndex:
        root = Path(imagenome_root)
        folder = next(
            (f for f in (root / "silver_dataset" / "splits", root / "splits") if f.is_dir()), None
        )
        if folder is None:
            raise InputError(f"{root}: no silver_dataset/splits/ folder")
        index = cls(folder=folder)
        files = sorted(p for p in folder.glob("*.csv") if p.name != AVOID_FILE)
        if not files:
            raise InputError(f"{folder}: no split CSVs")
        for path in files:
            split = path.stem
            index.split_names.append(split)
            count = 0
            for row in _rows(path):
                dicom = (row.get("dicom_id") or "").strip()
                if not dicom:
                    continue
                subject = _strip_id(row.get("subject_id"), "p")
                study = _strip_id(row.get("study_id"), "s")
                rel = (row.get("path") or "").strip()
                rel = rel[: -len(".dcm")] + ".jpg" if rel.endswith(".dcm") else rel
                if not rel.endswith(f"/{dicom}.jpg"):  # no usable MIMIC path: build it
                    rel = jpg_path(subject, study, dicom)
                if dicom in index.entries:
                    index.conflicts.append(dicom)
                    continue
                index.entries[dicom] = ImageEntry(split, subject, study, rel)
                count += 1
            index.rows_per_split[split] = count
        avoid = folder / AVOID_FILE
        if avoid.is_file():
            index.avoid = frozenset(
                d for d in ((r.get("dicom_id") or "").strip() for r in _rows(avoid)) if d
            )
        return index

    def study_of(self, dicom_id: str) -> str | None:
        entry = self.entries.get(dicom_id)
        return entry.study_id if entry else None


class ImageSizes:
    """(width, height) of MIMIC-CXR-JPG images, and where each answer came from."""

    def __init__(self, mimic_jpg: Path | None):
        self.root = Path(mimic_jpg) if mimic_jpg else None
        self._prefix = f"{self.root}/" if self.root else ""
        self._metadata: dict[str, tuple[int, int]] | None = None
        self.metadata_file: str | None = None

    def _load_metadata(self) -> dict[str, tuple[int, int]]:
        if self._metadata is None:
            self._metadata = {}
            for name in METADATA_FILES:
                path = self.root / name if self.root else None
                if path is not None and path.is_file():
                    self.metadata_file = name
                    for row in _rows(path):
                        try:
                            size = (int(float(row["Columns"])), int(float(row["Rows"])))
                        except (KeyError, TypeError, ValueError):
                            continue
                        self._metadata[(row.get("dicom_id") or "").strip()] = size
                    break
        return self._metadata

    def size(
        self, dicom_id: str, rel_path: str, graph_size: tuple[int, int] | None
    ) -> tuple[tuple[int, int] | None, str]:
        if self.root is not None:
            try:
                with Image.open(self._prefix + rel_path) as im:
                    return im.size, "jpg-header"
            except (OSError, ValueError, Image.DecompressionBombError):
                pass
            hit = self._load_metadata().get(dicom_id)
            if hit is not None:
                return hit, "jpg-metadata"
        if graph_size is not None:
            return graph_size, "scene-graph"
        return None, "unknown"
