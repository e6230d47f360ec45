"""Structured outputs the prompts ask for, by the name in each template's ``output`` field.

Each model validates the shape (pydantic) and, through ``problems(variables)``, what only
the request knows (how many descriptions were asked for, which regions were given). A
non-empty list of problems is fed back to the model as a repair request.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _clean(text: str) -> str:
    return " ".join(text.split())


class _Output(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def problems(self, variables: dict[str, Any]) -> list[str]:
        return []


class AttributeQuestions(_Output):
    """Paper 001 app. I.1: exactly three questions per (modality, label)."""

    questions: list[str] = Field(min_length=3, max_length=3)

    @field_validator("questions")
    @classmethod
    def _distinct_questions(cls, value: list[str]) -> list[str]:
        value = [_clean(q) for q in value]
        if any(not q for q in value):
            raise ValueError("a question is empty")
        if len({q.lower() for q in value}) != len(value):
            raise ValueError("the three questions must differ")
        return value


class AttributeQuestion(_Output):
    """Paper 001 fig. I.11 (COCO): one question."""

    question: str = Field(min_length=3)

    @field_validator("question")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return _clean(value)


class DiseaseDescriptions(_Output):
    """Paper 000 app. D: ``count`` distinct descriptions of one disease."""

    descriptions: list[str] = Field(min_length=1)

    @field_validator("descriptions")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        value = [_clean(d) for d in value]
        if any(not d for d in value):
            raise ValueError("a description is empty")
        return value

    def problems(self, variables: dict[str, Any]) -> list[str]:
        wanted = int(variables.get("count", len(self.descriptions)))
        if len(self.descriptions) != wanted:
            return [f"{len(self.descriptions)} descriptions given, {wanted} asked for"]
        return []


class RegionSpecificity(_Output):
    """Chest ImaGenome stage-1 cleanup: the given regions split into keep and discard."""

    keep: list[str] = Field(min_length=1)
    discard: list[str] = []

    def problems(self, variables: dict[str, Any]) -> list[str]:
        given = list(variables.get("regions", []))
        answered = self.keep + self.discard
        problems = []
        invented = sorted(set(answered) - set(given))
        missing = sorted(set(given) - set(answered))
        if invented:
            problems.append(f"regions not in the list: {', '.join(invented)}")
        if missing:
            problems.append(f"regions left out: {', '.join(missing)}")
        if set(self.keep) & set(self.discard):
            problems.append("a region is both kept and discarded")
        return problems


OUTPUT_MODELS: dict[str, type[_Output]] = {
    "attribute_questions": AttributeQuestions,
    "attribute_question": AttributeQuestion,
    "disease_descriptions": DiseaseDescriptions,
    "region_specificity": RegionSpecificity,
}


@cache  # pydantic rebuilds the schema on every call: ~0.15 ms, per request
def output_schema(name: str) -> dict[str, Any]:
    return output_model(name).model_json_schema()


def output_model(name: str) -> type[_Output]:
    try:
        return OUTPUT_MODELS[name]
    except KeyError:
        raise KeyError(f"unknown output {name!r}; known: {', '.join(OUTPUT_MODELS)}") from None
