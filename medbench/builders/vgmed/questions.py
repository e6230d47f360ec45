"""Questions for image–box pairs: localization from the paper's ten templates, attribute
questions from a source asked once per unique (modality, label).

Attribute questions come through the LLM layer (``medbench.llm``): an OpenAI-compatible
server, vLLM's offline engine, or the offline template backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from medbench.builders.vgmed.extract import stable_hash
from medbench.llm.runner import LLMClient, LLMRequest
from medbench.llm.settings import LLMSettings
from medbench.llm.template_backend import TemplateBackend
from medbench.prompts import load_prompt
from medbench.prompts.templates import attribute_template_id, load_template

LOCALIZATION_FILE = "vgmed_localization.txt"
QUESTIONS_PER_PAIR = 3  # the paper's prompt asks for exactly three per label


def localization_templates() -> list[str]:
    return load_prompt(LOCALIZATION_FILE).lines()


def localization_question(label: str, pair_id: str, seed: int) -> str:
    templates = localization_templates()
    index = int(stable_hash(seed, "localization", pair_id), 16) % len(templates)
    return templates[index].format(label=label)


@dataclass(frozen=True)
class AttributeOptions:
    """The questions of one (modality, label) and what wrote them (``question_source``)."""

    questions: list[str]
    source: str


@dataclass(frozen=True)
class AttributeFailure:
    modality: str
    label: str
    reason: str


# Paper 001's prompts say "a {modality} image"; the spec names read badly there.
MODALITY_IN_PROMPT = {"MR": "MRI"}


class AttributeQuestionSource:
    """Asks the LLM layer once per unique (modality, label) for three attribute questions
    (paper 001 app. I.1); the offline template backend answers from medbench's templates.
    A pair whose request failed (after retries and repairs) falls back to the templates,
    with ``question_source`` saying so, and is listed in ``failures``."""

    def __init__(self, client: LLMClient):
        self.client = client
        self.failures: list[AttributeFailure] = []
        self.requests = 0

    @property
    def tag(self) -> str:
        """The source as the manifest and card name it."""
        settings = self.client.settings
        return (
            "template" if settings.backend == "template" else f"{settings.backend}:{settings.model}"
        )

    def questions(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], AttributeOptions]:
        unique = sorted(set(pairs))
        requests = [
            LLMRequest.of(
                load_template(attribute_template_id(modality)),
                modality=MODALITY_IN_PROMPT.get(modality, modality),
                label=label,
            )
            for modality, label in unique
        ]
        self.requests = len(requests)
        results = self.client.run(requests, "attribute questions")
        fallback = TemplateBackend(self.client.seed)
        out = {}
        for (modality, label), result in zip(unique, results, strict=True):
            if result.output is not None:
                questions = list(result.output.questions)  # type: ignore[attr-defined]
                out[(modality, label)] = AttributeOptions(
                    questions, self.client.provenance(result.request.template)
                )
                continue
            self.failures.append(AttributeFailure(modality, label, result.error or "no answer"))
            questions = fallback.questions_for(modality, label, QUESTIONS_PER_PAIR)
            out[(modality, label)] = AttributeOptions(questions, "template (llm failed)")
        return out

    def summary(self) -> dict:
        """For the manifest: requests made, cache hits, tokens, failures."""
        stats = self.client.stats.as_dict()
        stats["unique_pairs"] = self.requests
        stats["failed_pairs"] = [
            {"modality": f.modality, "label": f.label, "reason": f.reason} for f in self.failures
        ]
        return stats


def template_attribute_source(seed: int = 0) -> AttributeQuestionSource:
    """The offline source: no model, no cache."""
    return AttributeQuestionSource(LLMClient(LLMSettings(backend="template"), seed=seed))


def attribute_question(options: list[str], pair_id: str, seed: int) -> str:
    """One of the (modality, label)'s questions for this pair, chosen with the seed."""
    return options[int(stable_hash(seed, "attribute", pair_id), 16) % len(options)]


def pair_question(
    index: int, label: str, pair_id: str, options: AttributeOptions, seed: int
) -> tuple[str, str, str]:
    """(question_type, question, question_source) of row ``index`` of a two-rows-per-pair
    table: even rows ask the localization question, odd rows the attribute question."""
    if index % 2 == 0:
        return "localization", localization_question(label, pair_id, seed), "template"
    return "attribute", attribute_question(options.questions, pair_id, seed), options.source
