"""The grounding row shared by GMPG-ImaGenome and the chest X-ray grounding benchmarks
(MS-CXR, PadChest-GR, RSNA Pneumonia, COVID Rural): one text query with zero, one or
many boxes on one image (paper 002's generalised phrase grounding).

Images of these credentialed / restricted sources are not redistributed: ``image_path``
points into the user's licensed image store; ``image`` holds bytes only when the build
was asked to embed them (local use).

``image_size_source`` says where ``image_width`` / ``image_height`` came from (``SIZE_SOURCES``):
a reader takes them from the image file's header when it can, else from a table or the mask
that ships with the annotations; a row whose size is unknown has 0 × 0 and ``unknown``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from medbench.schemas.fields import IMAGE, Dtype, FixedLength, arrow_schema_for, features_for

Int32 = Annotated[int, Dtype("int32")]
Float32 = Annotated[float, Dtype("float32")]
Box = Annotated[list[Float32], FixedLength(4), Field(min_length=4, max_length=4)]

# image_size_source values: what each means, and which builders write it
SIZE_SOURCES: dict[str, str] = {
    "jpg-header": "the JPEG file's header (MIMIC-CXR-JPG for GMPG-ImaGenome and MS-CXR, "
    "COVID Rural's jpgs/)",
    "png-header": "the PNG file's header (PadChest-GR)",
    "dicom-header": "the DICOM header's Columns / Rows (RSNA Pneumonia)",
    "image-header": "the header of an image file in another format",
    "jpg-metadata": "Columns / Rows of MIMIC-CXR-JPG's mimic-cxr-2.0.0-metadata.csv(.gz) "
    "(GMPG-ImaGenome, when the JPEG cannot be read)",
    "scene-graph": "a size in the Chest ImaGenome scene graph itself",
    "annotation-csv": "the annotation CSV's image_width / image_height (MS-CXR)",
    "mask": "the segmentation mask's size (COVID Rural, when the image is missing)",
    "unknown": "no size found: image_width = image_height = 0",
}


class CleanupStep(BaseModel):
    """One change the cleanup made to a row: which stage, what it removed, and why."""

    stage: str = Field(description="'specificity', 'negative', 'non-grounding', ...")
    removed: list[str] = Field(description="region / box names removed at this stage")
    decided_by: str = Field(description="the rule or LLM provenance that decided")
    reason: str = ""


class GroundingRow(BaseModel):
    """One query–boxes sample. Boxes are [x1, y1, x2, y2] pixels of the original image
    (exclusive far edges); an empty list means the query grounds to nothing."""

    model_config = ConfigDict(frozen=True)
    __table_row__ = True

    sample_id: str = Field(description="stable hash of dataset, image and query")
    dataset: str = Field(description="gmpg-imagenome, ms-cxr, padchest-gr, rsna-pneumonia, ...")
    image_id: str = Field(description="the source's image id (MIMIC dicom_id, file stem, ...)")
    study_id: str = ""
    subject_id: str = ""
    split: str = Field(description="the source's own split (train, validate, test)")
    image_path: str = Field(description="path relative to the licensed image store")
    image: Annotated[bytes, IMAGE] | None = Field(None, description="only with --embed-images")
    image_width: Int32
    image_height: Int32
    image_size_source: str = Field(
        "", description="where image_width / image_height came from (SIZE_SOURCES)"
    )
    sentence: str = Field(description="the text query (report sentence, phrase or finding)")
    boxes: list[Box] = Field(description="zero, one or many boxes")
    box_names: list[str] = Field(description="one name per box (region or finding label)")
    groundable: bool = Field(description="False for zero-box queries")
    label: str = Field("", description="finding / disease label where the source has one")
    attributes: list[str] = Field(
        default_factory=list,
        description="the sentence's Chest ImaGenome attribute flags, 'category|yes/no|name' "
        "(e.g. 'anatomicalfinding|yes|lung opacity'): the union over its linked regions, sorted; "
        "empty where the source has none",
    )
    original_regions: list[str] = Field(
        default_factory=list, description="regions the source attached before cleanup"
    )
    cleanup: list[CleanupStep] = Field(default_factory=list, description="the cleanup trail")


GROUNDING_FEATURES = features_for(GroundingRow)
GROUNDING_ARROW_SCHEMA = arrow_schema_for(GroundingRow)
