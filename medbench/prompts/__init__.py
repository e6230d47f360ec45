"""Versioned prompt and question templates, each identified by the hash of its text."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from medbench.prompts.templates import (
    PromptTemplate,
    PromptTemplateError,
    UnknownTemplateError,
    attribute_template_id,
    list_templates,
    load_template,
    load_template_file,
)

__all__ = [
    "PromptFile",
    "PromptTemplate",
    "PromptTemplateError",
    "UnknownTemplateError",
    "attribute_template_id",
    "list_templates",
    "load_prompt",
    "load_template",
    "load_template_file",
]


@dataclass(frozen=True)
class PromptFile:
    name: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]

    def yaml(self):
        return yaml.safe_load(self.text)


@cache
def load_prompt(filename: str) -> PromptFile:
    text = resources.files("medbench.prompts").joinpath(filename).read_text(encoding="utf-8")
    return PromptFile(filename, text)
