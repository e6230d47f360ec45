"""Questions for image–box pairs: localization from the paper's ten templates, attribute
questions from a source asked once per unique (modality, label).

The attribute source is pluggable: ``TemplateAttributeSource`` works offline; the LLM
source (served Llama-3 / any OpenAI-compatible endpoint) implements the same protocol.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from medbench.builders.vgmed.extract import stable_hash
from medbench.prompts import load_prompt

LOCALIZATION_FILE = "vgmed_localization.txt"
ATTRIBUTE_TEMPLATES_FILE = "vgmed_attribute_templates.yaml"
QUESTIONS_PER_PAIR = 3  # the paper's prompt asks for exactly three per label


def localization_templates() -> list[str]:
    return load_prompt(LOCALIZATION_FILE).lines()


def localization_question(label: str, pair_id: str, seed: int) -> str:
    templates = localization_templates()
    index = int(stable_hash(seed, "localization", pair_id), 16) % len(templates)
    return templates[index].format(label=label)


class AttributeQuestionSource(Protocol):
    """Gives ``QUESTIONS_PER_PAIR`` attribute questions for each (modality, label)."""

    @property
    def tag(self) -> str: ...  # goes into question_source

    def questions(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]: ...


class TemplateAttributeSource:
    """Offline attribute questions drawn, with the seed, from per-modality templates."""

    tag = "template"

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.templates: dict[str, list[str]] = load_prompt(ATTRIBUTE_TEMPLATES_FILE).yaml()

    def templates_for(self, modality: str) -> list[str]:
        if modality in self.templates:
            return self.templates[modality]
        lowered = {k.lower(): v for k, v in self.templates.items()}
        return lowered.get(modality.lower(), self.templates["CT"])

    def questions(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        out = {}
        for modality, label in sorted(set(pairs)):
            pool = self.templates_for(modality)
            order = sorted(pool, key=lambda t: stable_hash(self.seed, modality, label, t))
            out[(modality, label)] = [t.format(label=label) for t in order[:QUESTIONS_PER_PAIR]]
        return out


def attribute_question(options: list[str], pair_id: str, seed: int) -> str:
    """One of the (modality, label)'s questions for this pair, chosen with the seed."""
    return options[int(stable_hash(seed, "attribute", pair_id), 16) % len(options)]
