"""Ask the LLM for descriptions, disease by disease, in rounds until each has enough.

Round k (k = 0, 1, ...) asks every disease still short for ``per_disease`` descriptions with the
same prompt and sampling seed ``seed + k``; only the seed differs between rounds, so each round
is a fresh sample and each answer has its own cache entry (a warm rebuild makes no calls).
New answers are checked one by one (``filters``) and distinct survivors are appended in
answer order until ``per_disease`` are kept. A disease stops early when a round answers but
adds nothing new (the model, or the offline templates, has no more to give). Whatever is
still missing after ``max_rounds`` is a shortfall: reported, never padded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from medbench.builders.dap_prompts.diseases import disease_terms
from medbench.builders.dap_prompts.filters import (
    clean,
    dedup_key,
    length_problem,
    location_words,
    mentions,
)
from medbench.llm.outputs import DiseaseDescriptions
from medbench.llm.runner import LLMClient, LLMRequest, LLMResult, LLMStats
from medbench.llm.structured import OutputProblem, parse_output
from medbench.prompts.templates import PromptTemplate

# Why a description was not kept (report/rejected.csv, manifest counts), besides
# filters.TOO_SHORT and filters.TOO_LONG.
LOCATION = "location_words"
NO_MENTION = "no_disease_mention"
DUPLICATE = "duplicate"
SURPLUS = "surplus"  # distinct and valid, but the disease already had per_disease

ENOUGH = "enough"
NO_NEW = "no new descriptions"
MAX_ROUNDS = "max rounds"


@dataclass(frozen=True)
class Rejection:
    disease: str
    round: int  # 1-based
    sampling_seed: int
    reason: str
    detail: str
    description: str


@dataclass
class DiseaseOutcome:
    disease: str
    kept: list[str] = field(default_factory=list)
    candidates: int = 0
    rounds: int = 0
    stopped: str = ""
    rejected: Counter = field(default_factory=Counter)
    salvaged_answers: int = 0  # wrong-count answers whose sentences were still used
    request_errors: list[str] = field(default_factory=list)

    def summary(self, wanted: int) -> dict:
        return {
            "kept": len(self.kept),
            "wanted": wanted,
            "candidates": self.candidates,
            "rejected": dict(sorted(self.rejected.items())),
            "rounds": self.rounds,
            "stopped": self.stopped,
            "salvaged_answers": self.salvaged_answers,
            "request_errors": self.request_errors,
        }


@dataclass
class Collected:
    outcomes: dict[str, DiseaseOutcome]
    rejections: list[Rejection]
    stats: LLMStats


def judge(
    text: str, disease: str, kept_keys: dict[str, int], kept: list[str]
) -> tuple[str, str] | None:
    """(reason, detail) when ``text`` cannot be kept for ``disease``; None when it can."""
    if problem := length_problem(text):
        return problem
    if found := location_words().matches(text):
        return LOCATION, ", ".join(found)
    terms = disease_terms(disease)
    if not mentions(text, terms):
        return NO_MENTION, "names none of: " + ", ".join(" ".join(t) for t in terms)
    key = dedup_key(text)
    if key in kept_keys:
        index = kept_keys[key]
        return DUPLICATE, f"same as #{index}: {kept[index]}"
    return None


def _descriptions(result: LLMResult, outcome: DiseaseOutcome) -> list[str]:
    """The sentences of one answer. An answer still failing the runner's count check after its
    repairs is used anyway: its sentences are real answers to the prompt, and every one is
    checked below; the count problem is recorded."""
    if result.output is not None:
        return list(result.output.descriptions)
    if result.raw:
        try:
            salvaged = parse_output(result.raw, DiseaseDescriptions, {})
        except OutputProblem:
            pass
        else:
            outcome.salvaged_answers += 1
            outcome.request_errors.append(f"used despite: {result.error}")
            return list(salvaged.descriptions)
    outcome.request_errors.append(str(result.error))
    return []


def collect(
    client: LLMClient,
    template: PromptTemplate,
    diseases: Sequence[str],
    per_disease: int,
    seed: int,
    max_rounds: int,
) -> Collected:
    outcomes = {d: DiseaseOutcome(d) for d in diseases}
    keys: dict[str, dict[str, int]] = {d: {} for d in diseases}
    rejections: list[Rejection] = []
    stats = LLMStats(client.settings.backend, client.settings.model_name)
    active = list(diseases)
    for round_index in range(max_rounds):
        if not active:
            break
        sampling_seed = seed + round_index
        requests = [
            LLMRequest.of(template, sampling={"seed": sampling_seed}, disease=d, count=per_disease)
            for d in active
        ]
        results = client.run(requests, stage=f"DAP descriptions, round {round_index + 1}")
        stats.add(client.last_stats)
        still_short = []
        for disease, result in zip(active, results, strict=True):
            outcome = outcomes[disease]
            outcome.rounds += 1
            answered = _descriptions(result, outcome)
            new = 0
            for raw in answered:
                outcome.candidates += 1
                text = clean(raw)
                verdict = judge(text, disease, keys[disease], outcome.kept)
                if verdict is None and len(outcome.kept) >= per_disease:
                    verdict = (SURPLUS, f"{per_disease} already kept")
                if verdict is not None:
                    reason, detail = verdict
                    outcome.rejected[reason] += 1
                    rejections.append(
                        Rejection(disease, round_index + 1, sampling_seed, reason, detail, text)
                    )
                    continue
                keys[disease][dedup_key(text)] = len(outcome.kept)
                outcome.kept.append(text)
                new += 1
            if len(outcome.kept) >= per_disease:
                outcome.stopped = ENOUGH
            elif answered and new == 0:
                outcome.stopped = NO_NEW
            else:
                outcome.stopped = MAX_ROUNDS
                still_short.append(disease)
        active = still_short
    return Collected(outcomes, rejections, stats)
