"""Generic readers, one per layout family (research/dataset-layouts.md §2)."""

from medbench.builders.vgmed.families.alternatives import AlternativeLayouts, alternative_layouts
from medbench.builders.vgmed.families.case_dir import CaseDirSource
from medbench.builders.vgmed.families.dicom_png import DicomPngSource, DicomSeriesMasks
from medbench.builders.vgmed.families.dicom_rle import DicomRleSource
from medbench.builders.vgmed.families.native_boxes import NativeBoxSource
from medbench.builders.vgmed.families.paired_2d import Paired2DSource
from medbench.builders.vgmed.families.paired_volume import PairedVolumeSource
from medbench.builders.vgmed.families.per_structure import PerStructureSource
from medbench.builders.vgmed.families.vsd import VsdSource
from medbench.builders.vgmed.families.world_spheres import WorldSphereSource

__all__ = [
    "AlternativeLayouts",
    "alternative_layouts",
    "CaseDirSource",
    "DicomPngSource",
    "DicomRleSource",
    "DicomSeriesMasks",
    "NativeBoxSource",
    "Paired2DSource",
    "PairedVolumeSource",
    "PerStructureSource",
    "VsdSource",
    "WorldSphereSource",
]
