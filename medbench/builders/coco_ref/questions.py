"""Attribute questions for COCO categories through the LLM layer (``coco-attribute`` prompt,
paper 001 fig. I.11), asked once per unique category label, never per image.

The prompt asks for ONE question, so by default every pair of a category gets that
category's question. ``per_label = K > 1`` asks K times per label, request k with sampling
``{"seed": k, "temperature": VARIETY_TEMPERATURE}`` (the prompt's own temperature is 0, which
would give K copies of one answer), and each pair picks one of the distinct answers with the
build seed. The offline template backend ignores sampling: it gives one question per label.
"""

from __future__ import annotations

from collections.abc import Iterable

from medbench.builders.vgmed.questions import AttributeFailure, AttributeOptions
from medbench.llm.runner import LLMClient, LLMRequest
from medbench.llm.settings import LLMSettings
from medbench.llm.template_backend import COCO_MODALITY, TemplateBackend
from medbench.prompts import load_template

PROMPT_ID = "coco-attribute"
VARIETY_TEMPERATURE = 0.7


class CocoAttributeSource:
    """One request per (label, k) for k < ``per_label``; a label whose requests all failed
    falls back to the offline templates, with ``question_source`` saying so, and is listed in
    ``failures`` (as is any single failed request of a label that still got an answer)."""

    def __init__(self, client: LLMClient, per_label: int = 1):
        if per_label < 1:
            raise ValueError("per_label must be at least 1")
        self.client = client
        self.per_label = per_label
        self.failures: list[AttributeFailure] = []
        self.fallback_labels: set[str] = set()
        self.labels = 0
        self.requests = 0

    @property
    def template(self):
        return load_template(PROMPT_ID)

    @property
    def tag(self) -> str:
        """The source as the manifest and card name it."""
        settings = self.client.settings
        return (
            "template" if settings.backend == "template" else f"{settings.backend}:{settings.model}"
        )

    def sampling(self, k: int) -> dict | None:
        if self.per_label == 1:
            return None  # the prompt's own settings, as the paper's prompt is written
        return {"seed": k, "temperature": VARIETY_TEMPERATURE}

    def questions(self, labels: Iterable[str]) -> dict[str, AttributeOptions]:
        unique = sorted(set(labels))
        template = self.template
        requests = [
            LLMRequest.of(template, sampling=self.sampling(k), label=label)
            for label in unique
            for k in range(self.per_label)
        ]
        self.labels, self.requests = len(unique), len(requests)
        results = self.client.run(requests, "attribute questions")
        fallback = TemplateBackend(self.client.seed)
        out: dict[str, AttributeOptions] = {}
        for index, label in enumerate(unique):
            answers: list[str] = []
            for result in results[index * self.per_label : (index + 1) * self.per_label]:
                if result.output is None:
                    reason = result.error or "no answer"
                    self.failures.append(AttributeFailure(COCO_MODALITY, label, reason))
                    continue
                question = result.output.question  # type: ignore[attr-defined]
                if question.lower() not in {a.lower() for a in answers}:
                    answers.append(question)
            if answers:
                out[label] = AttributeOptions(answers, self.client.provenance(template))
            else:
                self.fallback_labels.add(label)
                questions = fallback.questions_for(COCO_MODALITY, label, 1)
                out[label] = AttributeOptions(questions, "template (llm failed)")
        return out

    def summary(self) -> dict:
        """For the manifest: requests made, cache hits, tokens, failures."""
        stats = self.client.stats.as_dict()
        stats["prompt_id"] = PROMPT_ID
        stats["unique_labels"] = self.labels
        stats["requests_per_label"] = self.per_label
        stats["failed_requests"] = [{"label": f.label, "reason": f.reason} for f in self.failures]
        stats["labels_on_templates"] = sorted(self.fallback_labels)
        return stats


def template_attribute_source(seed: int = 0) -> CocoAttributeSource:
    """The offline source: no model, no cache."""
    return CocoAttributeSource(LLMClient(LLMSettings(backend="template"), seed=seed))
