"""What a replica planted, so tests can check that a converter finds it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedStructure:
    """One structure planted in a replica case.

    ``side`` is the PATIENT's side (3D sources only). ``extent_mm`` is the full extent along
    patient left-right and anterior-posterior, in mm, at the structure's largest axial
    cross-section (3D sources). ``extent_px`` is (width, height) in pixels of the 2D image
    as shipped (2D sources).
    """

    dataset: str
    case_key: str
    label: str
    side: str | None
    extent_mm: tuple[float, float] | None
    extent_px: tuple[float, float] | None
