"""The Med-VQA benchmark row (VQA-RAD, SLAKE, PathVQA, PMC-VQA, OmniMedVQA, MMMU Health &
Medicine), as paper 001 sec. 4 evaluates them: one question about one image, closed-ended
(options or yes/no) or open-ended."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from medbench.schemas.fields import IMAGE, Dtype, arrow_schema_for, features_for

Int32 = Annotated[int, Dtype("int32")]

BENCHMARKS = ("vqa-rad", "slake", "pathvqa", "pmc-vqa", "omnimedvqa", "mmmu-med")


class VQARow(BaseModel):
    """One Med-VQA sample. Closed questions with options give the options in the order the
    prompt letters them (A, B, C, ...) and ``answer_index`` into them; yes/no questions
    have options ``["yes", "no"]``; open questions have no options."""

    model_config = ConfigDict(frozen=True)
    __table_row__ = True

    sample_id: str = Field(description="stable hash of benchmark, split and source id")
    benchmark: str = Field(description="one of " + ", ".join(BENCHMARKS))
    split: str = Field(description="the benchmark's own split name (test, val, ...)")
    source_id: str = Field(description="the question's id in the benchmark's files")
    image: Annotated[bytes, IMAGE] = Field(description="image bytes as shipped (PNG/JPEG)")
    image_name: str = Field(description="image file name as shipped")
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


VQA_FEATURES = features_for(VQARow)
VQA_ARROW_SCHEMA = arrow_schema_for(VQARow)
