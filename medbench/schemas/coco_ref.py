"""The COCO reference-set row: one image–box–question triplet from a COCO instance.

The natural-image counterpart of ``VGMEDRow`` (paper 001, sec. 2.1): the same question
columns, with COCO's own identifiers as provenance. Each image–box pair yields two rows
sharing ``pair_id``: one localization and one attribute question.
``COCO_REF_FEATURES`` (HF) and ``COCO_REF_ARROW_SCHEMA`` (Arrow) are derived from the model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from medbench.schemas.fields import IMAGE, FixedLength, arrow_schema_for, features_for
from medbench.schemas.vgmed import Box, Float32, Int32


class CocoRefRow(BaseModel):
    """One COCO reference sample. ``bbox`` is [x1, y1, x2, y2] in pixels of the stored image,
    x2/y2 exclusive edges (COCO's [x, y, w, h] → [x, y, x + w, y + h]), clipped to the image."""

    model_config = ConfigDict(frozen=True)
    __table_row__ = True

    sample_id: str = Field(description="stable hash of the pair id and question type")
    pair_id: str = Field(description="stable hash of the COCO image and annotation ids")
    image: Annotated[bytes, IMAGE] = Field(
        description="the COCO file's own bytes (JPEG), or a lossless PNG of its stored pixels "
        "when the file carries an EXIF orientation (see image_note)"
    )
    image_width: Int32
    image_height: Int32
    bbox: Box
    label: str = Field(description="COCO category name, e.g. 'traffic light'")
    supercategory: str = Field(description="COCO supercategory, e.g. 'outdoor'")
    question: str
    question_type: Literal["localization", "attribute"]
    question_source: str = Field(
        description="'template', or '<backend>:<model>:<prompt id>@<prompt hash>'"
    )
    # provenance
    coco_split: str = Field(description="the COCO split read, e.g. 'val2017'")
    coco_image_id: int
    coco_annotation_id: int
    coco_category_id: Int32
    coco_bbox: Annotated[list[Float32], FixedLength(4), Field(min_length=4, max_length=4)] = Field(
        description="the annotation's bbox as shipped: [x, y, width, height]"
    )
    coco_area: Float32 = Field(description="the annotation's segmentation area in pixels")
    file_name: str = Field(description="image path relative to the COCO root, e.g. 'val2017/…'")
    image_format: str = Field(description="format of the stored bytes: 'JPEG' or 'PNG'")
    image_note: str = Field(description="why the bytes differ from the file's, '' if they don't")
    image_license: str = Field(description="the photo's licence as the COCO file names it")
    image_license_url: str
    flickr_url: str


COCO_REF_FEATURES = features_for(CocoRefRow)
COCO_REF_ARROW_SCHEMA = arrow_schema_for(CocoRefRow)
