"""The offline fallback: answers from medbench's own question templates, no model at all.

Every row built from it says ``template`` in its provenance. It answers the outputs that
have a sensible template form; anything else is a recorded failure, never an invention.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from medbench.hashing import stable_hash
from medbench.llm.backend import Completion, Job
from medbench.llm.settings import TEMPLATE_MODEL
from medbench.prompts import load_prompt

ATTRIBUTE_TEMPLATES_FILE = "vgmed_attribute_templates.yaml"
COCO_MODALITY = "photo"  # the COCO prompt has no modality
_ALIASES = {"mri": "mr", "xray": "x-ray"}  # as the prompts name them

# DAP disease descriptions (paper 000, app. D) without a model: medbench's own sentence patterns,
# free of anatomical location words. There are fewer of them than the 50 a build asks for, so an
# offline build keeps what they give and reports the shortfall; it never pads.
DISEASE_DESCRIPTION_PATTERNS = (
    "Findings are consistent with {disease}.",
    "There is evidence of {disease}.",
    "The radiographic appearance suggests {disease}.",
    "The chest radiograph demonstrates {disease}.",
    "Imaging features are compatible with {disease}.",
    "Appearances are in keeping with {disease}.",
    "There are radiographic signs of {disease}.",
    "The radiograph is suggestive of {disease}.",
    "Features of {disease} are present.",
    "Chest X-ray findings indicate {disease}.",
)


class TemplateBackend:
    name = "template"
    model = TEMPLATE_MODEL

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.templates: dict[str, list[str]] = load_prompt(ATTRIBUTE_TEMPLATES_FILE).yaml()

    async def aclose(self) -> None:
        return None

    async def stream(self, jobs: list[Job]) -> AsyncIterator[tuple[int, Completion]]:
        for index, job in enumerate(jobs):
            yield index, self.answer(job)

    def questions_for(self, modality: str, label: str, count: int) -> list[str]:
        lowered = {k.lower(): v for k, v in self.templates.items()}
        key = _ALIASES.get(modality.lower(), modality.lower())
        if key not in lowered:
            raise KeyError(f"no attribute templates for modality {modality!r}")
        pool = lowered[key]
        order = sorted(pool, key=lambda t: stable_hash(self.seed, modality, label, t))
        return [t.format(label=label) for t in order[:count]]

    def descriptions_for(self, disease: str, count: int) -> list[str]:
        """Up to ``count`` distinct pattern sentences, in a seeded order."""
        order = sorted(
            DISEASE_DESCRIPTION_PATTERNS, key=lambda p: stable_hash(self.seed, disease, p)
        )
        return [p.format(disease=disease) for p in order[:count]]

    def answer(self, job: Job) -> Completion:
        try:
            return self._answer(job)
        except KeyError as exc:
            return Completion(error=str(exc.args[0]))

    def _answer(self, job: Job) -> Completion:
        variables = job.variables
        if job.output == "attribute_questions":
            modality = str(variables.get("modality", "CT"))
            body = {"questions": self.questions_for(modality, str(variables["label"]), 3)}
        elif job.output == "attribute_question":
            body = {"question": self.questions_for(COCO_MODALITY, str(variables["label"]), 1)[0]}
        elif job.output == "disease_descriptions":
            disease, count = str(variables["disease"]), int(variables["count"])
            body = {"descriptions": self.descriptions_for(disease, count)}
        else:
            return Completion(error=f"the template backend cannot answer {job.output!r}")
        return Completion(json.dumps(body), {})
