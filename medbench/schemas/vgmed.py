"""The VGMED row: one image–box–question triplet.

This pydantic model is the single definition; ``VGMED_FEATURES`` (HF) and
``VGMED_ARROW_SCHEMA`` (Arrow) are derived from it in ``medbench.schemas.fields``.
Each image–box pair yields two rows sharing ``pair_id``: one localization and one
attribute question.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from medbench.schemas.fields import IMAGE, Dtype, FixedLength, arrow_schema_for, features_for

Int32 = Annotated[int, Dtype("int32")]
Float32 = Annotated[float, Dtype("float32")]
Box = Annotated[list[Float32], FixedLength(4), Field(min_length=4, max_length=4)]


class ClinicianReview(BaseModel):
    """Ratings 1–5 on the clinician scale of paper 001, app. R (null when not reviewed)."""

    clinical_relevance: Annotated[int, Dtype("int8")] | None = None
    visual_grounding: Annotated[int, Dtype("int8")] | None = None
    minimum_semantic_grounding: Annotated[int, Dtype("int8")] | None = None


class VGMEDRow(BaseModel):
    """One VGMED sample. Boxes are [x1, y1, x2, y2] pixels of the stored image (x2, y2
    exclusive edges: a one-pixel structure at column 5 has x1=5, x2=6)."""

    model_config = ConfigDict(frozen=True)
    __table_row__ = True

    sample_id: str = Field(description="stable hash of the row's content keys")
    pair_id: str = Field(description="stable hash of the image–box pair; shared by its questions")
    image: Annotated[bytes, IMAGE] = Field(description="8-bit PNG")
    image_width: Int32
    image_height: Int32
    bbox: Box
    label: str = Field(description="organ or lesion name in medbench's vocabulary")
    question: str
    question_type: Literal["localization", "attribute"]
    question_source: str = Field(description="'template' or 'llm:<model>@<prompt-hash>'")
    modality: str
    body_part: str
    dataset: str
    case_id: str
    # provenance
    source_path: str = Field(description="image file(s) relative to the dataset folder")
    source_label: str = Field(description="the label as stored in the source (id or file)")
    channel: str = Field(description="MR sequence / PET channel rendered, '' if single")
    slice_axis: str = Field(description="'axial' for reoriented volumes, 'file:<k>', or 'none'")
    slice_index: Int32
    num_slices: Int32
    intensity: str = Field(description="window or normalisation used, e.g. 'ct:abdomen:40/400'")
    spacing_mm: Annotated[list[Float32], FixedLength(3), Field(min_length=3, max_length=3)] = Field(
        description="(slice, row, column) voxel size of the source in mm, after reorientation"
    )
    source_size: Annotated[list[Int32], FixedLength(3), Field(min_length=3, max_length=3)] = Field(
        description="(slices, rows, columns) of the source before square-pixel resampling"
    )
    box_mode: Literal["union", "components", "native"]
    structure_area_px: Int32 = Field(description="foreground pixels inside this box's mask")
    review: ClinicianReview | None = None


VGMED_FEATURES = features_for(VGMEDRow)
VGMED_ARROW_SCHEMA = arrow_schema_for(VGMEDRow)
