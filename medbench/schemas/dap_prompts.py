"""The DAP description row: one text description of one disease (paper 000, sec. 4 and app. D).

The DAP trainer prompts each image with a random description of its disease label; this small
table is that description set. ``DAP_PROMPTS_FEATURES`` (HF) and ``DAP_PROMPTS_ARROW_SCHEMA``
(Arrow) are derived from the model in ``medbench.schemas.fields``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from medbench.schemas.fields import Dtype, arrow_schema_for, features_for


class DAPDescriptionRow(BaseModel):
    model_config = ConfigDict(frozen=True)
    __table_row__ = True

    disease: str = Field(description="disease label, as given to the build (e.g. 'atelectasis')")
    description: str = Field(description="one location-free chest X-ray description")
    index: Annotated[int, Dtype("int32")] = Field(ge=0, description="0..n-1 within the disease")
    source: str = Field(description="'template' or '<backend>:<model>:<prompt-id>@<hash>'")
    prompt_id: str = Field(description="id of the prompt template that asked for it")
    prompt_hash: str = Field(description="sha256 of that prompt template's file")


DAP_PROMPTS_FEATURES = features_for(DAPDescriptionRow)
DAP_PROMPTS_ARROW_SCHEMA = arrow_schema_for(DAPDescriptionRow)
