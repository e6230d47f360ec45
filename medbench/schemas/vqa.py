"""The Med-VQA benchmark row (VQA-RAD, SLAKE, PathVQA, PMC-VQA, OmniMedVQA, MMMU Health &
Medicine), as paper 001 sec. 4 evaluates them: one question about an image (MMMU: about one
or more images), closed-ended (options or yes/no) or open-ended."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from medbench.schemas.fields import IMAGE, Dtype, arrow_schema_for, features_for

Int32 = Annotated[int, Dtype("int32")]

BENCHMARKS = ("vqa-rad", "slake", "pathvqa", "pmc-vqa", "omnimedvqa", "mmmu-med")


class VQARow(BaseModel):
    """One Med-VQA sample. Closed questions with options give the options in the order the
    prompt letters them (A, B, C, ...) and ``answer_index`` into them; yes/no questions
    have options ``["yes", "no"]``; open questions have no options.

    A question about several images (MMMU) has the first in ``image`` and the others in
    ``extra_images``, in order: its ``<image k>`` is image k of ``(image, *extra_images)``.
    Readers that know one image per row keep working on ``image``."""

    model_config = ConfigDict(frozen=True)
    __table_row__ = True

    sample_id: str = Field(description="stable hash of benchmark, split and source id")
    benchmark: str = Field(description="one of " + ", ".join(BENCHMARKS))
    split: str = Field(description="the benchmark's own split name (test, val, ...)")
    source_id: str = Field(description="the question's id in the benchmark's files")
    image: Annotated[bytes, IMAGE] = Field(description="image bytes as shipped (PNG/JPEG)")
    image_name: str = Field(description="image file name as shipped")
    extra_images: list[Annotated[bytes, IMAGE]] = Field(
        default_factory=list,
        description="images 2, 3, ... of a multi-image question (MMMU), in order; empty "
        "for one image",
    )
    question: str
    options: list[str] = Field(description="closed questions: the options, in prompt order")
    answer: str = Field(description="the ground-truth answer text")
    answer_index: Int32 | None = Field(None, description="index of the answer in options")
    answer_type: Literal["closed", "open"]
    question_type: str = Field("", description="the benchmark's own question category")
    modality: str = Field("", description="imaging modality where the benchmark gives it")
    body_part: str = Field("", description="organ / body part where the benchmark gives it")
    subset: str = Field("", description="sub-benchmark (OmniMedVQA source, MMMU subject)")
    language: str = Field("en", description="SLAKE ships English and Chinese questions")

    @field_validator("extra_images", mode="before")
    @classmethod
    def _stored_cells(cls, value: Any) -> Any:
        # as a shard stores them ({bytes, path}); readers hand top-level images over as bytes
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return [_cell_bytes(item) for item in value]
        return value

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # no extra images, no key: a one-image row dumps (and so digests, and hits the eval
        # cache) exactly as before the field existed; validation restores the empty list
        data = handler(self)
        if not self.extra_images:
            data.pop("extra_images", None)
        return data


def _cell_bytes(item: Any) -> Any:
    if isinstance(item, dict):
        if item.get("bytes") is None:
            raise ValueError(f"extra image {item.get('path')!r} has no bytes")
        return bytes(item["bytes"])
    return item


VQA_FEATURES = features_for(VQARow)
VQA_ARROW_SCHEMA = arrow_schema_for(VQARow)
