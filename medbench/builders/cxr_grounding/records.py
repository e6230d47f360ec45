"""What a benchmark reader hands to the shared writer: grounding rows (without image bytes),
the image file behind each row, and everything left out or found wrong, with its reason.

Readers never decode images: sizes come from the image header (DICOM Rows/Columns, or
Pillow's header parse) through :class:`ImageStore`, which also records every image that is
missing or unreadable and what became of its rows.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from PIL import Image

from medbench.imaging.boxes import box_area, clip_box
from medbench.imaging.errors import ImageReadError
from medbench.schemas.gmpg import GroundingRow


class BuildError(Exception):
    """The inputs cannot be built at all (annotation file missing or malformed): exit 2."""


@dataclass(frozen=True)
class SourceInfo:
    """One benchmark's provenance and terms, in the shape ``medbench publish`` checks."""

    id: str
    title: str
    license: str
    homepage: str
    terms: str
    credentialed: bool
    redistributable: bool
    citation: str
    image_store: str  # what --image-root must point at, in words


@dataclass(frozen=True)
class Skip:
    """An annotation item left out of the build: ``item`` names it in the source's terms."""

    item: str
    kind: str
    reason: str


@dataclass(frozen=True)
class ImageIssue:
    """An image a row refers to that is missing or unreadable, and what happened to its rows."""

    image_path: str  # relative to the image root
    problem: str  # "missing" or "unreadable: <reason>"
    outcome: str  # "rows written (size from ...)" or "rows skipped (size unknown)"


@dataclass(frozen=True)
class Sample:
    """A row without image bytes, and the image file to embed on request (None: unavailable)."""

    row: GroundingRow
    image_file: Path | None


@dataclass
class ReadResult:
    samples: list[Sample]
    skipped: list[Skip]
    image_issues: list[ImageIssue]
    inputs: dict[str, Path]  # role -> annotation file read
    image_root: Path | None
    notes: Counter = field(default_factory=Counter)  # clipped boxes, rescaled images, ...


@dataclass(frozen=True)
class Probe:
    path: Path | None  # the readable file, or None
    size: tuple[int, int] | None  # (width, height) from the header
    problem: str | None  # None when readable

    @property
    def size_source(self) -> str:
        """The rows' ``image_size_source`` when they take ``size``."""
        return header_source(self.path) if self.path is not None and self.size else "unknown"


_HEADER_SOURCES = {
    ".dcm": "dicom-header",
    ".png": "png-header",
    ".jpg": "jpg-header",
    ".jpeg": "jpg-header",
}


def header_source(path: Path) -> str:
    """The ``image_size_source`` of a size ``header_size`` read from ``path``."""
    return _HEADER_SOURCES.get(path.suffix.lower(), "image-header")


def header_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file header: DICOM Rows/Columns, else Pillow's lazy open."""
    try:
        if path.suffix.lower() == ".dcm":
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            if "Rows" not in ds or "Columns" not in ds:
                raise ImageReadError(path, "DICOM header lacks Rows/Columns")
            return int(ds.Columns), int(ds.Rows)
        with Image.open(path) as img:  # parses the header only; pixels stay undecoded
            return int(img.size[0]), int(img.size[1])
    except ImageReadError:
        raise
    except FileNotFoundError as exc:
        raise ImageReadError(path, "file not found") from exc
    except Exception as exc:  # pydicom and Pillow raise many types on damaged files
        raise ImageReadError(path, f"cannot read header ({type(exc).__name__}: {exc})") from exc


class ImageStore:
    """The user's licensed image store: header sizes, cached per image, and the issue list."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.issues: dict[str, ImageIssue] = {}
        self._probes: dict[str, Probe] = {}

    def probe(self, rel: str) -> Probe:
        if rel not in self._probes:
            self._probes[rel] = self._probe(rel)
        return self._probes[rel]

    def _probe(self, rel: str) -> Probe:
        if self.root is None:
            return Probe(None, None, None)  # images not checked (no store given)
        path = self.root / rel
        if not path.is_file():
            return Probe(None, None, "missing")
        try:
            return Probe(path, header_size(path), None)
        except ImageReadError as exc:
            return Probe(None, None, f"unreadable: {exc.reason}")

    def report(self, rel: str, outcome: str) -> None:
        """List a missing/unreadable image once, with what became of its rows."""
        problem = self.probe(rel).problem
        if problem is not None and rel not in self.issues:
            self.issues[rel] = ImageIssue(rel, problem, outcome)


def finish_boxes(
    boxes: Sequence[Sequence[float]], width: int, height: int, notes: Counter
) -> tuple[list[list[float]], int]:
    """Clip pixel boxes to the image; drop zero-area ones. Returns (kept, dropped)."""
    kept: list[list[float]] = []
    dropped = 0
    for box in boxes:
        clipped = clip_box(box, width, height)
        if box_area(clipped) <= 0:
            dropped += 1
            continue
        if clipped != tuple(float(v) for v in box):
            notes["boxes_clipped"] += 1
        kept.append(list(clipped))
    return kept, dropped


def box_count_bucket(n: int) -> str:
    return "2+" if n >= 2 else str(n)


def csv_records(text: str, source: Path, required: Iterable[str]) -> tuple[list[dict], set[str]]:
    """The rows of a benchmark's CSV (``text``, BOM already stripped) and its column names;
    BuildError naming ``source`` when a required column is missing."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or [])
    missing = [c for c in required if c not in columns]
    if missing:
        raise BuildError(f"{source}: missing column(s) {', '.join(missing)}")
    return list(reader), columns


def read_csv(path: Path, required: Iterable[str]) -> tuple[list[dict], set[str]]:
    """``csv_records`` of a file (UTF-8, with or without a BOM)."""
    # newline="": line ends inside quoted cells reach the csv module as written
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return csv_records(fh.read(), path, required)


def csv_number(value: str | None) -> float | None:
    """A CSV cell as a float; None when empty or not a number (the caller lists the row)."""
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
