"""The source registry: every dataset medbench can convert, by id.

Specs are grouped by layout family, one module per family; each entry is a short
declaration over that family's generic reader.
"""

from __future__ import annotations

from medbench.builders.vgmed.sources import (
    abdomen_ct,
    brain_mr,
    case_dir,
    dicom_png,
    dicom_rle,
    final_batch,
    more_volumes,
    native_boxes,
    paired_2d,
    paired_volume,
    per_structure,
    photo_2d,
    vsd,
)
from medbench.builders.vgmed.spec import SourceSpec

_MODULES = (
    paired_volume,
    abdomen_ct,
    brain_mr,
    more_volumes,
    final_batch,
    case_dir,
    vsd,
    per_structure,
    dicom_png,
    dicom_rle,
    paired_2d,
    photo_2d,
    native_boxes,
)

SOURCES: dict[str, SourceSpec] = {spec.id: spec for m in _MODULES for spec in m.SPECS}


def get_source(dataset_id: str) -> SourceSpec:
    try:
        return SOURCES[dataset_id]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise KeyError(f"unknown dataset {dataset_id!r}; known: {known}") from None


def select_sources(ids: list[str] | None) -> list[SourceSpec]:
    """Specs for ``ids`` (all, sorted by id, when None or empty)."""
    if not ids:
        return [SOURCES[k] for k in sorted(SOURCES)]
    return [get_source(i) for i in ids]
