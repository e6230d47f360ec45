"""What a source reader hands to the extractor: case references and loaded cases."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from medbench.imaging.volume import DisplayVolume


class CaseError(Exception):
    """A case that cannot be converted; the message is one line naming the file."""


@dataclass(frozen=True)
class CaseRef:
    """A discovered case: enough to load it in another process (picklable)."""

    case_id: str
    files: tuple[tuple[str, str], ...]  # (role, path relative to the dataset folder)
    extra: tuple[tuple[str, object], ...] = ()

    def file(self, role: str) -> str:
        return next(path for r, path in self.files if r == role)

    def files_for(self, prefix: str) -> list[tuple[str, str]]:
        return [(r, p) for r, p in self.files if r.startswith(prefix)]

    def get(self, key: str, default: object = None) -> object:
        return next((v for k, v in self.extra if k == key), default)


@dataclass(frozen=True)
class Skip:
    """Something left out of the build, and why. Every drop is listed in the report."""

    dataset: str
    case_id: str  # '' for dataset-level items (e.g. junk files found during discovery)
    item: str  # a relative path, a label, or a label@slice
    reason: str


@dataclass
class LabelLayer:
    """A label volume in display layout with the names of its values.

    ``array`` is (Z, H, W) integer; ``names`` maps stored values to medbench names;
    ``source_labels`` says how each value is written in the source (id or file name).
    Values present in ``array`` but absent from ``names`` are reported and skipped.
    """

    array: np.ndarray
    names: dict[int, str]
    source_labels: dict[int, str]


@dataclass(frozen=True)
class NativeBox:
    """A box shipped by the source itself (e.g. SLAKE detection.json), in source pixels."""

    label: str
    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    source_label: str
    slice_index: int = 0


@dataclass
class LoadedCase:
    """Images (by channel; '' when single) and labels of one case, in display layout."""

    images: dict[str, DisplayVolume]
    layers: Callable[[], Iterator[LabelLayer]] | Iterable[LabelLayer] = ()
    native_boxes: list[NativeBox] = field(default_factory=list)
    source_path: str = ""
    slice_axis: str = "axial"
    modality: str | None = None  # overrides the spec's (AMOS by id, SLAKE per image)
    body_part: str | None = None
    skipped: list[Skip] = field(default_factory=list)

    def iter_layers(self) -> Iterator[LabelLayer]:
        layers = self.layers() if callable(self.layers) else self.layers
        yield from layers
